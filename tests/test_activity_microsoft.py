"""Account activity from Microsoft 365 (providers/microsoft/activity.py) through msgraph-sdk's HTTP
pipeline against the Graph emulator: signInActivity, the MFA registration report and the
mailbox usage report (a redirect to a CSV file)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconciler.activity import Activity
from reconciler.errors import ProviderError
from tests.emulators.graph import GraphEmulator
from tests.test_microsoft_provider import graph, provider

__all__ = ["graph"]  # the fixture, imported for pytest

REGISTRATIONS = "/reports/authenticationMethods/userRegistrationDetails"
MAILBOXES = "/reports/getMailboxUsageDetail(period='D7')"


def _created(graph: GraphEmulator, address: str) -> dt.datetime:
    user = graph.user(address)
    assert user is not None
    return dt.datetime.fromisoformat(user["createdDateTime"])


def _paths(graph: GraphEmulator) -> list[str]:
    return [path for _, path in graph.calls()]


def test_planted_figures_come_back_exactly(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.add_user("bob@acme.com", "Bob Ma")
    graph.set_user_activity("ann@acme.com", last_sign_in="2026-10-01T08:30:00Z", mfa_registered=True,
                            used_mb=1234, quota_mb=51200)
    graph.reset_stats()
    report = provider().activity()
    assert report.unavailable == {}
    assert report.by_user == {
        "ann@acme.com": Activity(last_sign_in=dt.datetime(2026, 10, 1, 8, 30, tzinfo=dt.UTC), never_signed_in=False,
                                 two_step=True, used_mb=1234, quota_mb=51200, created=_created(graph, "ann@acme.com")),
        # No signInActivity: never signed in; no mailbox: no storage figure.
        "bob@acme.com": Activity(last_sign_in=None, never_signed_in=True, two_step=False, used_mb=None,
                                 quota_mb=None, created=_created(graph, "bob@acme.com")),
    }
    assert _paths(graph) == ["/users", REGISTRATIONS, MAILBOXES]
    [users] = [c for c in graph.call_log() if c["path"] == "/users"]
    assert users["query"] == {"$top": "500", "$select": "userPrincipalName,signInActivity,createdDateTime"}
    assert graph.downloads() == 1  # the CSV behind the redirect


def test_a_short_list_is_read_in_one_batch_a_source(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.add_user("bob@acme.com", "Bob Ma")
    graph.set_user_activity("ann@acme.com", mfa_registered=True, used_mb=3)
    graph.reset_stats()
    ms = provider()
    report = ms.activity(["Ann@acme.com", "gone@acme.com"])
    assert list(report.by_user) == ["ann@acme.com"]  # bob was not asked about; gone@ is no user
    ann = report.of("ann@acme.com")
    assert (ann.never_signed_in, ann.two_step, ann.used_mb, ann.quota_mb) == (True, True, 3, 51200)
    assert _paths(graph) == ["/users/ann@acme.com", "/users/gone@acme.com", REGISTRATIONS, REGISTRATIONS, MAILBOXES]
    assert (graph.stats()["batches"], ms.requests) == (2, 3)


def test_a_tenant_without_p1_leaves_sign_ins_and_mfa_unavailable(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.set_user_activity("ann@acme.com", last_sign_in="2026-10-01T08:30:00Z", mfa_registered=True, used_mb=9)
    graph.premium = False
    graph.reset_stats()
    report = provider().activity()
    assert set(report.unavailable) == {"last_sign_in", "two_step"}
    for line in report.unavailable.values():
        assert "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" in line
        assert "AuditLog.Read.All" in line and "P1 or P2" in line and "\n" not in line
    # The accounts are still listed (without signInActivity), so created is known; storage is read.
    assert report.by_user == {"ann@acme.com": Activity(used_mb=9, quota_mb=51200,
                                                       created=_created(graph, "ann@acme.com"))}
    assert [(c["path"], c["status"]) for c in graph.call_log()] == [
        ("/users", 403), ("/users", 200), (REGISTRATIONS, 403), (MAILBOXES, 302)]


def test_a_refused_mailbox_report_leaves_storage_unavailable(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.set_user_activity("ann@acme.com", mfa_registered=True, used_mb=9)
    graph.fail_next("GET", r"getMailboxUsageDetail", 403, "UnknownError", "Invalid permission.")
    report = provider().activity()
    assert list(report.unavailable) == ["storage"]
    assert report.unavailable["storage"] == ("Microsoft Graph refused the mailbox usage report (403 UnknownError: "
                                             "Invalid permission.): it needs the application permission "
                                             "Reports.Read.All")
    assert report.of("ann@acme.com").two_step is True
    assert graph.downloads() == 0


def test_concealed_report_names_are_detected_and_said(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.set_user_activity("ann@acme.com", used_mb=9)
    graph.conceal_report_names = True
    report = provider().activity()
    assert "conceals user names" in report.unavailable["storage"]
    assert "Display concealed user, group, and site names in all reports" in report.unavailable["storage"]
    assert report.of("ann@acme.com").used_mb is None


def test_paging_over_more_users_than_a_page(graph: GraphEmulator) -> None:
    for i in range(501):
        graph.add_user(f"u{i:03d}@acme.com", f"U {i}")
    graph.set_user_activity("u500@acme.com", last_sign_in="2026-11-01T00:00:00Z", mfa_registered=True)
    graph.reset_stats()
    ms = provider()
    report = ms.activity()
    assert len(report.by_user) == 501
    assert report.of("u500@acme.com").two_step is True
    assert report.of("u500@acme.com").last_sign_in == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    # 500 users a page with signInActivity; the registration report pages by 100.
    assert _paths(graph) == ["/users"] * 2 + [REGISTRATIONS] * 6 + [MAILBOXES]
    assert ms.requests == 9


def test_graph_pages_sign_in_activity_by_500_at_most(graph: GraphEmulator) -> None:
    for i in range(501):
        graph.add_user(f"u{i:03d}@acme.com", f"U {i}")
    answer = _get(graph, "/v1.0/users?$top=999&$select=userPrincipalName,signInActivity")
    assert len(answer["value"]) == 500 and "@odata.nextLink" in answer


def _get(graph: GraphEmulator, path: str) -> dict[str, Any]:
    import httpx

    return dict(httpx.get(graph.url + path, timeout=10).json())


def test_the_latest_successful_sign_in_counts(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.set_user_activity("ann@acme.com", last_sign_in="2026-10-01T08:30:00Z")
    user = graph.store.find_user("ann@acme.com")
    assert user is not None
    user["signInActivity"].update(lastNonInteractiveSignInDateTime="2026-11-20T06:00:00Z",  # a mail app
                                  lastSignInDateTime="2026-11-25T06:00:00Z",  # a failed attempt
                                  lastSuccessfulSignInDateTime="2026-10-01T08:30:00Z")
    assert provider().activity().of("ann@acme.com").last_sign_in == dt.datetime(2026, 11, 20, 6, tzinfo=dt.UTC)


def test_whole_call_failures_raise_one_line(graph: GraphEmulator) -> None:
    graph.add_user("ann@acme.com", "Ann Lee")
    graph.fail_next("GET", r"userRegistrationDetails", 400, "BadRequest", "Invalid request.")
    with pytest.raises(ProviderError, match=f"GET {REGISTRATIONS}: 400 BadRequest: Invalid request."):
        provider().activity()
