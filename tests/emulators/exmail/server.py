"""A loopback emulator of the Tencent Exmail API (`https://api.exmail.qq.com/cgi-bin/`).

Built from Tencent's developer reference, https://exmail.qq.com/qy_mng_logic/doc (anchors below),
as mirrored field by field by the Perl `QQ::exmail` documentation (metacpan, each function citing
its anchor) and by `Le1Feng/exmail`'s scrape of the reference (auto_active_fun.py):

- #10003 获取access_token: `GET gettoken?corpid&corpsecret` -> `{"access_token", "expires_in": 7200}`;
  a wrong secret -> `{"errcode": 40001, "errmsg": "invalid credential"}`. "每个应用有不同的secret,
  代表了对应用的不同权限": a token is good only for its application's calls.
- 通讯录管理 > 管理部门: `POST department/create {name, parentid, order?}` -> `{id}` (name 1-64 bytes
  without \\:*?"<>|; id 1 is the root); `POST department/update {id, name?, parentid?, order?}`;
  `GET department/delete?id=` ("不能删除根部门；不能删除含有子部门、成员的部门"); `GET department/list?id=`
  (that department and the ones below it).
- 通讯录管理 > 管理成员 (#10014 create, #10015 update): `POST user/create {userid, name, department[]
  (at most 20), position?, mobile?, tel?, extid?, gender?, slaves[]? (at most 5, addresses),
  password, cpwd_login?}`; `POST user/update` takes the same plus `enable`, and "如果非必须的字段未指定,
  则不更新该字段之前的设置值"; `GET user/delete|get?userid=`; `GET user/simplelist|list?department_id=
  &fetch_child=` (no paging); `user/get` answers `enable`, `user/list` does not list it;
  `POST user/batchcheck {userlist[]}` (at most 20) -> `{list: [{user, type}]}`, type -1 invalid,
  0 free, 1 account, 2 alias, 3 mail group.
- 通讯录管理 > 管理邮件群组: `POST group/create {groupid, groupname, userlist?, grouplist?, department?,
  allow_type, allow_userlist?}` (userlist, grouplist, department: at least one); `POST group/update`
  (each list given replaces the old one); `GET group/delete|get?groupid=`.
- 功能设置 (#10020): `POST useroption/get {userid, type: [1..4]}` -> `{option: [{type, value: "0"|"1"}]}`,
  `POST useroption/update {userid, option: [{type, value}]}` (1 force secure login, 2 IMAP/SMTP,
  3 POP/SMTP, 4 secure login on: read-only).
- 系统日志: `POST log/login {userid, begin_date, end_date}` -> `{list: [{time, ip, type}]}`;
  `POST log/mailstatus {domain, begin_date, end_date}` -> `{sendsum, recvsum}`;
  `POST log/mail {begin_date, end_date, mailtype 0/1/2, userid?, subject?}` -> `{list: [{mailtype,
  subject, sender, receiver, time, status}]}` (planted with `add_mail_counts`).

Not in the reference we could read (the 全局返回码说明 table): the codes for an expired token
(42001), an invalid token (40014), a missing token (41001), a refused application (48002), a
frequency limit (45009), unknown members and existing ones (60111, 60102), departments
(60004-60008) and bad parameters (40058) are the WeCom family's, which Exmail's API shares its
design with. The emulator refuses what the real service documents it refuses, and every field
the reference does not list (strict, like the Google and Graph emulators). Its rate limit is
configurable because Tencent publishes none.
"""

from __future__ import annotations

import datetime as dt
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

Refusal = tuple[int, str]

