"""Tokens for an admin's delegated access, for the two ways in that hold no key.

Domain-wide delegation works by a JWT the service account signs: `sub` is the admin it acts
as, `scope` the scopes it wants. Google's token endpoint trades it for an access token only if
the customer's delegation grants every scope named (otherwise 401 unauthorized_client, for the
whole token: hence one token per API whose scope an admin may not have added yet).

- Keyless, Workload Identity Federation: the federated identity asks the IAM Service Account
  Credentials API to sign the JWT as the service account (`signJwt`), then trades it at the
  token endpoint. The IAM call needs https://www.googleapis.com/auth/cloud-platform on the
  *source* credentials (not the Admin scopes), the API enabled in the service account's
  project, and the Service Account Token Creator role for the federated principal.
  google-auth's impersonated credentials do the same, but reach signJwt and the token endpoint
  at fixed addresses; signing here keeps both in one place, with errors that say what to fix.
- Loopback, the emulator: no key and no IAM; the JWT goes unsigned to the emulator's stand-in
  of the token endpoint, which mints a token that names its scopes (see tests/emulators/google).

A key file keeps google-auth's own service account credentials (`with_subject`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import urllib.parse
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from google.auth import credentials as ga_credentials
from google.auth.exceptions import RefreshError, TransportError

from reconciler.i18n import T_
from reconciler.providers.pacing import backoff_s

OAUTH2_TOKEN_URL = "https://oauth2.googleapis.com/token"
IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{}:signJwt"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"  # what signJwt takes from the caller
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TRIES = 6
LIFETIME = dt.timedelta(hours=1)  # the longest a delegated token may live
DELEGATION_PLACE = ("Admin console > Security > Access and data control > API controls > Domain-wide delegation, "
                    "the service account's client id")


def _utcnow() -> dt.datetime:
    """Naive UTC, as google-auth compares `expiry`."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _body(response: Any) -> str:
    data = response.data
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


class ScopesRefused(RefreshError):
    """The token endpoint's refusal of scopes the domain-wide delegation does not grant. Its text
    stays Google's answer and the scopes in English (a change's result, the access check's JSON);
    `said` is the same sentence, said in the reader's language where it is shown."""

    def __init__(self, google_error: str, scopes: Sequence[str]) -> None:
        self.said = T_("{error} (the token asked for {scopes}: each must be granted in {place})", error=google_error,
                       scopes=" ".join(scopes), place=DELEGATION_PLACE)
        super().__init__(str(self.said))
        self.google_error = google_error
        self.scopes = tuple(scopes)


