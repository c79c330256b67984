"""A thin client for the Tencent Exmail API (`https://api.exmail.qq.com/cgi-bin/`) on httpx.

Every Exmail application (通讯录管理 contacts, 系统日志 logs, 功能设置 user options, ...) has its
own secret, and a token from one secret is only good for that application's calls. So the
client keeps one access token per application: asked for with `gettoken?corpid&corpsecret`,
kept for the `expires_in` the answer gives (on an injected clock), and asked for again when a
call says the token expired (42001) or is not valid (40014, 40001).

Tencent answers HTTP 200 with `{"errcode": N, "errmsg": "..."}`; errcode 0 is success. A call
refused for frequency (45009, or WeCom's 45033 for too many at once) waits and is sent again. A
call whose answer is lost or unreadable (connection reset, timeout, truncated body, a 5xx page)
or that meets "system busy" (-1) may have been carried out: a read or an update is sent again, a
create raises UnknownOutcome for the caller to look the object up first (providers/retrying.py);
a delete sent again after that finds nothing to delete, which is success. The secrets come from
environment variables (SECRET_ENV) and never appear in an error: the token request carries the
secret in its query, so a transport error is reported by type only, without its URL.

`RECONCILER_EXMAIL_ENDPOINT` (loopback only) sends every call to the local emulator instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.i18n import N_, T_, said
from reconciler.providers.emulator import loopback_endpoint
from reconciler.providers.pacing import Clock, Pacer, Sleep, TokenCache
from reconciler.providers.retrying import Transient, with_retries

__all__ = ["Clock", "ExmailClient", "ExmailError", "Sleep"]

API = "https://api.exmail.qq.com/cgi-bin/"
ENDPOINT_ENV = "RECONCILER_EXMAIL_ENDPOINT"

App = Literal["contacts", "log", "option"]
# The environment variable that holds each application's secret, and where the admin finds it.
SECRET_ENV: dict[App, str] = {
    "contacts": "RECONCILER_EXMAIL_CONTACTS_SECRET",
    "log": "RECONCILER_EXMAIL_LOG_SECRET",
    "option": "RECONCILER_EXMAIL_OPTION_SECRET",
}
APP_NAMES: dict[App, str] = {  # the console's names, with what each is in English (translated as a whole)
    "contacts": N_("通讯录管理 (contacts)"),
    "log": N_("系统日志 (logs)"),
    "option": N_("功能设置 (user options)"),
}
# Which application's token each family of calls takes.
APP_OF_PREFIX: dict[str, App] = {
    "department/": "contacts", "user/": "contacts", "group/": "contacts", "tag/": "contacts",
    "log/": "log", "useroption/": "option",
}

TOKEN_EXPIRED = 42001
TOKEN_INVALID = (40014, 40001)
FREQUENCY_LIMIT = 45009
REFUSED_FOR_NOW = (FREQUENCY_LIMIT, 45033)  # frequency limit; too many calls at once: not carried out
BUSY = -1  # system busy: carried out or not, nobody says
# Calls that make an object: never sent again blind (a second one would meet "exists").
CREATES = frozenset({"user/create", "group/create", "department/create"})
# What a delete sent again meets when its first try, whose answer was lost, did delete.
GONE = {"user/delete": (60111,), "group/delete": (60123,), "department/delete": (60003, 60004)}


class ExmailError(ProviderError):
    """Exmail refused a call: its errcode and errmsg (never the request's URL: it may hold a secret)."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"Exmail {path}: errcode {errcode}: {errmsg}")
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg


def app_of(path: str) -> App:
    for prefix, app in APP_OF_PREFIX.items():
        if path.startswith(prefix):
            return app
    raise AssertionError(f"no application for {path}")


class ExmailClient:
    """Calls with the right application's token, paced to `calls_per_second`, counted in `requests`."""

    def __init__(self, corp_id: str, *, calls_per_second: float = 10, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep, environ: Mapping[str, str] | None = None,
                 base: str | None = None, timeout: float = 30.0) -> None:
        import httpx

        self.corp_id = corp_id
        self.base = base or _endpoint()
        self.clock = clock
        self.sleep = sleep
        self.environ = os.environ if environ is None else environ
        self.pacer = Pacer(calls_per_second, clock, sleep)
        self.tokens: TokenCache[App] = TokenCache(clock)
        self.requests = 0
        self.token_requests = 0
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ tokens

    def secret(self, app: App) -> str:
        value = self.environ.get(SECRET_ENV[app], "").strip()
        if not value:
            raise said(ProviderError(), T_(
                "{variable} is not set: the secret of Exmail's {app} application (admin console: 工具箱 > 应用中心 "
                "or 开放平台, the application's CorpSecret); set it as a CI secret, never in org/",
                variable=SECRET_ENV[app], app=T_(APP_NAMES[app])))
        return value

    def has_secret(self, app: App) -> bool:
        return bool(self.environ.get(SECRET_ENV[app], "").strip())

    def token(self, app: App) -> str:
        """The application's token: the cached one while it lives, else a new one."""
        held = self.tokens.fresh(app)
        if held is not None:
            return held
        query = {"corpid": self.corp_id, "corpsecret": self.secret(app)}

        def ask(uncertain: bool) -> dict[str, Any]:
            self.token_requests += 1
            answer = self._send("GET", "gettoken", query, None)
            if int(answer.get("errcode", 0)) in REFUSED_FOR_NOW:  # asking too often is throttled too
                raise Transient(f"errcode {answer['errcode']}: {answer.get('errmsg', '')}", maybe_done=False)
            return answer

        body = with_retries(ask, what="Exmail gettoken", idempotent=True, sleep=self.sleep)
        if body.get("errcode", 0) != 0 or not body.get("access_token"):
            code, message = int(body.get("errcode", -1)), str(body.get("errmsg", ""))
            raise said(ExmailError("gettoken", code, f"{message} (corp_id {self.corp_id} with {SECRET_ENV[app]}: "
                                                     "check both in the admin console)"),
                       T_("Exmail gettoken: errcode {code}: {message} (corp_id {corp_id} with {variable}: check both "
                          "in the admin console)", code=code, message=message, corp_id=self.corp_id,
                          variable=SECRET_ENV[app]))
        return self.tokens.keep(app, str(body["access_token"]), float(body.get("expires_in", 7200)))

    def forget(self, app: App) -> None:
        self.tokens.forget(app)

    # ------------------------------------------------------------------ calls

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, params, None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, {}, body)

    def call(self, method: str, path: str, params: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
        """One API call, sent again while the service asks us to wait or its answer is lost (not a
        create: see the module's docstring); raises ExmailError with Tencent's errcode when it is refused."""
        app = app_of(path)
        renewed = False

        def send(uncertain: bool) -> dict[str, Any]:
            nonlocal renewed
            while True:
                answer = self._send(method, path, {**params, "access_token": self.token(app)}, body)
                code = int(answer.get("errcode", 0))
                if code == 0 or (uncertain and code in GONE.get(path, ())):
                    return answer
                if (code == TOKEN_EXPIRED or code in TOKEN_INVALID) and not renewed:
                    self.forget(app)  # expired early, or the secret was reset: one new token, once
                    renewed = True
                    continue
                if code == FREQUENCY_LIMIT:
                    self.pacer.refused()  # Tencent documents no figure: the refusals tell it
                if code in REFUSED_FOR_NOW or code == BUSY:
                    raise Transient(f"errcode {code}: {answer.get('errmsg', '')}", maybe_done=code == BUSY)
                raise ExmailError(path, code, str(answer.get("errmsg", "")))

        return with_retries(send, what=f"Exmail {path}", idempotent=path not in CREATES, sleep=self.sleep,
                            give_up=lambda reason: ExmailError(path, -1, reason))

    def _send(self, method: str, path: str, params: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
        import httpx

        self.pacer.wait()  # Tencent documents no figure: stay well under any
        self.requests += 1
        try:
            response = self._http.request(method, self.base + path, params=params, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"cannot reach Exmail: {type(exc).__name__}", maybe_done=False) from None
        except httpx.TransportError as exc:
            # Not str(exc): httpx may quote the URL, and gettoken's URL holds the secret.
            raise Transient(f"no answer from Exmail: {type(exc).__name__}", maybe_done=True) from None
        if response.status_code >= 500:
            raise Transient(f"HTTP {response.status_code}", maybe_done=True)
        try:
            parsed = response.json()
        except ValueError:
            if response.is_success:  # a front end's page where the API answers JSON
                raise Transient(f"HTTP {response.status_code}, an answer that is not JSON", maybe_done=True) from None
            raise ProviderError(f"Exmail {path}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(parsed, dict):
            raise ProviderError(f"Exmail {path}: unexpected answer")
        return parsed


def _endpoint() -> str:
    url = loopback_endpoint(ENDPOINT_ENV)
    return API if url is None else url.rstrip("/") + "/"
