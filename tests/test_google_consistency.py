"""Objects created moments ago: Google does not find a new user or group by its key for a while
(404 "Resource Not Found: groupKey"), nor lets a new user be changed ("User creation is not
complete"). The provider waits for what it created itself, about two minutes at most, and never
for anything else. Time is a FakeClock shared by the emulator and the provider's backoff, so
the waits cost no real time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.changes import Change
from reconciler.providers.google.batch import VISIBLE_WITHIN
from reconciler.providers.google.client import ENDPOINT_ENV
from reconciler.state import Group, Membership
from tests.applying import apply_all
from tests.emulators.google import GoogleEmulator
from tests.google_support import SKUS, FakeClock, plan_for, provider, to_google


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slow(clock: FakeClock) -> Iterator[GoogleEmulator]:
    """A tenant where new users and groups are not found by key for 20 s, and new users cannot be
    changed for 5 s more... as Google behaves under load."""
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"}, skus=SKUS,
                         visibility_delay_s=20, consistency_delay_s=25, clock=clock, anonymous=False).start()
    os.environ[ENDPOINT_ENV] = emu.url
    try:
        yield emu
    finally:
        del os.environ[ENDPOINT_ENV]
        emu.stop()


def test_the_example_org_converges_while_new_objects_are_not_found_yet(org_copy: Path, slow: GoogleEmulator,
                                                                       clock: FakeClock) -> None:
    to_google(org_copy)
    plan = plan_for(org_copy, provider(clock=clock)).plan
    slow.reset_stats()
    report = apply_all(plan.changes, provider(clock=clock))
    assert report.ok, report.failed[:3]
    aliases = sum(n for key, n in slow.stats()["by_method"].items() if key.endswith("/aliases"))
    assert aliases > 2 * sum(1 for c in plan.changes if c.kind == "alias")  # 404s were met, and retried
    assert 20 <= clock.waited < 2 * VISIBLE_WITHIN
    clock.sleep(60)  # later, once everything is visible
    assert plan_for(org_copy, provider(clock=clock)).plan.changes == []


def _group(address: str) -> Change:
    return Change(action="create", kind="group", key=address,
                  after=Group(email=address, name="New team").model_dump(mode="json"))


def _member(group: str, member: str) -> Change:
    return Change(action="create", kind="membership", key=f"{group}/{member}",
                  after=Membership(group=group, member=member, member_type="user").model_dump(mode="json"))


def test_waiting_for_a_new_object_ends_after_about_two_minutes(slow: GoogleEmulator, clock: FakeClock) -> None:
    slow.visibility_delay_s = 3600  # this group will not show up in time
    report = apply_all([_group("new-team@acme.com"), _member("new-team@acme.com", "someone@example.org")],
                       provider(clock=clock))
    [failed] = report.failed
    assert failed.error == "404 notFound: Resource Not Found: groupKey"
    assert VISIBLE_WITHIN - 70 <= clock.waited <= VISIBLE_WITHIN + 1  # about two minutes, never more


def test_a_404_about_anything_not_just_created_fails_at_once(slow: GoogleEmulator, clock: FakeClock) -> None:
    slow.add_group("sales@acme.com", "Sales")
    slow.visibility_delay_s = 0
    report = apply_all([_group("new-team@acme.com"), _member("new-team@acme.com", "ghost@acme.com"),
                        _member("sales@acme.com", "nobody@acme.com"), _member("gone@acme.com", "x@example.org")],
                       provider(clock=clock))
    assert {r.change.key: r.error for r in report.failed} == {
        "new-team@acme.com/ghost@acme.com": "404 notFound: Resource Not Found: memberKey",  # its group is new
        "sales@acme.com/nobody@acme.com": "404 notFound: Resource Not Found: memberKey",
        "gone@acme.com/x@example.org": "404 notFound: Resource Not Found: groupKey",
    }
    assert clock.waited == 0
