"""benchmarks/compare.py at 50 people, so the comparison cannot rot unseen: every count in its
table is what the emulator saw, the Terraform-style refresh sends exactly the calls its model
says (one per user, group and membership at Google; four per user and a paged read per group at
Graph), and a quota makes the refresh wait on the fake clock, not the real one."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import compare
from benchmarks import terraform_baseline as terraform
from benchmarks.shared_clock import SharedClock
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

PEOPLE = 50


@pytest.mark.parametrize("kind", compare.PROVIDERS)
def test_comparison_counts_are_exact(kind: str, tmp_path: Path) -> None:
    apply, plan, refresh = compare.compare_provider(kind, PEOPLE, tmp_path)
    assert [apply.run, plan.run, refresh.run] == ["reconciler apply (empty tenant)", "reconciler plan (no change)",
                                                  "Terraform-style refresh"]
    assert apply.changes and apply.changes > PEOPLE and plan.changes == 0
    # The tenant the refresh read is the org that was applied: every person, every group.
    groups = compare.groups_for(PEOPLE)
    assert refresh.groups == groups
    # Terraform sends one call per HTTP request, all of them admitted at this size.
    assert refresh.throttled == 0
    assert refresh.requests == refresh.calls == refresh.expected_calls
    assert refresh.expected_calls is not None
    memberships = refresh.expected_calls - (PEOPLE + groups if kind == "google" else 4 * PEOPLE + 3 * groups)
    assert memberships >= PEOPLE        # each person is in their department's group at least
    # Ours: a no-change plan reads in bulk, a small fraction of the refresh.
    assert 0 < plan.requests <= plan.calls < refresh.calls / 10
    if kind == "google":
        assert plan.quota_minutes == plan.calls / 2400 and refresh.quota_minutes == refresh.calls / 2400
    for row in (apply, plan):
        assert row.wall_s and row.cpu_s and row.peak_rss_mib and row.peak_rss_mib > 20
    table = compare.markdown([apply, plan, refresh])
    assert f"| {PEOPLE} | {groups} | {kind} | Terraform-style refresh | – | {refresh.requests:,} |" in table


def test_google_refresh_waits_out_the_quota_on_the_fake_clock(tmp_path: Path) -> None:
    clock = SharedClock(tmp_path / "clock", create=True)
    with GoogleEmulator(quota_per_minute=10, clock=clock) as emulator:
        group = emulator.add_group("all@acme.com", "All")
        for n in range(12):
            emulator.add_user(f"u{n}@acme.com", "U", str(n))
            emulator.add_member("all@acme.com", f"u{n}@acme.com")
        objects = terraform.google_objects(emulator)
        assert (len(objects.users), objects.groups, len(objects.memberships)) == (12, [group["id"]], 12)
        throttled = terraform.refresh_google(emulator, clock)
        stats = emulator.stats()
    # 25 calls through a quota of 10 a minute: two full minutes waited, each refusal retried.
    assert stats["calls"] - stats["quota_rejections"] == terraform.expected_google(objects) == 25
    assert throttled == stats["quota_rejections"] > 0
    assert 120 <= clock.elapsed < 180


def test_graph_refresh_pages_and_waits_out_throttling(tmp_path: Path) -> None:
    clock = SharedClock(tmp_path / "clock", create=True)
    with GraphEmulator(resource_units_per_10s=50, clock=clock) as emulator:
        group = emulator.add_group("All", "all")
        users = [emulator.add_user(f"u{n}@acme.com", f"U {n}") for n in range(120)]
        for user in users:
            emulator.add_member(group["id"], user["id"])
        emulator.add_owner(group["id"], users[0]["id"])
        objects = terraform.graph_objects(emulator)
        throttled = terraform.refresh_graph(emulator, clock)
        stats = emulator.stats()
    # 4 per user; the group, its owner page, two pages of 120 members; one per membership.
    expected = 4 * 120 + (1 + 1 + 2) + 120
    assert terraform.expected_graph(objects) == expected
    assert stats["calls"] - stats["throttled"] == expected
    assert throttled == stats["throttled"] > 0
    # Resource units (members cost 3) at 50 per 10 s: the clock moved, not the wall.
    assert clock.elapsed >= math.floor(stats["resource_units"] / 50 - 1) * 10


def test_baseline_formulas() -> None:
    assert [terraform.pages(n) for n in (0, 1, 100, 101, 250)] == [1, 1, 1, 2, 3]
    backoff = terraform.fibonacci_backoff()
    assert [next(backoff) for _ in range(7)] == [0.5, 1, 1.5, 2.5, 4, 6.5, 10.5]
    objects = terraform.GraphObjects(["a", "b"], {"g": (0, 150), "h": (1, 0)}, [("g", "a")] * 150)
    assert terraform.expected_graph(objects) == 8 + (1 + 1 + 2) + (1 + 1 + 1) + 150
    assert compare.graph_units_per_10s(49) == 3500 and compare.graph_units_per_10s(500) == 5000
    assert compare.graph_units_per_10s(10_000) == 8000 and compare.groups_for(10_000) == 500