TOKEN_LIFETIME = 7200
ROOT = 1
# Errcodes (see the module docstring for which are confirmed).
INVALID_CREDENTIAL = (40001, "invalid credential")
INVALID_CORPID = (40013, "invalid corpid")
INVALID_TOKEN = (40014, "invalid access_token")
MISSING_TOKEN = (41001, "access_token missing")
EXPIRED_TOKEN = (42001, "access_token expired")
FREQUENCY = (45009, "api freq out of limit")
CONCURRENCY = (45033, "api concurrent out of limit")  # WeCom's: too many calls at once
BUSY = (-1, "system busy")
FORBIDDEN = (48002, "api forbidden")
BAD_PARAMETER = 40058
NO_USER = 60111
USER_EXISTS = 60102
NO_PARENT = 60004
HAS_MEMBERS = 60005
HAS_CHILDREN = 60006
NOT_ALLOWED = 60007
NAME_EXISTS = 60008
NO_GROUP = 60123

APPS = ("contacts", "log", "option")
APP_OF_PREFIX = {"department/": "contacts", "user/": "contacts", "group/": "contacts", "log/": "log",
                 "useroption/": "option"}
FORBIDDEN_IN_NAMES = re.compile(r'[\\:*?"<>|]')
USER_FIELDS = {"userid", "name", "department", "position", "mobile", "tel", "extid", "gender", "slaves",
               "password", "cpwd_login"}
GROUP_FIELDS = {"groupid", "groupname", "userlist", "grouplist", "department", "allow_type", "allow_userlist"}


class Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ExmailEmulator(LoopbackEmulator[Refusal]):
    thread_name = "exmail-emulator"
    url_path = "/cgi-bin"
    stats_counters = ("tokens_issued", "throttled")

    def __init__(self, *, corp_id: str = "wm-test-corp", secrets_by_app: dict[str, str] | None = None,
                 domains: tuple[str, ...] = ("acme.com",), clock: Callable[[], float] = time.monotonic,
                 calls_per_second: float | None = None, latency_ms: float = 0) -> None:
        super().__init__(latency_ms=latency_ms)
        self.corp_id = corp_id
        self.secrets = secrets_by_app or {app: f"{app}-secret-{corp_id}" for app in APPS}
        self.domains = tuple(d.lower() for d in domains)
        self.clock = clock
        self.calls_per_second = calls_per_second
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.departments: dict[int, dict[str, Any]] = {ROOT: {"id": ROOT, "name": "acme", "parentid": 0,
                                                                  "order": 0}}
            self.users: dict[str, dict[str, Any]] = {}
            self.groups: dict[str, dict[str, Any]] = {}
            self.tokens: dict[str, tuple[str, float]] = {}
            self.logins: dict[str, list[dict[str, Any]]] = {}
            # (userid, date in Beijing time, mailtype 1 sent / 2 received) -> how many mails `log/mail` lists
            self.mail_counts: dict[tuple[str, str, int], int] = {}
            self.options: dict[str, dict[int, str]] = {}
            self._ids = itertools.count(2)
            self._window = SlidingWindow(self.clock)
            super().reset()

    def _fault_error(self, status: int, code: str, message: str) -> Refusal:
        return int(code), message

    def _error_answer(self, fault: Fault) -> Answer:
        """Tencent refuses for frequency in an HTTP 200 with an errcode (no Retry-After); a 5xx
        from its front end carries the busy errcode."""
        code, message = FREQUENCY if fault.reason == "throttle" else CONCURRENCY if fault.reason == "rate-limit" \
            else BUSY
        return _json(fault.status if fault.reason == "server" else 200, {"errcode": code, "errmsg": message})

    def _reads_one(self, method: str, target: str) -> bool:
        return method == "GET" and target.partition("?")[0] in (f"{self.url_path}/user/get",
                                                                  f"{self.url_path}/group/get")

    def _not_found_answer(self, method: str, target: str) -> Answer:
        user = target.partition("?")[0].endswith("/user/get")
        return _json(200, {"errcode": NO_USER if user else NO_GROUP,
                           "errmsg": "userid not found" if user else "groupid not found"})

    # --------------------------------------------------------------------------- seeding (tests)

    def add_department(self, name: str, parent: int = ROOT) -> int:
        with self._lock:
            dept_id = next(self._ids)
            self.departments[dept_id] = {"id": dept_id, "name": name, "parentid": parent, "order": 0}
            return dept_id

    def add_user(self, userid: str, name: str, department: int = ROOT, **fields: Any) -> None:
        with self._lock:
            self.options[userid] = {1: "0", 2: "1", 3: "1", 4: "0"}
            self.users[userid] = {"userid": userid, "name": name, "department": [department], "position": "",
                                  "mobile": "", "tel": "", "extid": "", "gender": 0, "slaves": [], "enable": 1,
                                  "cpwd_login": 0, "password": "Seeded1234", **fields}

    def add_group(self, groupid: str, name: str, users: list[str], groups: list[str] | None = None,
                  allow_type: int = 0) -> None:
        with self._lock:
            self.groups[groupid] = {"groupid": groupid, "groupname": name, "userlist": users,
                                    "grouplist": groups or [], "department": [], "allow_type": allow_type,
                                    "allow_userlist": []}

    def add_login(self, userid: str, when: int, ip: str = "203.0.113.7", kind: int = 1) -> None:
        with self._lock:
            self.logins.setdefault(userid, []).append({"time": when, "ip": ip, "type": kind})

    def add_mail_counts(self, userid: str, date: str, *, sent: int = 0, received: int = 0) -> None:
        """Mails a member sent and received on a day (yyyy-mm-dd, Beijing time), as `log/mail` lists them."""
        with self._lock:
            for mailtype, count in ((1, sent), (2, received)):
                if count:
                    self.mail_counts[(userid.lower(), date, mailtype)] = count

    def expire_tokens(self) -> None:
        """Every issued token expires now (as after its 7200 s, or a reset secret)."""
        with self._lock:
            self.tokens = {t: (app, 0.0) for t, (app, _) in self.tokens.items()}

    # --------------------------------------------------------------------------- serving

    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urllib.parse.urlsplit(target)
        if parts.path.startswith("/_emulator/"):
            return self._control(method, parts.path, headers)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        path = parts.path.removeprefix(self.url_path + "/")
        self._arrive()
        with self._lock:
            self._stats.by_method[f"{method} {path}"] += 1
            self._stats.log.append({"method": method, "path": path})
            try:
                payload = self._answer(method, path, query, body)
            except Refused as refused:
                payload = {"errcode": refused.code, "errmsg": refused.message}
        return _json(200, payload)

    def _answer(self, method: str, path: str, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        fault = self._faults.take(method, path)
        if fault is not None:
            raise Refused(*fault)
        if path == "gettoken" and method == "GET":
            return self._gettoken(query)
        app = next((a for prefix, a in APP_OF_PREFIX.items() if path.startswith(prefix)), None)
        handler = ROUTES.get((method, path))
        if app is None or handler is None:
            raise Refused(404, f"no such api: {method} {path}")  # Tencent answers unknown paths with a page
        self._check_token(query.get("access_token"), app)
        self._throttle()
        body: dict[str, Any] = {}
        if method == "POST":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise Refused(47001, "data format error") from None
        return handler(self, query, body)

    def _gettoken(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("corpid") != self.corp_id:
            raise Refused(*INVALID_CORPID)
        app = next((a for a, s in self.secrets.items() if s == query.get("corpsecret")), None)
        if app is None:
            raise Refused(*INVALID_CREDENTIAL)
        token = secrets.token_urlsafe(48)  # the reference: 64 to 512 bytes
        self.tokens[token] = (app, self.clock() + TOKEN_LIFETIME)
        self._stats.counters["tokens_issued"] += 1
        return {"access_token": token, "expires_in": TOKEN_LIFETIME}

    def _check_token(self, token: str | None, app: str) -> None:
        if not token:
            raise Refused(*MISSING_TOKEN)
        held = self.tokens.get(token)
        if held is None:
            raise Refused(*INVALID_TOKEN)
        if self.clock() >= held[1]:
            raise Refused(*EXPIRED_TOKEN)
        if held[0] != app:
            raise Refused(*FORBIDDEN)

    def _throttle(self) -> None:
        if not self._window.admit(self.calls_per_second):
            self._stats.counters["throttled"] += 1
            raise Refused(*FREQUENCY)

    # --------------------------------------------------------------------------- helpers

    def _taken(self, address: str) -> int:
        """batchcheck's type for an address."""
        if "@" not in address or address.rsplit("@", 1)[1] not in self.domains:
            return -1
        if address in self.users:
            return 1
        if any(address in u["slaves"] for u in self.users.values()):
            return 2
        if address in self.groups:
            return 3
        return 0

    def _below(self, dept_id: int) -> list[int]:
        found = [dept_id]
        for d in self.departments.values():
            if d["parentid"] == dept_id:
                found += self._below(d["id"])
        return found


def _json(status: int, payload: dict[str, Any]) -> Answer:
    return Answer(status, {"Content-Type": "application/json; charset=utf-8"},
                  json.dumps(payload, ensure_ascii=False).encode())


def _strict(body: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(BAD_PARAMETER, f"invalid parameter: {', '.join(unknown)}")
    missing = sorted(k for k in required if body.get(k) in (None, "", []))
    if missing:
        raise Refused(BAD_PARAMETER, f"missing parameter: {', '.join(missing)}")


def _name_ok(name: Any) -> None:
    if not isinstance(name, str) or not 1 <= len(name.encode()) <= 64 or FORBIDDEN_IN_NAMES.search(name):
        raise Refused(BAD_PARAMETER, f"invalid name: {name!r}")


# --------------------------------------------------------------------------- departments

def department_create(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"name", "parentid", "order"}, {"name", "parentid"})
    _name_ok(body["name"])
    parent = int(body["parentid"])
    if parent not in emu.departments:
        raise Refused(NO_PARENT, "parent department not found")
    if any(d["parentid"] == parent and d["name"] == body["name"] for d in emu.departments.values()):
        raise Refused(NAME_EXISTS, "department name exists")
    dept_id = emu.add_department(body["name"], parent)
    return {"errcode": 0, "errmsg": "created", "id": dept_id}


def department_update(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"id", "name", "parentid", "order"}, {"id"})
    dept = emu.departments.get(int(body["id"]))
    if dept is None:
        raise Refused(NO_PARENT, "department not found")
    if "name" in body:
        _name_ok(body["name"])
        dept["name"] = body["name"]
    if "parentid" in body:
        parent = int(body["parentid"])
        if dept["id"] == ROOT or parent not in emu.departments or parent in emu._below(dept["id"]):
            raise Refused(NOT_ALLOWED, "department cannot be moved there")
        dept["parentid"] = parent
    return {"errcode": 0, "errmsg": "updated"}


def department_delete(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    dept_id = int(query.get("id", 0))
    if dept_id == ROOT:
        raise Refused(NOT_ALLOWED, "the root department cannot be deleted")
    if dept_id not in emu.departments:
        raise Refused(NO_PARENT, "department not found")
    if any(d["parentid"] == dept_id for d in emu.departments.values()):
        raise Refused(HAS_CHILDREN, "department contains sub-departments")
    if any(dept_id in u["department"] for u in emu.users.values()):
        raise Refused(HAS_MEMBERS, "department contains members")
    del emu.departments[dept_id]
    return {"errcode": 0, "errmsg": "deleted"}


def department_list(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    dept_id = int(query.get("id", ROOT))
    if dept_id not in emu.departments:
        raise Refused(NO_PARENT, "department not found")
    found = [dict(emu.departments[d]) for d in emu._below(dept_id)]
    return {"errcode": 0, "errmsg": "ok", "department": sorted(found, key=lambda d: (d["order"], d["id"]))}


# --------------------------------------------------------------------------- members

def _check_user_fields(emu: ExmailEmulator, body: dict[str, Any], userid: str) -> None:
    if "name" in body:
        _name_ok(body["name"])
    if "department" in body:
        departments = body["department"]
        if not isinstance(departments, list) or not 1 <= len(departments) <= 20 or \
                any(int(d) not in emu.departments for d in departments):
            raise Refused(BAD_PARAMETER, "invalid department list")
    if "slaves" in body:
        _check_slaves(emu, body["slaves"], userid)
    if "password" in body:
        password = str(body["password"])
        # "英文和数字": letters and digits both; length as the admin console asks (8+).
        if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise Refused(BAD_PARAMETER, "invalid password")
    for flag in ("cpwd_login", "enable"):
        if flag in body and int(body[flag]) not in (0, 1):
            raise Refused(BAD_PARAMETER, f"invalid {flag}")
    if "gender" in body and str(body["gender"]) not in ("0", "1", "2"):
        raise Refused(BAD_PARAMETER, "invalid gender")


def _check_slaves(emu: ExmailEmulator, slaves: Any, userid: str) -> None:
    """At most 5, each an address of the company's domains that nobody else holds."""
    if not isinstance(slaves, list) or len(slaves) > 5:
        raise Refused(BAD_PARAMETER, "invalid slaves: at most 5")
    held = emu.users.get(userid, {}).get("slaves", [])
    for slave in slaves:
        taken = emu._taken(str(slave).lower())
        if taken == -1 or (taken != 0 and slave not in held):
            raise Refused(USER_EXISTS, f"slave {slave} is invalid or used")


def user_create(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, USER_FIELDS, {"userid", "name", "department", "password"})
    userid = str(body["userid"]).lower()
    taken = emu._taken(userid)
    if taken == -1:
        raise Refused(BAD_PARAMETER, "invalid userid")
    if taken != 0:
        raise Refused(USER_EXISTS, "userid existed")
    _check_user_fields(emu, body, userid)
    emu.add_user(userid, body["name"], **{k: v for k, v in body.items() if k not in ("userid", "name")})
    emu.users[userid]["department"] = [int(d) for d in body["department"]]
    return {"errcode": 0, "errmsg": "created"}


def user_update(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, USER_FIELDS | {"enable"}, {"userid"})
    user = emu.users.get(str(body["userid"]).lower())
    if user is None:
        raise Refused(NO_USER, "userid not found")
    _check_user_fields(emu, body, user["userid"])
    for key, value in body.items():  # what is left out stays as it was
        if key != "userid":
            user[key] = [int(d) for d in value] if key == "department" else value
    return {"errcode": 0, "errmsg": "updated"}


def user_delete(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    userid = query.get("userid", "").lower()
    if emu.users.pop(userid, None) is None:
        raise Refused(NO_USER, "userid not found")
    emu.options.pop(userid, None)
    for group in emu.groups.values():
        group["userlist"] = [u for u in group["userlist"] if u != userid]
    return {"errcode": 0, "errmsg": "deleted"}


def _public(user: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: user[k] for k in keys}


DETAIL = ("userid", "name", "department", "position", "mobile", "tel", "extid", "gender", "slaves", "cpwd_login")


def user_get(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    user = emu.users.get(query.get("userid", "").lower())
    if user is None:
        raise Refused(NO_USER, "userid not found")
    return {"errcode": 0, "errmsg": "ok", **_public(user, (*DETAIL, "enable"))}


def _listed(emu: ExmailEmulator, query: dict[str, str], keys: tuple[str, ...]) -> dict[str, Any]:
    dept_id = int(query.get("department_id", 0))
    if dept_id not in emu.departments:
        raise Refused(NO_PARENT, "department not found")
    wanted = set(emu._below(dept_id)) if query.get("fetch_child") == "1" else {dept_id}
    found = [_public(u, keys) for u in emu.users.values() if wanted & set(u["department"])]
    return {"errcode": 0, "errmsg": "ok", "userlist": found}


def user_simplelist(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return _listed(emu, query, ("userid", "name", "department"))


def user_list(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return _listed(emu, query, DETAIL)


def user_batchcheck(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"userlist"}, {"userlist"})
    addresses = body["userlist"]
    if not isinstance(addresses, list) or len(addresses) > 20:
        raise Refused(BAD_PARAMETER, "userlist: at most 20")
    return {"errcode": 0, "errmsg": "ok",
            "list": [{"user": a, "type": emu._taken(str(a).lower())} for a in addresses]}


# --------------------------------------------------------------------------- mail groups

def _check_group_lists(emu: ExmailEmulator, body: dict[str, Any], groupid: str) -> None:
    for user in body.get("userlist") or []:
        if user not in emu.users:
            raise Refused(NO_USER, f"userid not found: {user}")
    for group in body.get("grouplist") or []:
        if group not in emu.groups or group == groupid:
            raise Refused(NO_GROUP, f"group not found: {group}")
    for dept in body.get("department") or []:
        if int(dept) not in emu.departments:
            raise Refused(NO_PARENT, f"department not found: {dept}")
    if "allow_type" in body and int(body["allow_type"]) not in (0, 1, 2, 3):
        raise Refused(BAD_PARAMETER, "invalid allow_type")


def group_create(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, GROUP_FIELDS, {"groupid", "groupname"})
    if "allow_type" not in body:
        raise Refused(BAD_PARAMETER, "missing parameter: allow_type")
    groupid = str(body["groupid"]).lower()
    taken = emu._taken(groupid)
    if taken != 0:
        raise Refused(USER_EXISTS if taken != -1 else BAD_PARAMETER, "groupid existed or invalid")
    if not (body.get("userlist") or body.get("grouplist") or body.get("department")):
        raise Refused(BAD_PARAMETER, "userlist, grouplist and department: at least one")
    _check_group_lists(emu, body, groupid)
    emu.add_group(groupid, body["groupname"], list(body.get("userlist") or []), list(body.get("grouplist") or []),
                  int(body["allow_type"]))
    emu.groups[groupid]["department"] = [int(d) for d in body.get("department") or []]
    return {"errcode": 0, "errmsg": "created"}


def group_update(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, GROUP_FIELDS, {"groupid"})
    group = emu.groups.get(str(body["groupid"]).lower())
    if group is None:
        raise Refused(NO_GROUP, "group not found")
    _check_group_lists(emu, body, group["groupid"])
    after = {**group, **{k: v for k, v in body.items() if k != "groupid"}}  # each list given replaces the old
    if not (after["userlist"] or after["grouplist"] or after["department"]):
        raise Refused(BAD_PARAMETER, "userlist, grouplist and department: at least one")
    group.update(after)
    return {"errcode": 0, "errmsg": "updated"}


def group_delete(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    groupid = query.get("groupid", "").lower()
    if emu.groups.pop(groupid, None) is None:
        raise Refused(NO_GROUP, "group not found")
    for group in emu.groups.values():
        group["grouplist"] = [g for g in group["grouplist"] if g != groupid]
    return {"errcode": 0, "errmsg": "deleted"}


def group_get(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    group = emu.groups.get(query.get("groupid", "").lower())
    if group is None:
        raise Refused(NO_GROUP, "group not found")
    return {"errcode": 0, "errmsg": "ok", **group}


# --------------------------------------------------------------------------- user options

def useroption_get(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"userid", "type"}, {"userid", "type"})
    options = emu.options.get(str(body["userid"]).lower())
    if options is None:
        raise Refused(NO_USER, "userid not found")
    if any(int(t) not in options for t in body["type"]):
        raise Refused(BAD_PARAMETER, "invalid type")
    return {"errcode": 0, "errmsg": "ok", "option": [{"type": int(t), "value": options[int(t)]} for t in body["type"]]}


def useroption_update(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"userid", "option"}, {"userid", "option"})
    options = emu.options.get(str(body["userid"]).lower())
    if options is None:
        raise Refused(NO_USER, "userid not found")
    for item in body["option"]:
        if set(item) != {"type", "value"} or int(item["type"]) not in (1, 2, 3) or item["value"] not in ("0", "1"):
            raise Refused(BAD_PARAMETER, f"invalid option {item}")  # type 4 is read-only
    for item in body["option"]:
        options[int(item["type"])] = item["value"]
    return {"errcode": 0, "errmsg": "updated"}


# --------------------------------------------------------------------------- logs

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _dates(body: dict[str, Any]) -> tuple[str, str]:
    begin, end = str(body.get("begin_date", "")), str(body.get("end_date", ""))
    if not DATE.match(begin) or not DATE.match(end) or begin > end:
        raise Refused(BAD_PARAMETER, "invalid begin_date or end_date")
    return begin, end


def log_login(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"userid", "begin_date", "end_date"}, {"userid", "begin_date", "end_date"})
    _dates(body)
    userid = str(body["userid"]).lower()
    if userid not in emu.users:
        raise Refused(NO_USER, "userid not found")
    return {"errcode": 0, "errmsg": "ok", "list": list(emu.logins.get(userid, []))}


BEIJING = dt.timezone(dt.timedelta(hours=8))
MAIL_TYPES = {0: (1, 2), 1: (1,), 2: (2,)}


def log_mail(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """Every mail of the company in the date range (Beijing time), or of one member (userid); no paging."""
    _strict(body, {"begin_date", "end_date", "mailtype", "userid", "subject"}, {"begin_date", "end_date", "mailtype"})
    begin, end = _dates(body)
    kinds = MAIL_TYPES.get(body["mailtype"]) if isinstance(body["mailtype"], int) else None
    if kinds is None:
        raise Refused(BAD_PARAMETER, "invalid mailtype")
    userid = str(body.get("userid") or "").lower()
    if userid and userid not in emu.users:
        raise Refused(NO_USER, "userid not found")
    items = []
    for (member, date, mailtype), count in sorted(emu.mail_counts.items()):
        if mailtype not in kinds or not begin <= date <= end or (userid and member != userid):
            continue
        noon = int(dt.datetime.combine(dt.date.fromisoformat(date), dt.time(12), tzinfo=BEIJING).timestamp())
        other = "partner@example.org"
        sender, receiver = (member, other) if mailtype == 1 else (other, member)
        items += [{"mailtype": mailtype, "subject": "", "sender": sender, "receiver": receiver, "time": noon + n,
                   "status": 3 if mailtype == 1 else 13} for n in range(count)]
    return {"errcode": 0, "errmsg": "ok", "list": items}


def log_mailstatus(emu: ExmailEmulator, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    _strict(body, {"domain", "begin_date", "end_date"}, {"domain", "begin_date", "end_date"})
    _dates(body)
    if body["domain"] not in emu.domains:
        raise Refused(BAD_PARAMETER, "invalid domain")
    return {"errcode": 0, "errmsg": "ok", "sendsum": 0, "recvsum": 0}


Handler = Callable[[ExmailEmulator, dict[str, str], dict[str, Any]], dict[str, Any]]
ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "department/create"): department_create,
    ("POST", "department/update"): department_update,
    ("GET", "department/delete"): department_delete,
    ("GET", "department/list"): department_list,
    ("POST", "user/create"): user_create,
    ("POST", "user/update"): user_update,
    ("GET", "user/delete"): user_delete,
    ("GET", "user/get"): user_get,
    ("GET", "user/simplelist"): user_simplelist,
    ("GET", "user/list"): user_list,
    ("POST", "user/batchcheck"): user_batchcheck,
    ("POST", "group/create"): group_create,
    ("POST", "group/update"): group_update,
    ("GET", "group/delete"): group_delete,
    ("GET", "group/get"): group_get,
    ("POST", "useroption/get"): useroption_get,
    ("POST", "useroption/update"): useroption_update,
    ("POST", "log/login"): log_login,
    ("POST", "log/mailstatus"): log_mailstatus,
    ("POST", "log/mail"): log_mail,
}
