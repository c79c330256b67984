"""The emulators are as strict as the real services about what `reconciler doctor` reads:

- Gmail settings are read only as the person (domain-wide delegation with that user as the
  subject) and only with a Gmail scope; Google answers 403 "Delegation denied for <subject>" for
  another mailbox, and 403 insufficient scopes for an Admin SDK token;
- Graph's inbox rules need MailboxSettings.Read, and a user without an Exchange Online mailbox
  answers 404 MailboxNotEnabledForRESTAPI; the sign-in log needs AuditLog.Read.All and Entra ID
  P1/P2; a password never comes back in passwordProfile.

And the doctor turns each refusal into "not available" naming the grant, never a failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from reconciler.providers.google.client import SCOPE_GMAIL_SETTINGS, SCOPES_READ
from reconciler.providers.google.credentials import LoopbackDelegation
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from reconciler.providers.microsoft.mailbox import RULES_NEED
from tests import test_microsoft_provider
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

ALICE, BOB = "alice@acme.com", "bob@acme.com"


@pytest.fixture
def google() -> Iterator[GoogleEmulator]:
    emu = GoogleEmulator(domains=("acme.com",)).start()
    emu.add_user(ALICE, "Alice", "A")
    emu.add_user(BOB, "Bob", "B")
    try:
        yield emu
    finally:
        emu.stop()


@contextlib.contextmanager
def gmail_as(emu: GoogleEmulator, subject: str, scopes: tuple[str, ...]) -> Iterator[Any]:
    """The Gmail API as the provider builds it: a loopback delegation token for `subject`."""
    credentials = LoopbackDelegation(subject, scopes, emu.url.rstrip("/") + "/token")
    http = httplib2.Http()
    try:
        credentials.refresh(google_auth_httplib2.Request(http))
    finally:
        http.close()
    client = build("gmail", "v1", credentials=credentials, client_options={"api_endpoint": emu.url},
                   static_discovery=True, cache_discovery=False)
    try:
        yield client
    finally:
        client.close()


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return int(caught.value.resp.status), json.loads(caught.value.content)["error"]["message"]


def test_gmail_reads_a_mailbox_only_as_its_owner(google: GoogleEmulator) -> None:
    google.set_gmail(ALICE, auto_forwarding={"enabled": True, "emailAddress": "x@example.org",
                                             "disposition": "leaveInInbox"})
    with gmail_as(google, ALICE, (SCOPE_GMAIL_SETTINGS,)) as as_alice:
        assert as_alice.users().settings().getAutoForwarding(userId=ALICE).execute()["emailAddress"] == "x@example.org"
        assert as_alice.users().settings().getAutoForwarding(userId="me").execute()["enabled"] is True
        assert refusal(as_alice.users().settings().getAutoForwarding(userId=BOB)) == (
            403, f"Delegation denied for {ALICE}")


def test_gmail_refuses_an_admin_sdk_token(google: GoogleEmulator) -> None:
    with gmail_as(google, ALICE, SCOPES_READ) as as_admin:
        status, message = refusal(as_admin.users().settings().filters().list(userId=ALICE))
    assert status == 403 and message == "Request had insufficient authentication scopes."


def test_a_delegation_without_the_gmail_scope_mints_no_token(google: GoogleEmulator) -> None:
    google.delegation = google.delegation - {SCOPE_GMAIL_SETTINGS}
    from google.auth.exceptions import RefreshError

    with pytest.raises(RefreshError), gmail_as(google, ALICE, (SCOPE_GMAIL_SETTINGS,)):
        pass


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(domains=("acme.com",), skus=test_microsoft_provider.SKUS).start()
    monkeypatch.setenv(GRAPH_ENDPOINT_ENV, emu.url)
    emu.add_user(ALICE, "Alice", mail=ALICE)  # a mailbox (Exchange provisioned one)
    emu.add_user(BOB, "Bob")  # never licensed for Exchange: no mailbox
    try:
        yield emu
    finally:
        emu.stop()


def get(emu: GraphEmulator, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{emu.url}/v1.0{path}") as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_inbox_rules_need_a_mailbox_and_the_permission(graph: GraphEmulator) -> None:
    assert get(graph, f"/users/{ALICE}/mailFolders/inbox/messageRules")[0] == 200
    status, body = get(graph, f"/users/{BOB}/mailFolders/inbox/messageRules")
    assert (status, body["error"]["code"]) == (404, "MailboxNotEnabledForRESTAPI")
    graph.revoke("MailboxSettings.ReadWrite")
    status, body = get(graph, f"/users/{ALICE}/mailFolders/inbox/messageRules")
    assert (status, body["error"]["code"]) == (403, "Authorization_RequestDenied")


def test_the_sign_in_log_needs_premium_and_filters_by_person(graph: GraphEmulator) -> None:
    graph.add_sign_in(ALICE, dt.datetime(2026, 11, 1, tzinfo=dt.UTC), "203.0.113.1", "CN")
    graph.add_sign_in(BOB, dt.datetime(2026, 11, 2, tzinfo=dt.UTC), "203.0.113.2", "CN")
    status, body = get(graph, "/auditLogs/signIns?$filter=userPrincipalName%20eq%20'alice@acme.com'&$top=5")
    assert status == 200 and [s["ipAddress"] for s in body["value"]] == ["203.0.113.1"]
    graph.premium = False
    status, body = get(graph, "/auditLogs/signIns")
    assert (status, body["error"]["code"]) == (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")


def test_a_password_never_comes_back(graph: GraphEmulator) -> None:
    with graph._lock:
        user = graph.store.find_user(ALICE)
        assert user is not None
        user["passwordProfile"] = {"password": "Secret-1234", "forceChangePasswordNextSignIn": True}
    status, body = get(graph, f"/users/{ALICE}?$select=passwordProfile")
    assert status == 200
    assert body["passwordProfile"] == {"password": None, "forceChangePasswordNextSignIn": True}


def test_the_doctor_says_which_grant_a_refused_read_needs(graph: GraphEmulator) -> None:
    graph.revoke("MailboxSettings.ReadWrite")
    graph.premium = False
    health = test_microsoft_provider.provider().mailbox_health(ALICE)
    assert health.unavailable["rules"].endswith(RULES_NEED)
    assert "403 Authorization_RequestDenied" in health.unavailable["rules"]
    assert "Entra ID P1 or P2" in health.unavailable["sign_ins"]
    assert health.rules == () and health.mailbox_ready is None


def test_the_doctor_tells_a_user_without_a_mailbox(graph: GraphEmulator) -> None:
    health = test_microsoft_provider.provider().mailbox_health(BOB)
    assert (health.mailbox_ready, health.mail_service) == (False, False)
    assert health.mail_service_detail is not None and "no Exchange Online service plan" in health.mail_service_detail
