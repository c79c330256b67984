"""Account activity from Google Workspace (providers/google/activity.py) through the real API
clients against the emulator: Directory users for sign-ins and 2SV, the Reports API for storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from reconciler.activity import Activity
from reconciler.errors import ProviderError
from reconciler.providers.google.activity import read_google_activity
from reconciler.providers.google.client import Clients, build_clients
from tests.emulators.google import GoogleEmulator
from tests.google_support import TODAY, emulator, provider

__all__ = ["emulator"]  # the fixture, imported for pytest

USERS = "/admin/directory/v1/users"
USAGE = "/admin/reports/v1/usage/users/all/dates/"
# The emulator has usage up to TODAY - 2, and that newest day only partly: yesterday is refused,
# the day before has a PARTIAL_DATA_AVAILABLE warning, the one before that is complete.
COMPLETE = (TODAY - dt.timedelta(days=3)).isoformat()


@pytest.fixture
def clients(emulator: GoogleEmulator) -> Iterator[Clients]:
    emulator.reports.today = TODAY
    built = build_clients("admin@acme.com", None, read_only=True)
    yield built
    for client in (built.directory, built.licensing, built.datatransfer, built.reports):
        client.close()


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _created(emulator: GoogleEmulator, address: str) -> dt.datetime:
    user = emulator.user(address)
    assert user is not None
    return _moment(user["creationTime"])


def _usage_dates(emulator: GoogleEmulator) -> list[str]:
    return [path.removeprefix(USAGE) for _, path in emulator.calls() if path.startswith(USAGE)]


def test_planted_figures_come_back_exactly(emulator: GoogleEmulator, clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_user("bob@acme.com", "Bob", "Ma")
    emulator.set_user_activity("ann@acme.com", last_login="2026-10-01T08:30:00.000Z", is_enrolled_2sv=True,
                               used_quota_mb=1234, quota_mb=30720)
    emulator.set_user_activity("bob@acme.com", used_quota_mb=7, quota_mb=0)  # no per-user quota
    emulator.reset_stats()
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert report.unavailable == {}
    assert report.by_user == {
        "ann@acme.com": Activity(last_sign_in=dt.datetime(2026, 10, 1, 8, 30, tzinfo=dt.UTC), never_signed_in=False,
                                 two_step=True, used_mb=1234, quota_mb=30720,
                                 created=_created(emulator, "ann@acme.com"), password_change_required=False),
        "bob@acme.com": Activity(last_sign_in=None, never_signed_in=True, two_step=False, used_mb=7, quota_mb=None,
                                 created=_created(emulator, "bob@acme.com"), password_change_required=False),
    }
    # One page of users; the report asked for yesterday, the date Google named, and the day before.
    assert emulator.calls() == [("GET", USERS)] + [("GET", USAGE + d) for d in (
        (TODAY - dt.timedelta(days=1)).isoformat(), (TODAY - dt.timedelta(days=2)).isoformat(), COMPLETE)]


def test_a_short_list_is_read_user_by_user(emulator: GoogleEmulator, clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_user("bob@acme.com", "Bob", "Ma")
    emulator.set_user_activity("ann@acme.com", is_enrolled_2sv=True, used_quota_mb=5)
    emulator.reset_stats()
    report = read_google_activity(clients, "my_customer", ["Ann@acme.com", "gone@acme.com"], TODAY)
    assert list(report.by_user) == ["ann@acme.com"]  # bob was not asked about; gone@ is no user
    ann = report.of("ann@acme.com")
    assert (ann.never_signed_in, ann.two_step, ann.used_mb, ann.quota_mb) == (True, True, 5, 30720)
    assert [p for _, p in emulator.calls() if not p.startswith(USAGE)] == [f"{USERS}/ann@acme.com",
                                                                         f"{USERS}/gone@acme.com"]
    assert report.of("gone@acme.com") == Activity()


def test_paging_over_more_users_than_a_page(emulator: GoogleEmulator, clients: Clients) -> None:
    for i in range(1001):
        emulator.add_user(f"u{i:04d}@acme.com", "U", str(i))
    emulator.set_user_activity("u1000@acme.com", used_quota_mb=99, is_enrolled_2sv=True)
    emulator.reset_stats()
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert len(report.by_user) == 1001
    last = report.of("u1000@acme.com")
    assert (last.two_step, last.used_mb, last.never_signed_in) == (True, 99, True)
    assert [p for _, p in emulator.calls()] == [USERS] * 3 + [USAGE + (TODAY - dt.timedelta(days=1)).isoformat(),
                                                            USAGE + (TODAY - dt.timedelta(days=2)).isoformat()] \
        + [USAGE + COMPLETE] * 2  # 500 users a page; 1000 usage reports a page


def test_a_refused_directory_leaves_sign_ins_unavailable(emulator: GoogleEmulator,
                                                         clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", used_quota_mb=12)
    emulator.fail_next("GET", r"/users$", 403, "forbidden", "Not Authorized to access this resource/api")
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert set(report.unavailable) == {"last_sign_in", "two_step"}
    line = report.unavailable["last_sign_in"]
    assert "403 forbidden: Not Authorized to access this resource/api" in line
    assert "https://www.googleapis.com/auth/admin.directory.user.readonly" in line and "\n" not in line
    assert report.of("ann@acme.com") == Activity(used_mb=12, quota_mb=30720)  # storage still read


def test_a_refused_reports_api_leaves_storage_unavailable(emulator: GoogleEmulator,
                                                          clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", is_enrolled_2sv=True)
    emulator.fail_next("GET", r"/usage/users/", 403, "insufficientPermissions",
                       "Request had insufficient authentication scopes.")
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert list(report.unavailable) == ["storage"]
    assert "https://www.googleapis.com/auth/admin.reports.usage.readonly" in report.unavailable["storage"]
    assert "insufficient authentication scopes" in report.unavailable["storage"]
    ann = report.of("ann@acme.com")
    assert (ann.two_step, ann.used_mb, ann.quota_mb) == (True, None, None)


def test_a_day_without_data_steps_back_one_more(emulator: GoogleEmulator, clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", used_quota_mb=3)
    emulator.reports.missing = {COMPLETE}
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert report.of("ann@acme.com").used_mb == 3
    assert _usage_dates(emulator)[-2:] == [COMPLETE, (TODAY - dt.timedelta(days=4)).isoformat()]


def test_a_date_ahead_of_pacific_time_follows_the_date_google_names(emulator: GoogleEmulator,
                                                                    clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    ahead = TODAY + dt.timedelta(days=2)  # our "yesterday" is Google's tomorrow
    assert read_google_activity(clients, "my_customer", None, ahead).of("ann@acme.com").used_mb == 0
    assert _usage_dates(emulator) == [(TODAY + dt.timedelta(days=1)).isoformat(), TODAY.isoformat(),
                                      (TODAY - dt.timedelta(days=2)).isoformat(), COMPLETE]


def test_no_complete_report_within_the_tries(emulator: GoogleEmulator, clients: Clients) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.reports.missing = {(TODAY - dt.timedelta(days=n)).isoformat() for n in range(3, 10)}
    report = read_google_activity(clients, "my_customer", None, TODAY)
    assert len(_usage_dates(emulator)) == 5
    assert "no complete usage report" in report.unavailable["storage"]
    assert report.of("ann@acme.com").never_signed_in is True


def test_provider_reads_activity_and_wraps_whole_call_failures(emulator: GoogleEmulator) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", is_enrolled_2sv=True, used_quota_mb=42)
    google = provider()  # today from the clock, the emulator's from its own: the dates are stepped through
    try:
        ann = google.activity(["ann@acme.com"]).of("ann@acme.com")
        assert (ann.two_step, ann.used_mb) == (True, 42)
        emulator.fail_next("GET", r"/users/", 400, "invalid", "Invalid Input")
        with pytest.raises(ProviderError, match="reading how accounts are used: 400 invalid: Invalid Input"):
            google.activity(["ann@acme.com"])
    finally:
        google.close()
