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
when given, else 1, 2, 4 ... s). A call whose answer is lost or unreadable (connection reset,
timeout, truncated body, a 5xx, JSON or a front end's page) may have been carried out: a read, an
update or a delete is sent again (a delete that then finds nothing was done by the lost try), a
create raises UnknownOutcome for the caller to look the object up first (providers/retrying.py).
The secret comes from RECONCILER_ALIMAIL_CLIENT_SECRET and never appears in an error: the token
request carries it in its form body, and transport errors are reported by type only.

`RECONCILER_ALIMAIL_ENDPOINT` (loopback only) sends every call to the local emulator instead.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from reconciler.errors import ProviderError
from reconciler.i18n import T_, said
from reconciler.providers.emulator import loopback_endpoint
from reconciler.providers.pacing import Clock, Pacer, Sleep, TokenCache
from reconciler.providers.retrying import Transient, with_retries

__all__ = ["ENDPOINT_ENV", "SECRET_ENV", "AlimailClient", "AlimailError", "Clock", "Sleep"]

ENDPOINT_ENV = "RECONCILER_ALIMAIL_ENDPOINT"
SECRET_ENV = "RECONCILER_ALIMAIL_CLIENT_SECRET"
THROTTLED = 429


class AlimailError(ProviderError):
    """Alibaba Mail refused a call: its HTTP status and what the body said."""

    def __init__(self, method: str, path: str, status: int, code: str, message: str) -> None:
        shown = f"{code}: {message}" if code else message
        said = [f"HTTP {status}"] if status else []  # 0: no answer to quote (tries spent on lost answers)
        super().__init__(f"Alibaba Mail {method} {path}: " + ": ".join(said + ([shown] if shown else [])))
        self.status = status
        self.code = code
        self.message = message


class AlimailClient:
    """Calls with a cached token, paced to `requests_per_second`, counted in `requests`."""

    def __init__(self, host: str, app_id: str, *, requests_per_second: float = 20, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep, environ: Mapping[str, str] | None = None,
                 base: str | None = None, timeout: float = 30.0) -> None:
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
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ token

    def secret(self) -> str:
        value = self.environ.get(SECRET_ENV, "").strip()
        if not value:
            raise said(ProviderError(), T_(
                "{variable} is not set: the secret of the Alibaba Mail API application {app_id} (admin console: "
                "API开放平台 > 应用, its Secret); set it as a CI secret, never in org/", variable=SECRET_ENV,
                app_id=self.app_id))
        return value

    def token(self) -> str:
        held = self.tokens.fresh(self.app_id)
        if held is not None:
            return held
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "client_secret": self.secret()}

        def ask(uncertain: bool) -> tuple[int, dict[str, Any]]:
            self.token_requests += 1  # the token request spends the shared budget too
            return self._send("POST", "oauth2/v2.0/token", None, None, form)

        status, body = with_retries(ask, what="Alibaba Mail POST oauth2/v2.0/token", idempotent=True, sleep=self.sleep)
        if status != 200 or not body.get("access_token"):
            code, message = _error_of(body)
            refused = AlimailError("POST", "oauth2/v2.0/token", status, code,
                                   f"{message} (app_id {self.app_id} with {SECRET_ENV} at {self.host}: check both in "
                                   "the admin console, and that the host is your edition's)".strip())
            raise said(refused, T_("{refusal} (app_id {app_id} with {variable} at {host}: check both in the admin "
                                   "console, and that the host is your edition's)",
                                   refusal=str(refused).rpartition(f" (app_id {self.app_id}")[0],
                                   app_id=self.app_id, variable=SECRET_ENV, host=self.host))
        return self.tokens.keep(self.app_id, str(body["access_token"]), float(body.get("expires_in", 3600)))

    # ------------------------------------------------------------------ calls

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, params=params)

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One API call (`path` below /v2/), sent again while the service asks us to wait or its answer
        is lost (a POST, which creates, is not: see the module's docstring); raises AlimailError when
        it is refused."""
        renewed = False

        def send(uncertain: bool) -> dict[str, Any]:
            nonlocal renewed
            while True:
                status, answer = self._send(method, "v2/" + path, params, body, None, bearer=self.token())
                if 200 <= status < 300 or (uncertain and method == "DELETE" and status == 404):
                    return answer
                if status == 401 and not renewed:
                    self.tokens.forget(self.app_id)  # expired early, or the secret was reset: one new token, once
                    renewed = True
                    continue
                code, message = _error_of(answer)
                raise AlimailError(method, path, status, code, message)

        return with_retries(send, what=f"Alibaba Mail {method} {path}", idempotent=method != "POST", sleep=self.sleep,
                            give_up=lambda reason: AlimailError(method, path, 0, "", reason))

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None,
              form: Mapping[str, str] | None, bearer: str | None = None) -> tuple[int, dict[str, Any]]:
        """One request: its status and JSON body; raises Transient for a 429, a 5xx or a lost answer."""
        import httpx

        self.pacer.wait()
        self.requests += 1
        headers = {"Authorization": f"bearer {bearer}"} if bearer else {}
        url = self.base + "/".join(urllib.parse.quote(part, safe="@$") for part in path.split("/"))
        try:
            response = self._http.request(method, url, params=dict(params or {}), json=body, data=form,
                                          headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(f"cannot reach Alibaba Mail: {type(exc).__name__}", maybe_done=False) from None
        except httpx.TransportError as exc:  # not str(exc): it may quote the request
            raise Transient(f"no answer from Alibaba Mail: {type(exc).__name__}", maybe_done=True) from None
        if response.status_code == THROTTLED:
            self.pacer.refused()  # the domain's shared budget has less left than our pace assumed
            retry_after = response.headers.get("retry-after", "")
            code, message = _error_of(response.json() if _is_json(response) else {})
            raise Transient(f"HTTP 429: {code}: {message}".rstrip(": "), maybe_done=False,
                            retry_after=float(retry_after) if retry_after.isdigit() else None)
        if response.status_code >= 500:
            raise Transient(f"HTTP {response.status_code}", maybe_done=True)
        parsed: Any = {}
        if response.content:
            try:
                parsed = response.json()
            except ValueError:
                if response.is_success:  # a front end's page where the API answers JSON
                    raise Transient(f"HTTP {response.status_code}, an answer that is not JSON",
                                    maybe_done=True) from None
                parsed = {"message": f"not JSON ({response.headers.get('content-type', 'no content type')})"}
        answer = parsed if isinstance(parsed, dict) else {"value": parsed}
        return response.status_code, answer


def _is_json(response: Any) -> bool:
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def _error_of(body: Mapping[str, Any]) -> tuple[str, str]:
    code = str(body.get("code") or body.get("detailErrorCode") or body.get("error") or "")
    message = str(body.get("message") or body.get("error_description") or "")
    return code, message


def _endpoint(host: str) -> str:
    url = loopback_endpoint(ENDPOINT_ENV)
    return f"https://{host}/" if url is None else url.rstrip("/") + "/"
