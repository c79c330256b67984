"""A loopback emulator of Alibaba Mail's open platform (`https://alimail-cn.aliyuncs.com`).

Built from what could be confirmed, each with its source:

- Token (mailhelp.aliyun.com/openapi/index.html#/markdown/authorization.md, and the help centre's
  "API开放平台代码示例:获取访问凭证", help.aliyun.com/document_detail/2855420): `POST
  /oauth2/v2.0/token`, `application/x-www-form-urlencoded` `grant_type=client_credentials&
  client_id&client_secret` -> `{"token_type", "access_token", "expires_in"}`; every call then
  carries `Authorization: bearer TOKEN`. The lifetime (3600 s here) is the answer's `expires_in`.
- Accounts (the reference's 用户 section; fields as the Go client eryajf/go-alimail and the Java
  client in baiyi's cratos (eds/alimail) both read them): `POST /v2/users {email, password, name,
  nickname?, employeeNo?, jobTitle?, departmentIds[], phone?, managerEmail?, status?,
  forceChangePasswordNextSignIn?, ...}`; `GET|PATCH|DELETE /v2/users/{id or email}`; an account
  carries emailAliases, status (NORMAL | FREEZE), lastLoginTime, lastLoginIp,
  isInitialPassword, createdTime. `POST|DELETE /v2/users/{id}/emailAliases {alias, asDefault?}`.
- Departments (the 部门 section; cratos cites the operation
  `alimailpb_ud_DepartmentService_ListUsersOfDepartment`): `POST /v2/departments {name,
  parentId, managers?, email?, isHidden?}`, root id `$root`; `GET|PATCH|DELETE
  /v2/departments/{id}`; `GET /v2/departments/{id}/departments` and `/users` with `limit` and
  `offset` (clients ask 100 a page; more is refused here).
- Limits (the open platform's 调用限制): all applications of one domain share 40 requests a
  second; above it, HTTP 429.

Not confirmed, so not built: mail groups and their members, user search, sign-in and audit
logs, and the method of `resetPassword` (one client sends DELETE, which no REST reading
supports). The error body's shape is not in any page we could read: the emulator answers
`{"code", "message"}` with the documented statuses (400 bad or unknown fields, 401, 403, 404,
409 exists, 429), and the client reads the status first.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from ..common import Answer, Fault, LoopbackEmulator
from ..common.ratelimit import SlidingWindow

Refusal = tuple[int, str, str]  # HTTP status, code, message

TOKEN_LIFETIME = 3600
ROOT = "$root"
MAX_PAGE = 100
USER_FIELDS = {"email", "password", "name", "nickname", "employeeNo", "jobTitle", "workLocation", "officeLocation",
               "homeLocation", "departmentIds", "phone", "workPhone", "status", "customName", "managerEmail",
               "isHidden", "info", "forceChangePasswordNextSignIn", "employeeType"}
USER_UPDATABLE = USER_FIELDS - {"email", "password", "employeeType"}
DEPARTMENT_FIELDS = {"name", "parentId", "managers", "email", "isHidden", "hiddenExcludeUsers",
                     "hiddenExcludeDepartments"}
STATUSES = ("NORMAL", "FREEZE")


SERVER_ERRORS = {500: ("InternalError", "internal error"), 502: ("BadGateway", "bad gateway"),
                 503: ("ServiceUnavailable", "service unavailable"), 504: ("GatewayTimeout", "gateway timeout")}
# A read of one account or department (what an eventual-consistency 404 can meet).
ONE_OBJECT = re.compile(r"^/v2/(users|departments)/[^/]+$")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AlimailEmulator(LoopbackEmulator[Refusal]):
    thread_name = "alimail-emulator"
    stats_counters = ("tokens_issued", "throttled")

    def __init__(self, *, app_id: str = "alimail-test-app", secret: str | None = None,
                 domains: tuple[str, ...] = ("acme.com",), clock: Callable[[], float] = time.monotonic,
                 requests_per_second: float | None = 40, latency_ms: float = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.app_id = app_id
        self.secret = secret or f"secret-{app_id}-{secrets.token_hex(8)}"
        self.domains = tuple(d.lower() for d in domains)
        self.clock = clock
        self.requests_per_second = requests_per_second
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.departments: dict[str, dict[str, Any]] = {}
            self.users: dict[str, dict[str, Any]] = {}  # by address
            self.tokens: dict[str, float] = {}  # token -> expiry on the clock
            self._ids = itertools.count(1000)
            self._window = SlidingWindow(self.clock)
            super().reset()

    def _fault_error(self, status: int, code: str, message: str) -> Refusal:
        return status, code, message

    def _error_answer(self, fault: Fault) -> Answer:
        """A 429 with Retry-After (``throttle``) or without one (``rate-limit``: Alibaba documents no
        other), or a 5xx in the API's JSON."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if fault.reason == "server":
            code, message = SERVER_ERRORS.get(fault.status, SERVER_ERRORS[500])
            return Answer(fault.status, headers, json.dumps({"code": code, "message": message}).encode())
        if fault.reason == "throttle":
            headers["Retry-After"] = str(fault.retry_after)
        return Answer(429, headers, json.dumps({"code": "TooManyRequests", "message": "too many requests"}).encode())

    def _reads_one(self, method: str, target: str) -> bool:
        return method == "GET" and ONE_OBJECT.match(urllib.parse.unquote(target.partition("?")[0])) is not None

    def _not_found_answer(self, method: str, target: str) -> Answer:
        key = urllib.parse.unquote(target.partition("?")[0]).rsplit("/", 1)[1]
        return Answer(404, {"Content-Type": "application/json; charset=utf-8"},
                      json.dumps({"code": "NotFound", "message": f"no such object {key}"}).encode())

    # --------------------------------------------------------------------------- seeding (tests)

    def add_department(self, name: str, parent: str = ROOT) -> str:
        with self._lock:
            dept_id = f"dept-{next(self._ids)}"
            self.departments[dept_id] = {"id": dept_id, "name": name, "parentId": parent, "managers": [],
                                         "email": "", "isHidden": False}
            return dept_id

    def add_user(self, email: str, name: str, department: str = ROOT, **fields: Any) -> dict[str, Any]:
        with self._lock:
            account = {"id": f"user-{next(self._ids)}", "email": email, "name": name, "nickname": "",
                       "employeeNo": "", "jobTitle": "", "departmentIds": [department], "phone": "",
                       "managerEmail": "", "status": "NORMAL", "emailAliases": [], "isInitialPassword": True,
                       "forceChangePasswordNextSignIn": True, "lastLoginTime": "", "lastLoginIp": "",
                       "createdTime": "2026-01-05T08:00:00Z", "employeeType": "EMPLOYEE", **fields}
            account.setdefault("password", "Seeded-1234")
            self.users[email] = account
            return account

    def expire_tokens(self) -> None:
        """Every issued token expires now (as after its lifetime, or a reset secret)."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    # --------------------------------------------------------------------------- serving

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urllib.parse.urlsplit(target)
        if parts.path.startswith("/_emulator/"):
            return self._control(method, parts.path, headers)
        path = urllib.parse.unquote(parts.path).lstrip("/")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        self._arrive()
        extra: dict[str, str] = {}
        with self._lock:
            shape = re.sub(r"^(v2/(?:users|departments))/[^/]+", r"\1/{id}", path)
            self._stats.by_method[f"{method} {shape}"] += 1
            self._stats.log.append({"method": method, "path": path})
            try:
                status, payload = self._answer(method, path, query, headers, body)
            except Refused as refused:
                status, payload = refused.status, {"code": refused.code, "message": refused.message}
                if refused.status == 429:
                    extra["Retry-After"] = "1"
        raw = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        return Answer(status, {"Content-Type": "application/json; charset=utf-8", **extra}, raw)

    def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                raw: bytes) -> tuple[int, Any]:
        if not self._window.admit(self.requests_per_second):  # the domain's shared budget, token requests included
            self._stats.counters["throttled"] += 1
            raise Refused(429, "TooManyRequests", "request rate exceeds 40 per second for this domain")
        fault = self._faults.take(method, path)
        if fault is not None:
            raise Refused(*fault)
        if path == "oauth2/v2.0/token":
            if method != "POST":
                raise Refused(405, "MethodNotAllowed", "use POST")
            return 200, self._token(headers, raw)
        self._check_token(headers.get("authorization", ""))
        for pattern, routes in ROUTES:
            match = re.fullmatch(pattern, path)
            if match:
                handler = routes.get(method)
                if handler is None:
                    raise Refused(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
                body: dict[str, Any] = {}
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise Refused(400, "InvalidParameter", "the body is not JSON") from None
                    if not isinstance(body, dict):
                        raise Refused(400, "InvalidParameter", "the body is not a JSON object")
                return handler(self, *match.groups(), query=query, body=body)
        raise Refused(404, "NotFound", f"no such API: {method} /{path}")

    def _token(self, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise Refused(400, "invalid_request", "the token request is form-encoded")
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise Refused(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.secret:
            raise Refused(401, "invalid_client", "client authentication failed")
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock() + TOKEN_LIFETIME
        self._stats.counters["tokens_issued"] += 1
        return {"token_type": "bearer", "access_token": token, "expires_in": TOKEN_LIFETIME}

    def _check_token(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "Unauthorized", "no bearer token")
        expiry = self.tokens.get(token)
        if expiry is None or self.clock() >= expiry:
            raise Refused(401, "Unauthorized", "the access token is invalid or expired")

    # --------------------------------------------------------------------------- helpers

    def user(self, key: str) -> dict[str, Any]:
        found = self.users.get(key.lower()) or next((u for u in self.users.values() if u["id"] == key), None)
        if found is None:
            raise Refused(404, "NotFound", f"no account {key}")
        return found

    def taken(self, address: str) -> bool:
        return address in self.users or any(address in u["emailAliases"] for u in self.users.values()) or \
            any(d.get("email") == address for d in self.departments.values())

    def department(self, dept_id: str) -> dict[str, Any] | None:
        if dept_id == ROOT:
            return {"id": ROOT, "name": "acme", "parentId": ""}
        return self.departments.get(dept_id)

    def in_domains(self, address: str) -> bool:
        return "@" in address and address.rsplit("@", 1)[1] in self.domains


def _strict(body: dict[str, Any], allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(400, "InvalidParameter", f"unknown field: {', '.join(unknown)}")
    missing = sorted(k for k in required if body.get(k) in (None, "", []))
    if missing:
        raise Refused(400, "InvalidParameter", f"missing field: {', '.join(missing)}")


def _page(query: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        limit, offset = int(query.get("limit", MAX_PAGE)), int(query.get("offset", 0))
    except ValueError:
        raise Refused(400, "InvalidParameter", "limit and offset are numbers") from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Refused(400, "InvalidParameter", f"limit is 1-{MAX_PAGE}, offset 0 or more")
    return items[offset:offset + limit]


def _public(account: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in account.items() if k != "password"}


def _check_user(emu: AlimailEmulator, body: dict[str, Any]) -> None:
    if "departmentIds" in body:
        ids = body["departmentIds"]
        if not isinstance(ids, list) or not ids or any(emu.department(str(d)) is None for d in ids):
            raise Refused(400, "InvalidParameter", "departmentIds must name existing departments")
    if "status" in body and body["status"] not in STATUSES:
        raise Refused(400, "InvalidParameter", f"status is one of {', '.join(STATUSES)}")
    if body.get("managerEmail") and body["managerEmail"] not in emu.users:
        raise Refused(400, "InvalidParameter", f"no account {body['managerEmail']} to be the manager")
    if "name" in body and not (isinstance(body["name"], str) and 1 <= len(body["name"]) <= 64):
        raise Refused(400, "InvalidParameter", "name is 1-64 characters")


# --------------------------------------------------------------------------- accounts

def users_create(emu: AlimailEmulator, *, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    _strict(body, USER_FIELDS, {"email", "password", "name", "departmentIds"})
    email = str(body["email"]).lower()
    if not emu.in_domains(email):
        raise Refused(400, "InvalidParameter", f"{email} is not in one of the organisation's domains")
    if emu.taken(email):
        raise Refused(409, "AlreadyExists", f"{email} is already in use")
    password = str(body["password"])
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise Refused(400, "InvalidParameter", "the password is too weak")
    _check_user(emu, body)
    account = emu.add_user(email, body["name"], **{k: v for k, v in body.items() if k not in ("email", "name")})
    account["isInitialPassword"] = True
    return 200, _public(account)


def users_get(emu: AlimailEmulator, key: str, *, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    return 200, _public(emu.user(key))


def users_update(emu: AlimailEmulator, key: str, *, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    account = emu.user(key)
    _strict(body, USER_UPDATABLE)
    _check_user(emu, body)
    account.update(body)
    if "status" in body:
        account["freezedTime"] = "2026-12-01T00:00:00Z" if body["status"] == "FREEZE" else ""
    return 200, _public(account)


def users_delete(emu: AlimailEmulator, key: str, *, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    account = emu.user(key)
    del emu.users[account["email"]]
    return 200, _public(account)


def aliases(emu: AlimailEmulator, key: str, *, query: dict[str, str], body: dict[str, Any],
            adding: bool) -> tuple[int, Any]:
    account = emu.user(key)
    _strict(body, {"alias", "asDefault"} if adding else {"alias"}, {"alias"})
    alias = str(body["alias"]).lower()
    if adding:
        if not emu.in_domains(alias):
            raise Refused(400, "InvalidParameter", f"{alias} is not in one of the organisation's domains")
        if emu.taken(alias):
            raise Refused(409, "AlreadyExists", f"{alias} is already in use")
        account["emailAliases"].append(alias)
    else:
        if alias not in account["emailAliases"]:
            raise Refused(404, "NotFound", f"{alias} is not an alias of {account['email']}")
        account["emailAliases"].remove(alias)
    return 200, _public(account)


# --------------------------------------------------------------------------- departments

def departments_create(emu: AlimailEmulator, *, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
    _strict(body, DEPARTMENT_FIELDS, {"name", "parentId"})
    parent = str(body["parentId"])
    if emu.department(parent) is None:
        raise Refused(404, "NotFound", f"no department {parent}")
    if any(d["parentId"] == parent and d["name"] == body["name"] for d in emu.departments.values()):
        raise Refused(409, "AlreadyExists", f"{parent} already has a department named {body['name']}")
    dept_id = emu.add_department(str(body["name"]), parent)
    emu.departments[dept_id].update({k: v for k, v in body.items() if k not in ("name", "parentId")})
    return 200, emu.departments[dept_id]


def departments_get(emu: AlimailEmulator, dept_id: str, *, query: dict[str, str],
                    body: dict[str, Any]) -> tuple[int, Any]:
    found = emu.department(dept_id)
    if found is None:
        raise Refused(404, "NotFound", f"no department {dept_id}")
    return 200, found


def departments_update(emu: AlimailEmulator, dept_id: str, *, query: dict[str, str],
                       body: dict[str, Any]) -> tuple[int, Any]:
    _strict(body, DEPARTMENT_FIELDS)
    found = emu.departments.get(dept_id)
    if found is None:
        raise Refused(404 if dept_id != ROOT else 400, "NotFound", f"no department {dept_id} to change")
    found.update(body)
    return 200, None


def departments_delete(emu: AlimailEmulator, dept_id: str, *, query: dict[str, str],
                       body: dict[str, Any]) -> tuple[int, Any]:
    if dept_id == ROOT:
        raise Refused(400, "InvalidParameter", "the root department cannot be deleted")
    if dept_id not in emu.departments:
        raise Refused(404, "NotFound", f"no department {dept_id}")
    if any(d["parentId"] == dept_id for d in emu.departments.values()) or \
            any(dept_id in u["departmentIds"] for u in emu.users.values()):
        raise Refused(400, "InvalidParameter", "the department still holds departments or accounts")
    del emu.departments[dept_id]
    return 200, None


def sub_departments(emu: AlimailEmulator, dept_id: str, *, query: dict[str, str],
                    body: dict[str, Any]) -> tuple[int, Any]:
    if emu.department(dept_id) is None:
        raise Refused(404, "NotFound", f"no department {dept_id}")
    below = sorted((d for d in emu.departments.values() if d["parentId"] == dept_id), key=lambda d: d["id"])
    return 200, {"departments": _page(query, below)}


def department_users(emu: AlimailEmulator, dept_id: str, *, query: dict[str, str],
                     body: dict[str, Any]) -> tuple[int, Any]:
    if emu.department(dept_id) is None:
        raise Refused(404, "NotFound", f"no department {dept_id}")
    held = sorted((u for u in emu.users.values() if dept_id in u["departmentIds"]), key=lambda u: u["id"])
    return 200, {"users": [_public(u) for u in _page(query, held)]}


Handler = Callable[..., tuple[int, Any]]
ROUTES: list[tuple[str, dict[str, Handler]]] = [
    (r"v2/users", {"POST": users_create}),
    (r"v2/users/([^/]+)/emailAliases", {
        "POST": lambda emu, key, **kw: aliases(emu, key, adding=True, **kw),
        "DELETE": lambda emu, key, **kw: aliases(emu, key, adding=False, **kw)}),
    (r"v2/users/([^/]+)", {"GET": users_get, "PATCH": users_update, "DELETE": users_delete}),
    (r"v2/departments", {"POST": departments_create}),
    (r"v2/departments/([^/]+)/departments", {"GET": sub_departments}),
    (r"v2/departments/([^/]+)/users", {"GET": department_users}),
    (r"v2/departments/([^/]+)", {"GET": departments_get, "PATCH": departments_update, "DELETE": departments_delete}),
]
