"""The emulator: an HTTP server on 127.0.0.1 in a thread, and the Python API tests drive it with."""

from __future__ import annotations

import collections
import copy
import json
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ..common import CONTROL_PREFIX, Answer, Fault, LoopbackEmulator, RequestHandler
from . import admin, gmail, grants, groups, licensing, transfers, users  # noqa: F401  (they register their handlers)
from . import batch as batchwire
from . import fields as fieldmask
from .auth import Identity, readme_delegation
from .common import HANDLERS, Call, ReportSchedule, render_member
from .discovery import Catalog, Match, check_body, parse_params
from .errors import (
    HTML_UNAVAILABLE,
    ApiError,
    bad_request,
    html_not_found,
    not_found,
    rate_limit,
    reason_phrase,
    user_rate_limit,
)
from .state import Member, Store, rfc3339

JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8", "Vary": "Origin, X-Origin, Referer"}
# Each API's batch endpoint, as the path on its real host: a batch takes calls to that API only.
# (licensing.googleapis.com/batch is the bare /batch; the Admin APIs share admin.googleapis.com.)
BATCH_APIS = {"/batch/admin/directory_v1": "directory", "/batch/admin/directory/v1": "directory",
              "/batch/admin/datatransfer_v1": "datatransfer", "/batch/admin/reports_v1": "reports",
              "/batch": "licensing"}
_CATALOG: Catalog | None = None
# The 5xx answers of the Directory API, by status (reason, message).
SERVER_ERRORS = {500: ("backendError", "Backend Error"), 502: ("badGateway", "Bad Gateway"),
                 503: ("backendError", "The service is currently unavailable."),
                 504: ("backendError", "Deadline exceeded")}
# A read of one user, group or membership (what an eventual-consistency 404 can meet).
ONE_OBJECT = re.compile(r"^/+admin/directory/v1/(?P<kind>users|groups)/[^/]+(?P<member>/members/[^/]+)?$")


def catalog() -> Catalog:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = Catalog()
    return _CATALOG


class _Handler(RequestHandler):
    """Google's front end (ESF) names itself in ``Server`` and words every status."""

    server_version = "ESF"
    sys_version = ""

    def reason(self, status: int) -> str | None:
        return reason_phrase(status)


