"""Who may call what at Google: the scopes domain-wide delegation grants (by default exactly those
the README lists), tokens refused whole when one scope is missing, calls refused without the
scope they need, and `check_access` naming the exact grant that is missing and where."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from reconciler.providers.base import CAPABILITIES, Capability
from reconciler.providers.google import GoogleProvider
from reconciler.providers.google.activity import read_google_activity
from reconciler.providers.google.client import AUTH, DELEGATION, SCOPE_REPORTS, SCOPES_READ
from tests.emulators.google import GoogleEmulator
from tests.emulators.google.auth import readme_delegation
from tests.google_support import TODAY, emulator, google_config

__all__ = ["emulator"]  # the fixture, imported for pytest
PLACE = "Admin console > Security > Access and data control > API controls > Domain-wide delegation"


def test_the_readme_lists_exactly_the_scopes_the_provider_asks_for() -> None:
    assert readme_delegation() == set(DELEGATION)


def _post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def _get(url: str, token: str | None) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), json.loads(exc.read())


def _assertion(*scopes: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none'})}.{part({'sub': 'admin@acme.com', 'scope': ' '.join(scopes)})}."


def _token(emulator: GoogleEmulator, *scopes: str) -> tuple[int, dict[str, Any]]:
    return _post(f"{emulator.url}token", {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                          "assertion": _assertion(*scopes)})


def test_tokens_and_calls_are_refused_as_google_refuses_them(emulator: GoogleEmulator) -> None:
    emulator.delegation = set(SCOPES_READ) - {AUTH + "admin.directory.group.readonly"}
    users = f"{emulator.url}admin/directory/v1/users?customer=my_customer"
    # A token naming one scope the delegation lacks is refused whole.
    status, body = _token(emulator, AUTH + "admin.directory.user.readonly", AUTH + "admin.directory.group.readonly")
    assert (status, body) == (401, {"error": "unauthorized_client", "error_description": (
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of "
        "the scopes requested.")})
    # A token without the scope a call takes: 403, naming the scopes it would take.
    status, body = _token(emulator, AUTH + "apps.licensing")
    assert status == 200 and body["access_token"] == f"emulator:{AUTH}apps.licensing"
    status, headers, error = _get(users, body["access_token"])
    assert status == 403
    assert error["error"]["message"] == "Request had insufficient authentication scopes."
    assert error["error"]["errors"] == [{"message": "Insufficient Permission", "domain": "global",
                                         "reason": "insufficientPermissions"}]
    assert error["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert f'scope="{AUTH}admin.directory.user {AUTH}admin.directory.user.readonly' in headers["WWW-Authenticate"]
    # No token, or one Google never issued: 401.
    assert _get(users, None)[2]["error"]["errors"][0]["reason"] == "required"
    assert _get(users, "emulator:forged")[2]["error"]["status"] == "UNAUTHENTICATED"
    status, _, listing = _get(users, _token(emulator, AUTH + "admin.directory.user.readonly")[1]["access_token"])
    assert (status, listing["kind"]) == (200, "admin#directory#users")


def test_a_scope_not_granted_costs_only_the_api_that_needs_it(emulator: GoogleEmulator) -> None:
    emulator.delegation = emulator.delegation - {SCOPE_REPORTS}
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", is_enrolled_2sv=True)
    google = GoogleProvider(google_config(), ["Google-Apps"], read_only=True)
    try:
        report = read_google_activity(google.clients, "my_customer", None, TODAY)
    finally:
        google.close()
    assert report.of("ann@acme.com").two_step is True  # the directory's own token was given
    assert list(report.unavailable) == ["storage"]
    assert "unauthorized_client" in report.unavailable["storage"]
    assert SCOPE_REPORTS in report.unavailable["storage"]


# ----------------------------------------------------------------------------- check_access


def _check(emulator: GoogleEmulator, capabilities: tuple[Capability, ...], *, read_only: bool,
           missing: str | None = None) -> dict[str, Any]:
    if missing is not None:
        emulator.delegation = emulator.delegation - {missing}
    google = GoogleProvider(google_config(), ["Google-Apps"], read_only=read_only)
    try:
        return {r.capability: r for r in google.check_access(capabilities)}
    finally:
        google.close()


@pytest.mark.parametrize("read_only", [True, False])
def test_an_identity_with_every_grant_can_do_everything(emulator: GoogleEmulator, read_only: bool) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    results = _check(emulator, CAPABILITIES, read_only=read_only)
    assert {c: r.ok for c, r in results.items()} == dict.fromkeys(CAPABILITIES, True)
    assert results["read"].detail == "listed 1 user(s)"
    assert results["sign-out"].detail == (f"Google gave a token for {AUTH}admin.directory.user.security "
                                          f"{AUTH}gmail.settings.sharing")


@pytest.mark.parametrize(("capability", "read_only", "scope"), [
    ("read", True, "admin.directory.user.readonly"),
    ("write", False, "admin.directory.orgunit"),
    ("sign-out", False, "admin.directory.user.security"),
    ("sign-out", False, "gmail.settings.sharing"),  # a freeze turns forwarding off and removes delegates
    ("licenses", True, "apps.licensing"),
    ("admin-roles", True, "admin.directory.rolemanagement.readonly"),
    ("data-transfer", True, "admin.datatransfer.readonly"),
    ("data-transfer", False, "admin.datatransfer"),
    ("activity", False, "admin.reports.usage.readonly"),
    ("mailbox", True, "gmail.settings.basic"),
    ("dns-records", True, "admin.directory.domain.readonly"),
    ("domains", False, "admin.directory.domain"),
])
def test_a_missing_scope_is_named_with_where_to_grant_it(emulator: GoogleEmulator, capability: Capability,
                                                         read_only: bool, scope: str) -> None:
    [result] = _check(emulator, (capability,), read_only=read_only, missing=AUTH + scope).values()
    assert result.ok is False
    assert result.detail.startswith("401 unauthorized_client: ")
    assert f"the domain-wide delegation lacks {AUTH}{scope}; add it in {PLACE}, the service account's client id" \
        in result.detail


def test_only_what_needs_the_missing_scope_fails(emulator: GoogleEmulator) -> None:
    results = _check(emulator, CAPABILITIES, read_only=False, missing=AUTH + "admin.directory.user.security")
    assert [c for c, r in results.items() if not r.ok] == ["sign-out"]


def test_a_missing_admin_privilege_is_named(emulator: GoogleEmulator) -> None:
    emulator.fail_next("GET", r"/roleassignments$", 403, "forbidden", "Not Authorized to access this resource/api")
    emulator.fail_next("GET", r"/users$", 400, "invalid", "Invalid Input")
    results = _check(emulator, ("admin-roles", "read"), read_only=True)
    assert results["admin-roles"].ok is False
    assert results["admin-roles"].detail == (
        "403 forbidden: Not Authorized to access this resource/api: the admin admin@acme.com needs the privilege "
        "the admin roles privileges (in practice: super admin) (Admin console > Account > Admin roles)")
    assert (results["read"].ok, results["read"].detail) == (None, "could not tell: Google answered 400 invalid: "
                                                                  "Invalid Input")
