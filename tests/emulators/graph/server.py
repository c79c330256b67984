"""The emulator: an HTTP server on 127.0.0.1 in a thread, and the Python API tests drive it with."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ..common import CONTROL_PREFIX, Answer, Fault, Faults, LoopbackEmulator
from . import (
    batch,
    core,
    delta,
    directory,
    errors,
    groups,
    mail,
    permissions,
    reports,
    schema,
    seed,
    throttle,
    users,
    wire,
)
from .core import Request, Response
from .errors import GraphError
from .permissions import DEFAULT_APP_ID, DEFAULT_PERMISSIONS, DEFAULT_ROLES, App
from .state import Store

ROUTE_MODULES = (users, groups, delta, directory, reports, mail)     # importing them registered their routes
BAD_JSON = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid " \
           "JSON format."


# The page Graph's gateway answers a 503 with, instead of Graph's JSON.
GATEWAY_PAGE = (b"<!DOCTYPE html>\r\n<html><head><title>503 Service Unavailable</title></head>\r\n"
                b"<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. "
                b"Please try again later.</p></body></html>\r\n")
# Graph's 5xx codes and messages, by status.
SERVER_ERRORS = {500: ("InternalServerError", "Internal server error."),
                 502: ("BadGateway", "Bad gateway."),
                 503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry."),
                 504: ("GatewayTimeout", "The gateway did not receive a response within the specified time.")}
# A read of one user or group (what an eventual-consistency 404 can meet).
ONE_OBJECT = re.compile(r"^/v1\.0/(users|groups)/[^/$]+$")


class GraphEmulator(LoopbackEmulator[GraphError]):
    """A loopback emulator of Microsoft Graph v1.0 for what a directory provider uses.

    ``start()`` serves it on ``url`` (the SDK's base URL is ``url + "/v1.0"``); the other methods
    read and set its state directly. Objects come back as Graph's camelCase JSON dicts.
    """

    thread_name = "graph-emulator"
    stats_counters = ("throttled", "batches", "double_slash", "resource_units", "peak_concurrent")
    unavailable_html = GATEWAY_PAGE

    def __init__(self, *, tenant_domain: str = "acme.com", domains: Sequence[str] = ("acme.com",),
                 skus: Mapping[str, int] | None = None, latency_ms: float = 0,
                 resource_units_per_10s: int | str | None = None, batch_seed: int | None = 0,
                 writes_per_150s: int | None = None, concurrent_requests: int | None = None,
                 consistency_delay_s: float = 0,
                 strict_paths: bool = False, clock: Callable[[], float] = time.time,
                 app_id: str = DEFAULT_APP_ID, permissions: Collection[str] = DEFAULT_PERMISSIONS,
                 directory_roles: Collection[str] = DEFAULT_ROLES) -> None:
        """``tenant_domain`` is the default domain (new groups get their address there);
        ``consistency_delay_s``: how long a new object cannot be found by key (404), measured on
        ``clock`` (inject one to let a test's sleeper move time instead of waiting);
        ``permissions`` and ``directory_roles``: what the calling app (``app_id``) was granted,
        by default exactly what the README asks for; ``resource_units_per_10s``: a number, None (no
        limit) or ``throttle.BY_TENANT_SIZE`` (Microsoft's documented budget for the users held)."""
        super().__init__(latency_ms=latency_ms)
        seats = dict(skus) if skus is not None else {"O365_BUSINESS_PREMIUM": 100}
        self._config = (tenant_domain, tuple(domains), seats)
        self._app_config = (app_id, frozenset(permissions), tuple(directory_roles))
        if isinstance(resource_units_per_10s, str) and resource_units_per_10s != throttle.BY_TENANT_SIZE:
            raise ValueError(f"resource_units_per_10s: a number, None or {throttle.BY_TENANT_SIZE!r}")
        self.resource_units_per_10s = resource_units_per_10s
        self.writes_per_150s = writes_per_150s
        # At most this many HTTP requests served at once (None: any number); past it, 429.
        self.concurrent_requests = concurrent_requests
        self.batch_seed = batch_seed
        self.consistency_delay_s = consistency_delay_s
        self.strict_paths = strict_paths
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Back to the initial tenant (domains, SKUs, Global Administrator role, the app's grants),
        with empty statistics."""
        tenant_domain, domains, skus = self._config
        with self._lock:
            self._clock_offset = 0.0
            self.store = Store(tenant_domain, domains, skus, self._now)
            self.store.visibility_delay_s = self.consistency_delay_s
            self.store.app = App.of(*self._app_config)
            self._throttle_retry_after = 1
            units = self.resource_units_per_10s  # (BY_TENANT_SIZE: set at each request, by the users held)
            self._budget = throttle.Budget(None if isinstance(units, str) else units, self.writes_per_150s)
            self._concurrency = throttle.Concurrency()
            self._rng = random.Random(self.batch_seed)
            self._fail_after: Faults[GraphError] = Faults()
            super().reset()

    def _now(self) -> float:
        return self._clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the tenant's clock forward (e.g. 31 days, to see deleted users purged)."""
        with self._lock:
            self._clock_offset += seconds

    # --------------------------------------------------------------------------- statistics and faults
    # calls() are the paths below /v1.0, including the requests inside batches; call_log() adds
    # their query options, JSON body, status and whether they came inside a ``$batch``.

    def downloads(self) -> int:
        """Report files fetched from the download URLs reports redirect to (not Graph calls)."""
        with self._lock:
            return self._stats.counters["downloads"]

    def _fault_error(self, status: int, code: str, message: str) -> GraphError:
        return GraphError(status, code, message)

    def throttle_next(self, count: int, retry_after: int = 1) -> None:
        """The next ``count`` calls (a ``$batch`` envelope is not one; its requests are) get 429."""
        with self._lock:
            self._faults.throttles = count
            self._throttle_retry_after = retry_after

    def fail_after_next(self, method: str, path_regex: str, status: int = 504, code: str = "GatewayTimeout",
                        message: str = "The gateway did not receive a response within the specified time.",
                        count: int = 1) -> None:
        """Carry out the next ``count`` matching calls (inside a batch or not), then answer each with
        this error instead of its result: Graph's front end timing out on a write the directory made."""
        with self._lock:
            self._fail_after.add(method, path_regex, GraphError(status, code, message), count)

    # --------------------------------------------------------------------------- the calling app's grants

    @property
    def app(self) -> App:
        """The app every request comes from: ``permissions`` (application permissions granted with
        admin consent) and ``roles`` (directory role template ids on its service principal)."""
        return self.store.app

    def revoke(self, permission: str) -> None:
        """Take an application permission from the app (as if consent had never been granted)."""
        with self._lock:
            self.store.app.permissions.discard(permission)

    def grant(self, permission: str) -> None:
        with self._lock:
            self.store.app.permissions.add(permission)

    def remove_app_role(self, role: str) -> None:
        """Unassign a directory role (display name or template id) from the app."""
        with self._lock:
            self.store.app.roles.discard(seed.role_named(role).template_id)

    def add_app_role(self, role: str) -> None:
        with self._lock:
            self.store.app.roles.add(seed.role_named(role).template_id)

    # --------------------------------------------------------------------------- state, the Python way

    def add_user(self, upn: str, display_name: str, **props: Any) -> dict[str, Any]:
        """Create a user directly (no HTTP, no statistics). ``props`` are Graph property names, plus
        ``licenses`` (skuPartNumbers, skuIds or ``{"skuId", "disabledPlans"}``), ``manager`` (a user
        key) and ``password``. The tenant's rules apply: they raise ``GraphError`` as the API would."""
        with self._lock:
            licenses = props.pop("licenses", [])
            manager = props.pop("manager", None)
            password = props.pop("password", "Emulator-Pa55word!")
            self._check_names("user", props)
            users.check_upn(self.store, upn)
            fields = {"accountEnabled": True, "mailNickname": upn.split("@")[0],
                      "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": False}, **props}
            user = self.store.create_user({"userPrincipalName": upn, "displayName": display_name, **fields})
            self.store.created_at[user["id"]] = 0.0
            if licenses:
                self.store.assign_licenses(user, [_licence(item) for item in licenses], [])
            if manager is not None:
                users.set_manager(self.store, user, manager)
            return copy.deepcopy(user)

    def add_group(self, display_name: str, mail_nickname: str, *, unified: bool = True, **props: Any) -> dict[str, Any]:
        """Create a group directly. ``unified`` makes a Microsoft 365 group; otherwise a security
        group, or (with ``mailEnabled=True``) a distribution list / mail-enabled security group,
        which Graph then treats as read-only. ``members`` and ``owners`` take object keys."""
        with self._lock:
            members = props.pop("members", [])
            owners = props.pop("owners", [])
            self._check_names("group", props)
            fields: dict[str, Any] = {"displayName": display_name, "mailNickname": mail_nickname,
                                      "groupTypes": ["Unified"] if unified else [], "mailEnabled": unified,
                                      "securityEnabled": not unified, **props}
            group = self.store.create_group(fields)
            self.store.created_at[group["id"]] = 0.0
            for relation, keys in (("owners", owners), ("members", members)):
                for key in keys:
                    self.store.links[group["id"]][relation].append(self._object_id(key))
            return copy.deepcopy(group)

    def add_member(self, group_id: str, object_id: str) -> None:
        self._add_link(group_id, "members", object_id)

    def add_owner(self, group_id: str, object_id: str) -> None:
        self._add_link(group_id, "owners", object_id)

    def assign_role(self, role: str, principal: str) -> None:
        """Give ``principal`` (a user key) a built-in role, named by display name or template id."""
        with self._lock:
            found = next((r for r in seed.ROLE_TEMPLATES if role in (r.display_name, r.template_id)), None)
            if found is None:
                raise ValueError(f"unknown role {role!r}")
            self.store.assign_role(found.template_id, self._object_id(principal))

    def set_user_activity(self, address: str, *, last_sign_in: str | dt.datetime | None = None,
                          mfa_registered: bool | None = None, used_mb: int | None = None,
                          quota_mb: int | None = None) -> None:
        """Figures the tenant reports for a user: ``signInActivity`` (an interactive, successful
        sign-in at ``last_sign_in``), ``isMfaRegistered`` in the registration report, and a
        mailbox in the mailbox usage report (``used_mb`` of a ``quota_mb`` Prohibit Send/Receive
        quota, 50 GB unless given). A user never given ``last_sign_in`` never signed in."""
        with self._lock:
            user = self.store.find_user(address)
            if user is None:
                raise ValueError(f"no user {address!r}")
            if last_sign_in is not None:
                when = last_sign_in if isinstance(last_sign_in, str) else \
                    last_sign_in.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                user["signInActivity"] = {
                    "lastSignInDateTime": when, "lastSignInRequestId": str(uuid.uuid4()),
                    "lastNonInteractiveSignInDateTime": None, "lastNonInteractiveSignInRequestId": None,
                    "lastSuccessfulSignInDateTime": when, "lastSuccessfulSignInRequestId": str(uuid.uuid4())}
            if mfa_registered is not None:
                self.store.mfa_registered[user["id"]] = mfa_registered
            if used_mb is not None or quota_mb is not None:
                used, quota = self.store.mailboxes.get(user["id"], (0, reports.DEFAULT_QUOTA))
                self.store.mailboxes[user["id"]] = (used if used_mb is None else used_mb * 1024**2,
                                                    quota if quota_mb is None else quota_mb * 1024**2)

    def set_email_activity(self, address: str, periods: dict[str, tuple[int, int]]) -> None:
        """Mails (sent, received) a user's row in the email activity report gives per period
        (D7, D30, D90, D180; a period not given: none)."""
        with self._lock:
            user = self.store.find_user(address)
            if user is None:
                raise ValueError(f"no user {address!r}")
            self.store.email_activity[user["id"]] = dict(periods)

    def set_message_rules(self, address: str, rules: list[dict[str, Any]]) -> None:
        """Plant a mailbox's inbox rules (messageRule objects), as the person (or an attacker) made them."""
        with self._lock:
            user = self.store.find_user(address)
            if user is None:
                raise ValueError(f"no user {address!r}")
            self.store.message_rules[user["id"]] = [
                {"id": rule.get("id", str(uuid.uuid4())), "sequence": index + 1, "isEnabled": True,
                 "hasError": False, "isReadOnly": False, "conditions": {}, **rule} for index, rule in enumerate(rules)]

    def add_sign_in(self, address: str, when: dt.datetime, ip: str, country: str, city: str = "",
                    client: str = "Browser") -> None:
        """One successful interactive sign-in in the tenant's sign-in log."""
        with self._lock:
            user = self.store.find_user(address)
            if user is None:
                raise ValueError(f"no user {address!r}")
            self.store.sign_ins.append({
                "id": str(uuid.uuid4()), "createdDateTime": when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "userDisplayName": user.get("displayName"), "userPrincipalName": user["userPrincipalName"],
                "userId": user["id"], "appDisplayName": "Office 365 Exchange Online", "ipAddress": ip,
                "clientAppUsed": client, "isInteractive": True, "status": {"errorCode": 0},
                "location": {"city": city, "state": "", "countryOrRegion": country}})

    @property
    def premium(self) -> bool:
        """Whether the tenant has Entra ID P1/P2; without, signInActivity and the MFA registration
        report are refused with 403 (back to True on reset)."""
        return self.store.premium

    @premium.setter
    def premium(self, value: bool) -> None:
        with self._lock:
            self.store.premium = value

    @property
    def conceal_report_names(self) -> bool:
        """The admin center's "Display concealed user, group, and site names in all reports"."""
        return self.store.conceal_report_names

    @conceal_report_names.setter
    def conceal_report_names(self, value: bool) -> None:
        with self._lock:
            self.store.conceal_report_names = value

    def user(self, key: str) -> dict[str, Any] | None:
        """A live user by id or userPrincipalName."""
        with self._lock:
            found = self.store.users.get(key) or next(
                (u for u in self.store.users.values() if u["userPrincipalName"].lower() == key.lower()), None)
            return copy.deepcopy(found)

    def group(self, key: str) -> dict[str, Any] | None:
        """A live group by id, mail or mailNickname."""
        with self._lock:
            found = self.store.groups.get(key) or next(
                (g for g in self.store.groups.values()
                 if key.lower() in ((g.get("mail") or "").lower(), g["mailNickname"].lower())), None)
            return copy.deepcopy(found)

    def members(self, group_id: str) -> list[dict[str, Any]]:
        return self._related(group_id, "members")

    def owners(self, group_id: str) -> list[dict[str, Any]]:
        return self._related(group_id, "owners")

    def manager_of(self, user_key: str) -> dict[str, Any] | None:
        with self._lock:
            user = self.user(user_key)
            boss = self.store.manager.get(user["id"]) if user else None
            return copy.deepcopy(self.store.users.get(boss)) if boss else None

    def deleted_users(self) -> list[dict[str, Any]]:
        with self._lock:
            self.store.purge_expired()
            return [copy.deepcopy(d.obj) for d in self.store.deleted.values() if d.kind == "user"]

    def created_without_owners(self) -> list[dict[str, Any]]:
        """Groups the API created without ``owners@odata.bind``: anonymous, with no owner to manage
        them and (Microsoft 365 groups) no SharePoint site until someone steps in."""
        with self._lock:
            return [copy.deepcopy(self.store.groups[gid]) for gid in self.store.created_ownerless
                    if gid in self.store.groups]

    def license_gaps(self) -> list[str]:
        """userPrincipalNames that an assignLicense call left without any licence (in order; a
        leaver losing the last one is meant, a profile change is a window without mail)."""
        with self._lock:
            return [self.store.users[uid]["userPrincipalName"] for uid in self.store.license_gaps
                    if uid in self.store.users]

    def licenses_of(self, user_key: str) -> list[str]:
        """The skuPartNumbers a live user holds."""
        with self._lock:
            user = self.user(user_key)
            return self.store.sku_part_numbers(user) if user else []

    def seats(self) -> dict[str, tuple[int, int]]:
        """skuPartNumber -> (enabled, consumed)."""
        with self._lock:
            return {sku.part_number: (count, self.store.consumed(sku_id))
                    for sku_id, count in self.store.seats.items() if (sku := seed.sku_by_id(sku_id))}

    def _check_names(self, model: str, props: Mapping[str, Any]) -> None:
        unknown = sorted(set(props) - schema.fields(model))
        if unknown:
            raise ValueError(f"not {model} properties: {', '.join(unknown)}")

    def _object_id(self, key: str) -> str:
        found = self.user(key) or self.group(key)
        if found is None:
            raise ValueError(f"no user or group {key!r}")
        return str(found["id"])

    def _add_link(self, group_key: str, relation: str, object_key: str) -> None:
        with self._lock:
            group = self.group(group_key)
            if group is None:
                raise ValueError(f"no group {group_key!r}")
            ids = self.store.links[group["id"]][relation]
            object_id = self._object_id(object_key)
            if object_id not in ids:
                ids.append(object_id)
                self.store.record("group", group["id"], "member+" if relation == "members" else "updated",
                                  object_id)

    def _related(self, group_key: str, relation: str) -> list[dict[str, Any]]:
        with self._lock:
            group = self.group(group_key)
            if group is None:
                raise ValueError(f"no group {group_key!r}")
            ids = self.store.links[group["id"]][relation]
            return [copy.deepcopy(self.store.users.get(oid) or self.store.groups[oid]) for oid in ids]

    # --------------------------------------------------------------------------- serving

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """One HTTP request: control endpoints, or a Graph answer with Graph's headers."""
        split = urllib.parse.urlsplit(target)
        if split.path.startswith(CONTROL_PREFIX):
            return self._control(method, split.path, headers)
        return wire.encode(self._respond(method, split, headers, body), headers)

    def _json_answer(self, status: int, payload: Any, headers: dict[str, str]) -> Answer:
        return wire.encode(Response(status, payload), headers)

    def _respond(self, method: str, split: urllib.parse.SplitResult, headers: dict[str, str],
                 raw: bytes) -> Response:
        """A report download, ``$batch``, or one API call."""
        if split.path.startswith(reports.DOWNLOAD_PREFIX) and method == "GET":
            with self._lock:  # a report file: no version, no credentials, not a Graph call
                self._stats.requests += 1
                self._stats.counters["downloads"] += 1
                return reports.download(self.store, split.path.removeprefix(reports.DOWNLOAD_PREFIX))
        with self._lock:
            admitted = self._concurrency.enter(self.concurrent_requests)
            self._stats.counters["peak_concurrent"] = self._concurrency.peak
        if not admitted:
            with self._lock:
                self._stats.requests += 1
                self._stats.counters["throttled"] += 1
            return _error(errors.too_many_requests(1, self._scope(), "ConcurrencyLimitExceeded"), headers)
        try:
            self._arrive()  # the latency: requests side by side overlap here
            with self._lock:
                try:
                    request = self._request(method, split.path, split.query, headers, raw)
                except GraphError as error:
                    return _error(error, headers)
                if request.path == "/$batch":
                    return self._batch(request)
                return self._call(request, in_batch=False)
        finally:
            with self._lock:
                self._concurrency.leave()

    def _request(self, method: str, path: str, query: str, headers: dict[str, str], body: Any,
                 *, parsed: bool = False) -> Request:
        if "//" in path:
            if self.strict_paths:
                raise errors.segment_not_found("")
            self._stats.counters["double_slash"] += 1
            path = re.sub("/{2,}", "/", path)
        segments = [urllib.parse.unquote(segment) for segment in path.split("/")[1:]]
        if not segments or segments[0] != "v1.0":
            raise errors.invalid_version()
        if not parsed:
            body = _json_body(body)
        options = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        return Request(method.upper(), "/" + "/".join(segments[1:]), options, headers, body, f"{self.url}/v1.0")

    def _batch(self, request: Request) -> Response:
        self._stats.counters["batches"] += 1
        self._stats.by_method["POST /$batch"] += 1
        if request.method != "POST":
            return _error(errors.method_not_allowed(), request.headers)
        try:
            steps = batch.parse(request.body)
        except GraphError as error:
            return _error(error, request.headers)
        return batch.run(steps, self._rng, lambda step: self._step(step, request.headers))

    def _step(self, step: batch.Step, outer_headers: dict[str, str]) -> Response:
        url = urllib.parse.urlsplit(step.url)
        path = url.path if url.scheme else "/v1.0/" + url.path.lstrip("/")
        try:
            inner = self._request(step.method, path, url.query, step.headers, batch.body_of(step), parsed=True)
        except GraphError as error:
            return _error(error, step.headers)
        return self._call(inner, in_batch=True)

    def _call(self, request: Request, *, in_batch: bool) -> Response:
        entry = {"method": request.method, "path": request.path, "query": dict(request.query), "status": 0,
                 "in_batch": in_batch, "body": copy.deepcopy(request.body)}
        self._stats.log.append(entry)
        response = self._answer(request)
        after = self._fail_after.take(request.method, request.path) if response.status < 400 else None
        if after is not None:  # carried out, but the answer that says so is an error
            response = _error(after, request.headers)
        entry["status"] = response.status
        if response.status == 429:
            self._stats.counters["throttled"] += 1
        return response

    def _answer(self, request: Request) -> Response:
        try:
            found, params = core.find(request.method, request.path)
            self._stats.by_method[f"{request.method} {found.template}"] += 1
        except GraphError as error:
            self._stats.by_method[f"{request.method} {request.path}"] += 1
            return self._injected(request) or _error(error, request.headers)
        injected = self._injected(request)
        if injected is not None:
            return injected
        try:
            permissions.check(self.store.app, request.method, found.template)
        except GraphError as error:
            return _error(error, request.headers)
        units = throttle.cost(found.cost, request.query)
        if self.resource_units_per_10s == throttle.BY_TENANT_SIZE:
            self._budget.units.budget = throttle.documented_units_per_10s(len(self.store.users))
        wait = self._budget.admit(self._now(), request.method, units)
        if wait:
            return _error(errors.too_many_requests(wait, self._scope()), request.headers)
        self._stats.counters["resource_units"] += units
        try:
            response = found.handler(self.store, request, **params)
        except GraphError as error:
            response = _error(error, request.headers)
        response.headers["x-ms-resource-unit"] = str(units)
        share = self._budget.percentage(self._now())
        if share is not None:
            response.headers["x-ms-throttle-limit-percentage"] = f"{share:.1f}"
        return response

    def _injected(self, request: Request) -> Response | None:
        """A throttle_next or fail_next answer, if one is due for this call."""
        if self._faults.take_throttle():
            return _error(errors.too_many_requests(self._throttle_retry_after, self._scope()), request.headers)
        fault = self._faults.take(request.method, request.path)
        return _error(fault, request.headers) if fault is not None else None

    def _calls_of(self, method: str, path: str, body: bytes) -> list[tuple[str, str]]:
        """The call (its path below /v1.0) or, for a ``$batch``, the envelope and every call inside it."""
        relative = path.removeprefix("/v1.0")
        calls = [(method.upper(), relative)]
        if relative == "/$batch":
            try:
                inner = json.loads(body).get("requests", []) if body else []
                calls += [(str(r.get("method", "")).upper(), "/" + urllib.parse.urlsplit(str(r.get("url", "")))
                           .path.lstrip("/").removeprefix("v1.0/")) for r in inner if isinstance(r, dict)]
            except (ValueError, AttributeError):
                pass
        return calls

    def _error_answer(self, fault: Fault) -> Answer:
        if fault.reason == "throttle":
            error = errors.too_many_requests(fault.retry_after, self._scope())
        elif fault.reason == "rate-limit":  # Graph throttles with 429 only; this one names no wait
            error = errors.GraphError(429, "TooManyRequests", "Too many requests.")
        else:
            error = errors.GraphError(fault.status, *SERVER_ERRORS.get(fault.status, SERVER_ERRORS[500]))
        return wire.encode(_error(error, {}), {})

    def _reads_one(self, method: str, target: str) -> bool:
        return method == "GET" and ONE_OBJECT.match(urllib.parse.urlsplit(target).path) is not None

    def _not_found_answer(self, method: str, target: str) -> Answer:
        key = urllib.parse.unquote(urllib.parse.urlsplit(target).path.rsplit("/", 1)[1])
        return wire.encode(_error(errors.not_found(key), {}), {})

    def _scope(self) -> str:
        return f"Tenant_Application/ReadWrite/00000000-0000-0000-0000-000000000000/{self.store.tenant_id}"


def _licence(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    sku = seed.SKUS.get(item) or seed.sku_by_id(item)
    if sku is None:
        raise ValueError(f"unknown SKU {item!r}")
    return {"skuId": sku.sku_id, "disabledPlans": []}


def _json_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.GraphError(400, "BadRequest", BAD_JSON) from None


def _error(error: GraphError, headers: Mapping[str, str]) -> Response:
    return Response(error.status, error.body(headers.get("client-request-id")), dict(error.headers))
