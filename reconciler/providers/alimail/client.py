"""A thin client for Alibaba Mail's open platform (`https://<host>/v2/`) on httpx.

Auth (mailhelp.aliyun.com/openapi, authorization.md; help.aliyun.com/document_detail/2855420):
`POST https://<host>/oauth2/v2.0/token`, form-encoded `grant_type=client_credentials&client_id&
client_secret` -> `{"token_type", "access_token", "expires_in"}`; every call carries
`Authorization: bearer TOKEN`. The token is kept for the `expires_in` its answer gives (on an
injected clock, less a margin) and asked for again when a call answers 401.

Errors are HTTP statuses (400, 401, 403, 404, 409 exists, 429, 5xx). The body's shape is not in
any page we could read; clients agree on none, one reads `detailErrorCode` and `message`. So an
error names the status and whatever of `code`, `detailErrorCode` and `message` the body holds.

All applications of one domain share 40 requests a second (Alibaba's open-platform limits): the
client paces itself to `requests_per_second` (default 20) and waits and retries a 429 (Retry-After
when given, else 1, 2, 4 ... s) and a 5xx. The secret comes from RECONCILER_ALIMAIL_CLIENT_SECRET
and never appears in an error: the token request carries it in its form body, and transport
errors are reported by type only.

`RECONCILER_ALIMAIL_ENDPOINT` (loopback only) sends every call to the local emulator instead.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from reconciler.errors import ProviderError
from reconciler.providers.emulator import loopback_endpoint
from reconciler.providers.pacing import Clock, Pacer, Sleep, TokenCache, backoff_s

__all__ = ["ENDPOINT_ENV", "SECRET_ENV", "AlimailClient", "AlimailError", "Clock", "Sleep"]

ENDPOINT_ENV = "RECONCILER_ALIMAIL_ENDPOINT"
SECRET_ENV = "RECONCILER_ALIMAIL_CLIENT_SECRET"
ATTEMPTS = 6
RETRYABLE = (429, 500, 502, 503, 504)


class AlimailError(ProviderError):
    """Alibaba Mail refused a call: its HTTP status and what the body said."""

    def __init__(self, method: str, path: str, status: int, code: str, message: str) -> None:
        shown = f"{code}: {message}" if code else message
        super().__init__(f"Alibaba Mail {method} {path}: HTTP {status}" + (f": {shown}" if shown else ""))
        self.status = status
        self.code = code
        self.message = message


class AlimailClient:
    """Calls with a cached token, paced to `requests_per_second`, counted in `requests`."""

    def __init__(self, host: str, app_id: str, *, requests_per_second: float = 20, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep, environ: Mapping[str, str] | None = None,
                 base: str | None = None) -> None:
        import httpx

        self.host = host
        self.app_id = app_id
        self.base = base or _endpoint(host)
        self.sleep = sleep
        self.environ = os.environ if environ is None else environ
        self.pacer = Pacer(requests_per_second, clock, sleep)
        self.tokens: TokenCache[str] = TokenCache(clock)
        self.requests = 0
        self.token_requests = 0
        self._http = httpx.Client(timeout=30.0)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ token

    def secret(self) -> str:
        value = self.environ.get(SECRET_ENV, "").strip()
        if not value:
            raise ProviderError(
                f"{SECRET_ENV} is not set: the secret of the Alibaba Mail API application {self.app_id} (admin "
                "console: API开放平台 > 应用, its Secret); set it as a CI secret, never in org/")
        return value

    def token(self) -> str:
        held = self.tokens.fresh(self.app_id)
        if held is not None:
            return held
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "client_secret": self.secret()}
        for attempt in range(ATTEMPTS):  # the token request spends the shared budget too
            status, body = self._send("POST", "oauth2/v2.0/token", None, None, form)
            self.token_requests += 1
            if status not in RETRYABLE or attempt == ATTEMPTS - 1:
                break
            self.sleep(backoff_s(attempt, body.get("_retry_after")))
        if status != 200 or not body.get("access_token"):
            code, message = _error_of(body)
            raise AlimailError("POST", "oauth2/v2.0/token", status, code,
                               f"{message} (app_id {self.app_id} with {SECRET_ENV} at {self.host}: check both in "
                               "the admin console, and that the host is your edition's)".strip())
        return self.tokens.keep(self.app_id, str(body["access_token"]), float(body.get("expires_in", 3600)))

    # ------------------------------------------------------------------ calls

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One API call (`path` below /v2/); raises AlimailError when it is refused."""
        renewed = False
        for attempt in range(ATTEMPTS):
            status, answer = self._send(method, "v2/" + path, params, body, None, bearer=self.token())
            if 200 <= status < 300:
                return answer
            if status == 401 and not renewed:
                self.tokens.forget(self.app_id)  # expired early, or the secret was reset: one new token, once
                renewed = True
                continue
            if status == 429:
                self.pacer.refused()  # the domain's shared budget has less left than our pace assumed
            if status in RETRYABLE and attempt < ATTEMPTS - 1:
                self.sleep(backoff_s(attempt, answer.get("_retry_after")))
                continue
            code, message = _error_of(answer)
            raise AlimailError(method, path, status, code, message)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None,
              form: Mapping[str, str] | None, bearer: str | None = None) -> tuple[int, dict[str, Any]]:
        import httpx

        self.pacer.wait()
        self.requests += 1
        headers = {"Authorization": f"bearer {bearer}"} if bearer else {}
        url = self.base + "/".join(urllib.parse.quote(part, safe="@$") for part in path.split("/"))
        try:
            response = self._http.request(method, url, params=dict(params or {}), json=body, data=form,
                                          headers=headers)
        except httpx.HTTPError as exc:
            # Not str(exc): it may quote the request.
            raise ProviderError(f"cannot reach Alibaba Mail ({method} {path}): {type(exc).__name__}") from None
        parsed: Any = {}
        if response.content:
            try:
                parsed = response.json()
            except ValueError:
                parsed = {"message": f"not JSON ({response.headers.get('content-type', 'no content type')})"}
        answer = parsed if isinstance(parsed, dict) else {"value": parsed}
        retry_after = response.headers.get("retry-after")
        if response.status_code in RETRYABLE and retry_after and retry_after.isdigit():
            answer["_retry_after"] = float(retry_after)
        return response.status_code, answer


def _error_of(body: Mapping[str, Any]) -> tuple[str, str]:
    code = str(body.get("code") or body.get("detailErrorCode") or body.get("error") or "")
    message = str(body.get("message") or body.get("error_description") or "")
    return code, message


def _endpoint(host: str) -> str:
    url = loopback_endpoint(ENDPOINT_ENV)
    return f"https://{host}/" if url is None else url.rstrip("/") + "/"
