"""Keyless sign-in (Workload Identity Federation) end to end on loopback: GitHub's OIDC token is
exchanged at STS, IAM's signJwt signs the delegation JWT as the service account, the token
endpoint trades it for the admin's token, and the Admin API takes that token.

The emulator stands in for sts, iamcredentials and oauth2. google-auth reaches STS through the
external-account config's `token_url`; the reconciler's own signJwt and token endpoint
addresses (credentials.py) are pointed at the emulator the same way a test would point any
endpoint. Nothing leaves loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build

from reconciler.providers.google import credentials
from reconciler.providers.google.client import AUTH, ENDPOINT_ENV, SCOPES_READ, _credentials
from reconciler.providers.google.credentials import CLOUD_PLATFORM, KeylessDelegation
from tests.emulators.google import GoogleEmulator

SERVICE_ACCOUNT = "reconciler@acme-it.iam.gserviceaccount.com"
AUDIENCE = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/providers/acme"
GITHUB_OIDC = "eyJhbGciOiJSUzI1NiJ9.github-actions-oidc-token.signature"


@pytest.fixture
def identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleEmulator]:
    emu = GoogleEmulator(domains=("acme.com",), anonymous=False).start()
    oidc = tmp_path / "github-oidc.jwt"
    oidc.write_text(GITHUB_OIDC)
    config = tmp_path / "gha-creds.json"  # what google-github-actions/auth writes for direct federation
    config.write_text(json.dumps({
        "type": "external_account", "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{emu.url}v1/token", "credential_source": {"file": str(oidc)}}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(config))
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    monkeypatch.setattr(credentials, "IAM_CREDENTIALS_URL", emu.url + "v1/projects/-/serviceAccounts/{}:signJwt")
    monkeypatch.setattr(credentials, "OAUTH2_TOKEN_URL", f"{emu.url}token")
    try:
        yield emu
    finally:
        emu.stop()


def _refresh(creds: KeylessDelegation) -> None:
    http = httplib2.Http(timeout=10)
    try:
        creds.refresh(google_auth_httplib2.Request(http))
    finally:
        http.close()


def test_keyless_sign_in_reaches_the_admin_api_as_the_admin(identity: GoogleEmulator) -> None:
    identity.add_user("ann@acme.com", "Ann", "Lee")
    creds = _credentials("admin@acme.com", SERVICE_ACCOUNT, list(SCOPES_READ))
    assert isinstance(creds, KeylessDelegation)
    with build("admin", "directory_v1", credentials=creds, client_options={"api_endpoint": identity.url},
               static_discovery=True, cache_discovery=False) as directory:
        listing = directory.users().list(customer="my_customer").execute()
    assert [u["primaryEmail"] for u in listing["users"]] == ["ann@acme.com"]
    # The federated credentials ask STS for what IAM takes, not for the Admin scopes...
    [exchange] = identity.token_requests("sts")
    assert (exchange["scope"], exchange["audience"], exchange["subject_token"]) == (
        CLOUD_PLATFORM, AUDIENCE, GITHUB_OIDC)
    # ...IAM signs the delegation JWT as the service account, called with that federated token...
    [signing] = identity.token_requests("iamcredentials")
    assert (signing["service_account"], signing["authorization"]) == (SERVICE_ACCOUNT, f"Bearer sts:{CLOUD_PLATFORM}")
    # ...and the token endpoint gives the admin's token for exactly the Admin scopes.
    [grant] = identity.token_requests("oauth2")
    assert (grant["sub"], sorted(str(grant["scope"]).split())) == ("admin@acme.com", sorted(SCOPES_READ))


def test_a_disabled_iam_credentials_api_says_to_enable_it(identity: GoogleEmulator) -> None:
    identity.identity.iam_credentials_enabled = False
    creds = _credentials("admin@acme.com", SERVICE_ACCOUNT, list(SCOPES_READ))
    with pytest.raises(RefreshError, match=r"IAM refused to sign as reconciler@acme-it\.iam\.gserviceaccount\.com "
                                           r"\(403\): IAM Service Account Credentials API has not been used .*; "
                                           r"enable the IAM Service Account Credentials API"):
        _refresh(creds)


def test_federated_credentials_without_cloud_platform_are_refused_by_iam(identity: GoogleEmulator) -> None:
    keyless = _credentials("admin@acme.com", SERVICE_ACCOUNT, list(SCOPES_READ))
    assert isinstance(keyless, KeylessDelegation)
    narrow = KeylessDelegation(keyless.source.with_scopes([AUTH + "admin.directory.user"]), SERVICE_ACCOUNT,
                               "admin@acme.com", SCOPES_READ)
    with pytest.raises(RefreshError, match=re.escape(f"must be scoped to {CLOUD_PLATFORM}")):
        _refresh(narrow)