class GoogleEmulator(LoopbackEmulator[ApiError]):
    """A loopback emulator of the Google Workspace Admin APIs for google-api-python-client.

    ``start()`` serves it on ``url``; the other methods read and set its state directly.
    """

    thread_name = "google-emulator"
    url_path = "/"
    handler_class = _Handler
    stats_counters = ("quota_rejections", "batches")
    reset_answer = (200, {})
    unavailable_html = HTML_UNAVAILABLE

    def __init__(self, *, customer_id: str = "C01abc234", domains: Sequence[str] = ("acme.com",),
                 domain_aliases: Mapping[str, str] | None = None,
                 skus: Mapping[str, int | None] | None = None,
                 latency_ms: float = 0, quota_per_minute: int | None = None,
                 consistency_delay_s: float = 0, batch_seed: int | None = 0,
                 transfer_delay_s: float = 0, quota_window_s: float = 60.0,
                 visibility_delay_s: float = 0, clock: Callable[[], float] = time.monotonic,
                 default_license: str | None = None, delegation: Collection[str] | None = None,
                 anonymous: bool = True, call_run_s: float = 0, read_run_s: float | None = None,
                 advance: Callable[[float], None] = time.sleep) -> None:
        super().__init__(latency_ms=latency_ms)
        self._config = (customer_id, tuple(domains), dict(domain_aliases or {}),
                        dict(skus if skus is not None else {"Google-Apps/1010020028": None}))
        self.quota_per_minute = quota_per_minute
        # The quota's "minute": tests shorten it so a 1,200-a-minute quota is felt in seconds.
        self.quota_window_s = quota_window_s
        # Right after an insert, mutations of the new user are refused ("User creation is not
        # complete") for consistency_delay_s, and lookups of a new user or group by key answer
        # 404 for visibility_delay_s; both measured on `clock`, which tests replace to go fast.
        self.consistency_delay_s = consistency_delay_s
        self.visibility_delay_s = visibility_delay_s
        self.clock = clock
        # How long each call takes to run, one after the other (a batch's calls too): time passes by
        # `advance` (a test's fake clock moves; by default, real time), and each call meets the
        # quota when it runs, as Google counts a batch's calls: one by one, not when it arrived.
        # A read (GET) takes `read_run_s` when given: a create runs far longer than a lookup.
        self.call_run_s = call_run_s
        self.read_run_s = call_run_s if read_run_s is None else read_run_s
        self.advance = advance
        # Automatic licensing: a new user gets this "product/sku" (if a seat is free).
        self.default_license = default_license
        self.transfer_delay_s = transfer_delay_s
        # The scopes domain-wide delegation grants (default: the README's list); tokens survive reset().
        self.identity = Identity(frozenset(delegation) if delegation is not None else readme_delegation(),
                                 anonymous=anonymous)
        self.batch_seed = batch_seed
        # When the Reports API has usage data (tests pin `today` and move the lag).
        self.reports = ReportSchedule()
        self.reset()

    def reset(self) -> None:
        """Back to the initial tenant (domains, system roles, SKUs), with empty statistics."""
        customer_id, domains, aliases, skus = self._config
        with self._lock:
            self.store = Store(customer_id, domains, aliases, skus)
            self._window: collections.deque[float] = collections.deque()
            self._rng = random.Random(self.batch_seed)
            super().reset()

    # --------------------------------------------------------------------------- faults

    def _fault_error(self, status: int, code: str, message: str) -> ApiError:
        """``fail_next``'s ``code`` is Google's ``reason`` (``backendError``, ``invalid``, ...)."""
        return ApiError(status, code, message)

    def _error_answer(self, fault: Fault) -> Answer:
        if fault.reason == "throttle":
            error = rate_limit()
            error.headers["Retry-After"] = str(fault.retry_after)
        elif fault.reason == "rate-limit":
            error = user_rate_limit()
        else:
            reason, message = SERVER_ERRORS.get(fault.status, ("backendError", "Backend Error"))
            error = ApiError(fault.status, reason, message)
        return _error_answer(error)

    def fault_answer(self, fault: Fault, method: str, target: str) -> Answer:
        """The token endpoint words its errors as OAuth 2.0 does (RFC 6749 5.2), not as the APIs do."""
        if fault.kind == "error" and target.partition("?")[0].lstrip("/") == "token":
            status, error = (fault.status, "internal_failure") if fault.reason == "server" else \
                (429, "rate_limit_exceeded")
            headers = {**JSON_HEADERS, **({"Retry-After": str(fault.retry_after)} if status == 429 else {})}
            body = {"error": error, "error_description": "try again later"}
            return Answer(status, headers, json.dumps(body).encode())
        return super().fault_answer(fault, method, target)

    def _reads_one(self, method: str, target: str) -> bool:
        return method == "GET" and ONE_OBJECT.match(target.partition("?")[0]) is not None

    def _not_found_answer(self, method: str, target: str) -> Answer:
        match = ONE_OBJECT.match(target.partition("?")[0])
        assert match is not None
        return _error_answer(not_found("memberKey" if match["member"] else
                                       "userKey" if match["kind"] == "users" else "groupKey"))

    @property
    def delegation(self) -> frozenset[str]:
        return self.identity.delegation

    @delegation.setter
    def delegation(self, scopes: Collection[str]) -> None:
        """Grant exactly these scopes from now on (tokens minted before keep theirs)."""
        with self._lock:
            self.identity.delegation = frozenset(scopes)

    def token_requests(self, endpoint: str = "oauth2") -> list[dict[str, Any]]:
        """The form of every request to a token endpoint (oauth2, sts) or to signJwt (iamcredentials)."""
        with self._lock:
            return [dict(r) for r in self.identity.requests if r["endpoint"] == endpoint]

    def throttle_next(self, count: int) -> None:
        """Answer the next ``count`` calls with 429 rateLimitExceeded."""
        with self._lock:
            self._faults.throttles += count

    # --------------------------------------------------------------------------- direct state access

    def add_user(self, primary_email: str, given: str, family: str, **fields: Any) -> dict[str, Any]:
        """Create a user directly (no HTTP, no creation delay). ``fields`` are User fields in API spelling;
        ``aliases`` registers aliases and ``isAdmin=True`` makes a super admin."""
        with self._lock:
            store = self.store
            fields = dict(fields)
            is_admin = bool(fields.pop("isAdmin", False))
            addresses = [primary_email, *fields.get("aliases", [])]
            for address in addresses:
                if store.owner(address) is not None:
                    raise ValueError(f"address already in use: {address}")
            if not store.orgunit_exists(fields.get("orgUnitPath", "/")):
                raise ValueError(f"no such org unit: {fields['orgUnitPath']}")
            fields["aliases"] = [a.lower() for a in fields.get("aliases", [])]
            fields.setdefault("password", "emulator-password")
            user = store.create_user({**fields, "primaryEmail": primary_email,
                                      "name": {"givenName": given, "familyName": family}})
            if is_admin:
                self._assign_super_admin(user["id"])
            return copy.deepcopy(user)

    def _assign_super_admin(self, user_id: str) -> None:
        seed = self.store.role_named("_SEED_ADMIN_ROLE")
        assert seed is not None
        assignment_id = self.store.new_id()
        self.store.role_assignments[assignment_id] = {"roleAssignmentId": assignment_id, "roleId": seed["roleId"],
                                                      "assignedTo": user_id, "assigneeType": "user",
                                                      "scopeType": "CUSTOMER"}
        self.store.sync_admin_flag(user_id)

    def add_group(self, email: str, name: str = "", **fields: Any) -> dict[str, Any]:
        with self._lock:
            for address in [email, *fields.get("aliases", [])]:
                if self.store.owner(address) is not None:
                    raise ValueError(f"address already in use: {address}")
            return copy.deepcopy(self.store.create_group({**fields, "email": email, "name": name}))

    def add_member(self, group_email: str, member_email: str, role: str = "MEMBER") -> None:
        with self._lock:
            store = self.store
            group = store.group_by_key(group_email)
            if group is None:
                raise ValueError(f"no such group: {group_email}")
            owner = store.owner(member_email)
            if owner is None:
                if store.is_internal(member_email):
                    raise ValueError(f"no such user or group: {member_email}")
                member = Member(role=role, ref=None, kind="USER", external=member_email.lower())
            else:
                member = Member(role=role, ref=owner[1], kind=owner[0].upper())
            store.members[group["id"]][store.member_key(member.kind, member.ref, member.external)] = member

    def add_whole_customer(self, group_email: str, role: str = "MEMBER") -> None:
        """Make everyone in the organisation a member (members.list shows type CUSTOMER, no address)."""
        with self._lock:
            group = self.store.group_by_key(group_email)
            if group is None:
                raise ValueError(f"no such group: {group_email}")
            member = Member(role=role, ref=self.store.customer_id, kind="CUSTOMER")
            self.store.members[group["id"]][self.store.customer_id] = member

    def add_orgunit(self, path: str, description: str = "") -> None:
        """Create an org unit (and any missing parents) at an absolute path such as ``/Sales/EMEA``."""
        with self._lock:
            parent = "/"
            parts = [p for p in path.split("/") if p]
            for index, name in enumerate(parts):
                here = "/" + "/".join(parts[: index + 1])
                if not self.store.orgunit_exists(here):
                    self.store.create_orgunit(parent, name, description if index == len(parts) - 1 else "")
                parent = here

    def set_seats(self, sku: str, seats: int | None) -> None:
        """Seats of a ``product/sku`` (None: unlimited); adds the SKU to the subscription if new."""
        with self._lock:
            self.store.seats[sku] = seats

    def set_gmail(self, email: str, *, auto_forwarding: dict[str, Any] | None = None,
                  filters: list[dict[str, Any]] | None = None, delegates: list[dict[str, Any]] | None = None) -> None:
        """Plant a mailbox's Gmail settings, as the person (or an attacker) set them in Gmail."""
        with self._lock:
            settings = self.store.gmail.setdefault(email.lower(), {})
            if auto_forwarding is not None:
                settings["autoForwarding"] = auto_forwarding
            if filters is not None:
                settings["filters"] = filters
            if delegates is not None:
                settings["delegates"] = delegates

    def set_app_grants(self, email: str, *, tokens: list[dict[str, Any]] | None = None,
                       asps: list[dict[str, Any]] | None = None) -> None:
        """Plant a user's OAuth tokens (clientId, displayText, scopes, ...) and app passwords (codeId,
        name, creationTime, lastTimeUsed), as the person (or an intruder) issued them."""
        with self._lock:
            user = self.store.user_by_key(email.lower())
            if user is None:
                raise ValueError(f"no user {email!r}")
            grants = self.store.app_grants.setdefault(user["id"], {"tokens": [], "asps": []})
            if tokens is not None:
                grants["tokens"] = [{"kind": "admin#directory#token", "userKey": user["id"], **t} for t in tokens]
            if asps is not None:
                grants["asps"] = [{"kind": "admin#directory#asp", "userKey": user["id"], **a} for a in asps]

    def app_grants(self, email: str) -> dict[str, list[dict[str, Any]]]:
        """A user's OAuth tokens and app passwords as the emulator holds them now."""
        user = self.store.user_by_key(email.lower())
        assert user is not None, email
        return self.store.app_grants.get(user["id"], {"tokens": [], "asps": []})

    def gmail_settings(self, email: str) -> dict[str, Any]:
        """A mailbox's Gmail settings as the emulator holds them now."""
        return self.store.gmail.get(email.lower(), {})

    def set_group_settings(self, email: str, **settings: str) -> None:
        """Plant a group's Groups Settings (whoCanPostMessage="ALL_MEMBERS_CAN_POST", ...)."""
        from .gmail import GROUP_DEFAULTS

        with self._lock:
            group = self.store.group_by_key(email.lower())
            if group is None:
                raise ValueError(f"no group {email!r}")
            self.store.group_settings.setdefault(group["id"], dict(GROUP_DEFAULTS)).update(settings)

    def set_user_activity(self, email: str, *, last_login: str | float | None = None,
                          is_enrolled_2sv: bool | None = None, used_quota_mb: int | None = None,
                          quota_mb: int | None = None) -> None:
        """Figures the Directory (lastLoginTime, isEnrolledIn2Sv) and Reports API report for a user
        (accounts:used_quota_in_mb, accounts:total_quota_in_mb)."""
        with self._lock:
            user = self.store.user_by_key(email)
            if user is None:
                raise ValueError(f"no such user: {email}")
            if last_login is not None:
                user["lastLoginTime"] = rfc3339(last_login) if isinstance(last_login, float | int) else last_login
            if is_enrolled_2sv is not None:
                user["isEnrolledIn2Sv"] = is_enrolled_2sv
            if used_quota_mb is not None:
                self.store.activity.setdefault(user["id"], {})["used_quota_mb"] = used_quota_mb
            if quota_mb is not None:
                self.store.activity.setdefault(user["id"], {})["quota_mb"] = quota_mb

    def set_usage_history(self, email: str, days: dict[str, dict[str, int]]) -> None:
        """A user's figures per date (yyyy-mm-dd) in the Reports API's user usage report:
        used_quota_mb, num_emails_sent, num_emails_received (gmail:num_emails_sent, ...)."""
        with self._lock:
            user = self.store.user_by_key(email)
            if user is None:
                raise ValueError(f"no such user: {email}")
            self.store.usage_days[user["id"]] = {date: dict(figures) for date, figures in days.items()}

    def user(self, key: str) -> dict[str, Any] | None:
        """The stored user by address, alias or id (a deleted user by id), including its password fields."""
        with self._lock:
            found = self.store.user_by_key(key, deleted=True)
            return copy.deepcopy(found) if found is not None else None

    def group(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self.store.group_by_key(key)
            return copy.deepcopy(found) if found is not None else None

    def members(self, group_email: str) -> list[dict[str, Any]]:
        """The group's direct members as the API renders them (email, role, type, id, status), by email."""
        with self._lock:
            group = self.store.group_by_key(group_email)
            if group is None:
                raise ValueError(f"no such group: {group_email}")
            rendered = [render_member(self.store, m) for m in self.store.members[group["id"]].values()]
            for member in rendered:
                member.pop("kind")
                member.pop("etag")
            return sorted(rendered, key=lambda m: m.get("email", ""))

    def role_assignments(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(a) for a in self.store.role_assignments.values()]

    def licenses(self) -> list[dict[str, str]]:
        with self._lock:
            return sorted(({"productId": p, "skuId": s, "userId": self.store.users[u]["primaryEmail"]}
                           for p, s, u in self.store.licenses), key=lambda x: (x["productId"], x["skuId"], x["userId"]))

    # --------------------------------------------------------------------------- serving

    def handle_http(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """One HTTP request to the server: an API call, a batch, or an /_emulator/ control request."""
        # "/" + lstrip: a batch_uri written as f"{url}/batch" arrives as "//batch".
        path = "/" + target.partition("?")[0].lstrip("/")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path, dict(headers))
        if method == "POST":
            with self._lock:  # sign-in is no API call: not counted, not throttled
                reply = self.identity.serve(path, dict(headers), body)
            if reply is not None:
                return Answer(reply.status, dict(JSON_HEADERS), json.dumps(reply.payload).encode())
        self._arrive()
        if method == "POST" and (path == "/batch" or path.startswith("/batch/")):
            return self._batch(path, headers, body)
        return self.execute(method, target, body, headers.get("authorization"))

    def _json_answer(self, status: int, payload: Any, headers: dict[str, str]) -> Answer:
        return Answer(status, dict(JSON_HEADERS), json.dumps(payload).encode())

    def _control_not_found(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        return Answer(404, {"Content-Type": "text/html; charset=UTF-8"}, html_not_found(path))

    def _batch(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        api = BATCH_APIS.get(path)
        if api is None:
            return Answer(404, {"Content-Type": "text/html; charset=UTF-8"}, html_not_found(path))
        with self._lock:
            self._stats.counters["batches"] += 1
        try:
            parts = batchwire.parse(headers.get("content-type", ""), body)
        except batchwire.BatchFormatError as exc:
            return _error_answer(bad_request(f"Failed to parse batch request: {exc}"))
        if len(parts) > batchwire.MAX_PARTS:
            return _error_answer(bad_request(
                f"A batch request cannot contain more than {batchwire.MAX_PARTS} requests: {len(parts)} were sent."))
        with self._lock:
            order = list(range(len(parts)))
            self._rng.shuffle(order)  # a real batch has no order guarantee
        responses = []
        for index in order:
            part = parts[index]
            # A part's own Authorization wins; without one, the outer request's applies.
            answer = self.execute(part.method, part.target, part.body,
                                  part.headers.get("authorization", headers.get("authorization")), api=api)
            responses.append(batchwire.InnerResponse(part.content_id, answer.status, answer.headers, answer.body))
        content_type_out, payload = batchwire.serialize(responses)
        return Answer(200, {"Content-Type": content_type_out}, payload)

    def execute(self, method: str, target: str, body: bytes, authorization: str | None = None, *,
                api: str | None = None) -> Answer:
        """One API call (a plain request, or a part of a batch sent to `api`'s batch endpoint)."""
        raw_path, _, raw_query = target.partition("?")
        path = urllib.parse.unquote(raw_path)
        query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        run_s = self.read_run_s if method == "GET" else self.call_run_s
        if run_s:
            self.advance(run_s)
        with self._lock:
            match = catalog().match(method, raw_path)
            self._count(method, path, match, api)
            # A batch endpoint serves its own API: a call to another API in it is a path that API's
            # server does not have (Google: "All the inner requests must go to the same Google API").
            if match is None or (api is not None and match.method.id.partition(".")[0] != api):
                return Answer(404, {"Content-Type": "text/html; charset=UTF-8"}, html_not_found(raw_path))
            try:
                self.identity.check(authorization, match.method.api.name, match.method.scopes)
                self._admission(method, path)
                # The Gmail API acts as the token's subject (gmail.py checks it against userId).
                subject = self.identity.subject(authorization) if match.method.api.name == "gmail" else None
                return self._dispatch(match, query, body, subject)
            except ApiError as error:
                return _error_answer(error)

    def _count(self, method: str, path: str, match: Match | None, batch: str | None) -> None:
        key = f"{method} /{match.method.template}" if match else f"{method} {path}"
        self._stats.by_method[key] += 1
        # `batch`: the API whose batch endpoint the call came through (None: sent on its own).
        self._stats.log.append({"method": method, "path": path, "batch": batch})

    def _admission(self, method: str, path: str) -> None:
        """Throttling, injected faults and the per-minute quota, in that order."""
        if self._faults.take_throttle():
            raise rate_limit()
        fault = self._faults.take(method, path)
        if fault is not None:
            raise ApiError(fault.code, fault.reason, fault.message)
        if self.quota_per_minute is not None:
            now = self.clock()  # the quota's window runs on the emulator's clock (tests pass a fake)
            while self._window and now - self._window[0] >= self.quota_window_s:
                self._window.popleft()
            if len(self._window) >= self.quota_per_minute:
                self._stats.counters["quota_rejections"] += 1
                self._stats.log[-1]["refused"] = True  # this call's entry (_count, under the same lock)
                raise user_rate_limit()
            self._window.append(now)

    def _dispatch(self, match: Match, query: dict[str, list[str]], raw_body: bytes,
                  subject: str | None = None) -> Answer:
        params = parse_params(match, query)
        if subject is not None:
            params["_subject"] = subject
        mask_text = str(params.get("fields") or "")
        try:
            mask = fieldmask.parse(mask_text) if mask_text else None
        except fieldmask.MaskError:
            raise ApiError(400, "invalidParameter", f"Invalid field selection {mask_text}", location="fields") from None
        if mask is not None:
            fieldmask.check(match.method.api, match.method.response, mask, mask_text)
        body = check_body(match.method, raw_body)
        handler = HANDLERS.get(match.method.id)
        if handler is None:
            raise ApiError(501, "notImplemented", f"The emulator does not implement {match.method.id}.")
        call = Call(match.method, params, body, self.store, self.consistency_delay_s, self.transfer_delay_s,
                    now=self.clock(), reports=self.reports, visibility_delay_s=self.visibility_delay_s,
                    default_license=self.default_license)
        result = handler(call)
        if result.payload is None:
            return Answer(result.status, {}, b"")
        payload = fieldmask.apply(result.payload, mask)
        pretty = params.get("prettyPrint", True)
        text = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False)
        return Answer(result.status, dict(JSON_HEADERS), text.encode())


def _error_answer(error: ApiError) -> Answer:
    return Answer(error.code, {**JSON_HEADERS, **error.headers}, error.payload())

