"""Who may call what: domain-wide delegation, the tokens it allows, and the scopes each call needs.

Google checks twice before an Admin API call runs:
- the token endpoint mints a token for the service account acting as an admin only if the
  customer's domain-wide delegation grants *every* scope asked for; otherwise the whole token
  is refused (401 ``unauthorized_client``);
- a call runs only if its token carries one of the scopes its discovery entry lists; otherwise
  403 ``insufficientPermissions``, "Request had insufficient authentication scopes.".

The emulator stands in for the three endpoints a sign-in passes through (paths no Admin API
has, so they never clash with the APIs):

    POST /token        oauth2.googleapis.com/token: the jwt-bearer grant of domain-wide delegation;
                       the assertion's ``scope`` claim must lie within the delegation
    POST /v1/token     sts.googleapis.com/v1/token: Workload Identity Federation's token exchange
    POST /v1/projects/-/serviceAccounts/{email}:signJwt
                       iamcredentials.googleapis.com: signs a JWT as the service account; the
                       caller's token must carry cloud-platform (or iam), and the API must be enabled

Admin API tokens it mints read ``emulator:<space-separated scopes>`` and are remembered, so a
call names the scopes it was minted with. The loopback switch of the provider has no key to sign
with: it sends an unsigned assertion (``alg: none``) to ``/token``, which only this emulator takes.
A request without an Authorization header is refused (401) unless the emulator allows anonymous
calls, as it does by default: its own API tests drive it with anonymous credentials.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ApiError, insufficient_scopes, invalid_credentials, missing_credentials

README = Path(__file__).resolve().parents[3] / "README.md"
AUTH = "https://www.googleapis.com/auth/"
CLOUD_PLATFORM = AUTH + "cloud-platform"
IAM = AUTH + "iam"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
SIGNATURE = "emulator-signature"  # what signJwt signs with; /token takes it, or an unsigned assertion
TOKEN_PATH, STS_PATH = "/token", "/v1/token"
SIGN_JWT = re.compile(r"^/v1/projects/-/serviceAccounts/(?P<email>[^/:]+):signJwt$")
# What Google's token endpoint answers when the delegation lacks a scope asked for.
UNAUTHORIZED_CLIENT = {"error": "unauthorized_client",
                       "error_description": "Client is unauthorized to retrieve access tokens using this method, "
                                            "or client not authorized for any of the scopes requested."}
API_SERVICES = {"admin": "admin.googleapis.com", "licensing": "licensing.googleapis.com",
                "gmail": "gmail.googleapis.com", "groupssettings": "groupssettings.googleapis.com"}
GMAIL = AUTH + "gmail"


def readme_delegation(readme: Path = README) -> frozenset[str]:
    """The scopes the README's Google Workspace section tells an admin to grant (its delegation block)."""
    text = readme.read_text(encoding="utf-8")
    section = text.partition("\n## Google Workspace")[2].partition("\n## ")[0]
    after = section.partition("Domain-wide delegation")[2]
    block = after.partition("```")[2].partition("```")[0]
    scopes = frozenset(line.strip() for line in block.splitlines() if line.strip().startswith(AUTH))
    if not scopes:
        raise ValueError(f"{readme}: no domain-wide delegation scope list in the Google Workspace section")
    return scopes


@dataclass
class Reply:
    """An identity endpoint's answer (JSON)."""

    status: int
    payload: dict[str, Any]


