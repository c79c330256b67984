"""A thin client for the Tencent Exmail API (`https://api.exmail.qq.com/cgi-bin/`) on httpx.

Every Exmail application (通讯录管理 contacts, 系统日志 logs, 功能设置 user options, ...) has its
own secret, and a token from one secret is only good for that application's calls. So the
client keeps one access token per application: asked for with `gettoken?corpid&corpsecret`,
kept for the `expires_in` the answer gives (on an injected clock), and asked for again when a
call says the token expired (42001) or is not valid (40014, 40001).

Tencent answers HTTP 200 with `{"errcode": N, "errmsg": "..."}`; errcode 0 is success. A call
that is refused for frequency (45009) or because the system is busy (-1) waits and is sent
again. The secrets come from environment variables (SECRET_ENV) and never appear in an error:
the token request carries the secret in its query, so a transport error is reported without
its URL.

`RECONCILER_EXMAIL_ENDPOINT` (loopback only) sends every call to the local emulator instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Literal

from reconciler.errors import ProviderError
from reconciler.providers.emulator import loopback_endpoint
from reconciler.providers.pacing import Clock, Pacer, Sleep, TokenCache, backoff_s

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
APP_NAMES: dict[App, str] = {
    "contacts": "通讯录管理 (contacts)",
    "log": "系统日志 (logs)",
    "option": "功能设置 (user options)",
}
# Which application's token each family of calls takes.
APP_OF_PREFIX: dict[str, App] = {
    "department/": "contacts", "user/": "contacts", "group/": "contacts", "tag/": "contacts",
    "log/": "log", "useroption/": "option",
}

TOKEN_EXPIRED = 42001
TOKEN_INVALID = (40014, 40001)
FREQUENCY_LIMIT = 45009
RETRYABLE = (FREQUENCY_LIMIT, -1)  # frequency limit; system busy
ATTEMPTS = 6


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
                 base: str | None = None) -> None:
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
        self._http = httpx.Client(timeout=30.0)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ tokens

    def secret(self, app: App) -> str:
        value = self.environ.get(SECRET_ENV[app], "").strip()
        if not value:
            raise ProviderError(
                f"{SECRET_ENV[app]} is not set: the secret of Exmail's {APP_NAMES[app]} application (admin "
                "console: 工具箱 > 应用中心 or 开放平台, the application's CorpSecret); set it as a CI secret, "
                "never in org/")
        return value

    def has_secret(self, app: App) -> bool:
        return bool(self.environ.get(SECRET_ENV[app], "").strip())

    def token(self, app: App) -> str:
        """The application's token: the cached one while it lives, else a new one."""
        held = self.tokens.fresh(app)
        if held is not None:
            return held
        body = self._send("GET", "gettoken", {"corpid": self.corp_id, "corpsecret": self.secret(app)}, None)
        self.token_requests += 1
        if body.get("errcode", 0) != 0 or not body.get("access_token"):
            raise ExmailError("gettoken", int(body.get("errcode", -1)),
                              f"{body.get('errmsg', '')} (corp_id {self.corp_id} with {SECRET_ENV[app]}: check "
                              "both in the admin console)")
        return self.tokens.keep(app, str(body["access_token"]), float(body.get("expires_in", 7200)))

    def forget(self, app: App) -> None:
        self.tokens.forget(app)

    # ------------------------------------------------------------------ calls

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, params, None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, {}, body)

    def call(self, method: str, path: str, params: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
        """One API call; raises ExmailError with Tencent's errcode when it is refused."""
        app = app_of(path)
        renewed = False
        for attempt in range(ATTEMPTS):
            answer = self._send(method, path, {**params, "access_token": self.token(app)}, body)
            code = int(answer.get("errcode", 0))
            if code == 0:
                return answer
            if (code == TOKEN_EXPIRED or code in TOKEN_INVALID) and not renewed:
                self.forget(app)  # expired early, or the secret was reset: one new token, once
                renewed = True
                continue
            if code == FREQUENCY_LIMIT:
                self.pacer.refused()  # Tencent documents no figure: the refusals tell it
            if code in RETRYABLE and attempt < ATTEMPTS - 1:
                self.sleep(backoff_s(attempt))
                continue
            raise ExmailError(path, code, str(answer.get("errmsg", "")))
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, params: dict[str, Any], body: dict[str, Any] | None) -> dict[str, Any]:
        import httpx

        self.pacer.wait()  # Tencent documents no figure: stay well under any
        self.requests += 1
        try:
            response = self._http.request(method, self.base + path, params=params, json=body)
        except httpx.HTTPError as exc:
            # Not str(exc): httpx may quote the URL, and gettoken's URL holds the secret.
            raise ProviderError(f"cannot reach Exmail ({path}): {type(exc).__name__}") from None
        if response.status_code >= 500:
            return {"errcode": -1, "errmsg": f"HTTP {response.status_code}"}
        try:
            parsed = response.json()
        except ValueError:
            raise ProviderError(f"Exmail {path}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(parsed, dict):
            raise ProviderError(f"Exmail {path}: unexpected answer")
        return parsed


def _endpoint() -> str:
    url = loopback_endpoint(ENDPOINT_ENV)
    return API if url is None else url.rstrip("/") + "/"