def trade_assertion(request: Any, token_url: str, assertion: str, scopes: Sequence[str]) -> tuple[str, dt.datetime]:
    """The access token the token endpoint gives for a signed JWT (RefreshError, saying which scopes
    to grant where, if it refuses)."""
    form = urllib.parse.urlencode({"grant_type": JWT_BEARER, "assertion": assertion})
    response = request(url=token_url, method="POST", body=form,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    text = _body(response)
    try:
        answer = json.loads(text)
    except ValueError:
        answer = {}
    if response.status >= 500 or response.status == 429:  # no refusal: the endpoint is down or busy
        raise RefreshError(f"the token endpoint answered {response.status}"
                           + ("" if answer else " with a page, not JSON"), retryable=True)
    if response.status != 200 or "access_token" not in answer:
        error = f"{answer.get('error', response.status)}: {answer.get('error_description', text.strip())}"
        if answer.get("error") == "unauthorized_client":
            raise ScopesRefused(error, scopes)
        raise RefreshError(error)
    expires = int(answer.get("expires_in", 3600))
    return str(answer["access_token"]), _utcnow() + dt.timedelta(seconds=expires)


class DelegatedCredentials(ga_credentials.Credentials):
    """A token for `admin`, for exactly `scopes`, from a JWT that `_sign` signs."""

    def __init__(self, admin: str, scopes: Sequence[str], token_url: str, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.admin = admin
        self.scopes = tuple(scopes)
        self.token_url = token_url
        self.sleep = sleep  # the provider's (tests pass one that moves a fake clock)

    def claims(self, issuer: str) -> dict[str, Any]:
        now = int(_utcnow().replace(tzinfo=dt.UTC).timestamp())
        return {"iss": issuer, "sub": self.admin, "scope": " ".join(self.scopes), "aud": self.token_url,
                "iat": now, "exp": now + int(LIFETIME.total_seconds())}

    @abstractmethod
    def _sign(self, request: Any) -> str:
        """The assertion for the token endpoint."""

    def refresh(self, request: Any) -> None:
        """A new token; a token endpoint that is down, busy or unanswered is asked again (1, 2, 4 ... s,
        TOKEN_TRIES times): the reads that need the token have no retry of their own for it."""
        for attempt in range(TOKEN_TRIES):
            try:
                self.token, self.expiry = trade_assertion(request, self.token_url, self._sign(request), self.scopes)
                return
            except (RefreshError, TransportError) as exc:
                if attempt == TOKEN_TRIES - 1 or (isinstance(exc, RefreshError) and not exc.retryable):
                    raise
            self.sleep(backoff_s(attempt))


class KeylessDelegation(DelegatedCredentials):
    """Workload Identity Federation: `source` (scoped to cloud-platform) has IAM sign the JWT as
    `service_account`."""

    def __init__(self, source: Any, service_account: str, admin: str, scopes: Sequence[str], *,
                 sign_url: str | None = None, token_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        # Read when built, not when imported: tests point both at a loopback stand-in.
        super().__init__(admin, scopes, token_url or OAUTH2_TOKEN_URL, sleep=sleep)
        self.source = source
        self.service_account = service_account
        self.sign_url = (sign_url or IAM_CREDENTIALS_URL).format(urllib.parse.quote(service_account))

    def _sign(self, request: Any) -> str:
        if not self.source.valid:
            self.source.refresh(request)
        headers = {"Content-Type": "application/json"}
        self.source.apply(headers)
        body = json.dumps({"payload": json.dumps(self.claims(self.service_account))})
        response = request(url=self.sign_url, method="POST", body=body, headers=headers)
        text = _body(response)
        if response.status != 200:
            refused = T_("IAM refused to sign as {account} ({status}): {message}{hint}", account=self.service_account,
                         status=response.status, message=_iam_message(text), hint=_iam_hint(text))
            error = RefreshError(str(refused))
            error.said = refused  # type: ignore[attr-defined]  # said where shown (google_errors)
            raise error
        try:
            return str(json.loads(text)["signedJwt"])
        except (ValueError, KeyError, TypeError):
            raise RefreshError(f"IAM answered signJwt without a signed JWT: {text[:200]}") from None


class LoopbackDelegation(DelegatedCredentials):
    """The emulator's: an unsigned JWT (only the loopback emulator takes it) naming admin and scopes."""

    def _sign(self, request: Any) -> str:
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(self.claims('loopback-emulator'))}."


def _iam_message(text: str) -> str:
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return text.strip()[:200]


def _iam_hint(text: str) -> str:
    """What to do, for the refusals people meet setting up keyless sign-in."""
    if "SERVICE_DISABLED" in text or "has not been used in project" in text:
        return T_("; enable the {api} ({host}) in the project", api="IAM Service Account Credentials API",
                  host="iamcredentials.googleapis.com")
    if "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in text:
        return T_("; the federated credentials must be scoped to {scope}", scope=CLOUD_PLATFORM)
    if "iam.serviceAccounts.signJwt" in text or "IAM_PERMISSION_DENIED" in text:
        return T_("; grant the workload identity pool's principal {role} on the service account",
                  role="roles/iam.serviceAccountTokenCreator")
    return ""