@dataclass
class Identity:
    """Delegation, minted tokens, and what the token endpoints were asked (for tests to read)."""

    delegation: frozenset[str]
    anonymous: bool = True  # calls without a token are let through unchecked
    iam_credentials_enabled: bool = True  # the IAM Service Account Credentials API in the project
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)  # access token -> its scopes
    subjects: dict[str, str] = field(default_factory=dict)  # access token -> the user it acts as
    requests: list[dict[str, Any]] = field(default_factory=list)  # every token request: endpoint and form
    # Whether the directory holds `sub` suspended: Google grants no token to act as a suspended
    # user (400 invalid_grant "Invalid email or User ID", as for one that does not exist), so the
    # Gmail API cannot be used on a frozen account once it is suspended.
    suspended: Callable[[str], bool] = lambda subject: False

    # ------------------------------------------------------------------------- the token endpoints

    def serve(self, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        """The answer of an identity endpoint, or None when `path` is not one."""
        if path == TOKEN_PATH:
            return self._grant(_form(body))
        if path == STS_PATH:
            return self._exchange(_form(body))
        found = SIGN_JWT.match(path)
        if found:
            return self._sign_jwt(urllib.parse.unquote(found["email"]), headers, body)
        return None

    def _mint(self, scopes: Collection[str], prefix: str = "emulator", subject: str | None = None) -> str:
        token = f"{prefix}:{' '.join(sorted(scopes))}"
        if subject and any(s.startswith(GMAIL) for s in scopes):
            token += f"#{subject}"  # the Gmail API acts as one user: its tokens differ by subject
        self.tokens[token] = frozenset(scopes)
        if subject:
            self.subjects[token] = subject.lower()
        return token

    def subject(self, authorization: str | None) -> str | None:
        """The user a token was minted for (the delegation's subject)."""
        return self.subjects.get((authorization or "").removeprefix("Bearer ").strip())

    def _grant(self, form: dict[str, str]) -> Reply:
        claims = _claims(form.get("assertion", ""))
        self.requests.append({"endpoint": "oauth2", **form, "scope": (claims or {}).get("scope"),
                              "sub": (claims or {}).get("sub")})
        if form.get("grant_type") != JWT_BEARER:
            return Reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "
                               + form.get("grant_type", "")})
        if claims is None:
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return Reply(400, {"error": "invalid_scope", "error_description": "Empty or missing scope not allowed."})
        if not scopes <= self.delegation:
            return Reply(401, dict(UNAUTHORIZED_CLIENT))
        subject = str(claims.get("sub") or "") or None
        if subject is not None and self.suspended(subject):
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid email or User ID"})
        token = self._mint(scopes, subject=subject)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _exchange(self, form: dict[str, str]) -> Reply:
        """STS: any subject token is trusted (the pool's provider conditions are not modelled)."""
        self.requests.append({"endpoint": "sts", **form})
        if form.get("grant_type") != TOKEN_EXCHANGE or not form.get("subject_token"):
            return Reply(400, {"error": "invalid_request", "error_description": "Invalid token exchange request."})
        token = self._mint(form.get("scope", "").split(), prefix="sts")
        return Reply(200, {"access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                           "token_type": "Bearer", "expires_in": 3600})

    def _sign_jwt(self, email: str, headers: dict[str, str], body: bytes) -> Reply:
        self.requests.append({"endpoint": "iamcredentials", "service_account": email,
                              "authorization": headers.get("authorization", "")})
        if not self.iam_credentials_enabled:
            return Reply(403, _rpc_error(403, "IAM Service Account Credentials API has not been used in project "
                                         "000000000000 before or it is disabled. Enable it by visiting https://"
                                         "console.developers.google.com/apis/api/iamcredentials.googleapis.com/"
                                         "overview?project=000000000000 then retry.", "PERMISSION_DENIED",
                                         "SERVICE_DISABLED"))
        scopes = self.tokens.get(headers.get("authorization", "").removeprefix("Bearer ").strip())
        if scopes is None:
            return Reply(401, _rpc_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED",
                                         "ACCESS_TOKEN_TYPE_UNSUPPORTED"))
        if not scopes & {CLOUD_PLATFORM, IAM}:
            return Reply(403, _rpc_error(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED",
                                         "ACCESS_TOKEN_SCOPE_INSUFFICIENT"))
        try:
            payload = json.loads(json.loads(body)["payload"])
        except (ValueError, KeyError, TypeError):
            return Reply(400, _rpc_error(400, "Invalid JWT payload.", "INVALID_ARGUMENT", "INVALID_ARGUMENT"))
        if payload.get("iss") != email:
            payload = {**payload, "iss": email}  # Google signs as the service account named in the path
        header = {"alg": "RS256", "typ": "JWT", "kid": "emulator"}
        signed = ".".join((_b64(header), _b64(payload), base64.urlsafe_b64encode(SIGNATURE.encode()).decode()))
        return Reply(200, {"keyId": "emulator", "signedJwt": signed.replace("=", "")})

    # ------------------------------------------------------------------------- the API calls

    def check(self, authorization: str | None, api: str, scopes: frozenset[str]) -> None:
        """Refuse a call whose token Google would not take (ApiError), or pass."""
        if authorization is None:
            if self.anonymous:
                return
            raise missing_credentials()
        token = authorization.removeprefix("Bearer ").strip()
        held = self.tokens.get(token)
        # A federated (STS) token is the pool's identity, not the admin's: the Admin APIs refuse it.
        if held is None or token.startswith("sts:"):
            raise invalid_credentials()
        if scopes and not held & scopes:
            raise insufficient_scopes(API_SERVICES.get(api, "admin.googleapis.com"), scopes)


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _claims(assertion: str) -> dict[str, Any] | None:
    """The claims of an assertion this emulator takes: signed by its signJwt, or unsigned (loopback)."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if header.get("alg") == "none" and not parts[2]:
        return dict(claims)
    return dict(claims) if signature == SIGNATURE else None


def _rpc_error(code: int, message: str, status: str, reason: str) -> dict[str, Any]:
    """The error shape of newer Google front ends (IAM): status and an ErrorInfo, no "errors" list."""
    return {"error": {"code": code, "message": message, "status": status, "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
         "metadata": {"service": "iamcredentials.googleapis.com"}}]}}


__all__ = ["ApiError", "Identity", "readme_delegation"]
