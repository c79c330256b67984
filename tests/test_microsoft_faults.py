"""The Microsoft 365 provider under faults: answers lost after Graph carried the call out,
dropped connections, stalls, gateways' HTML pages, two applies at once, and a manager created
in the same apply. Every wait runs on the emulator's fake clock (a stall's read timeout is the
one real wait: a second)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.errors import ProviderError
from reconciler.model.files import MicrosoftProviderConfig
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan
from reconciler.providers.microsoft import MicrosoftProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV
from tests.applying import apply_all
from tests.emulators.common import Fault
from tests.emulators.graph import GraphEmulator
from tests.graph_clock import FakeClock
from tests.test_microsoft_provider import SKUS, to_microsoft

TODAY = dt.date(2026, 11, 29)
# The client's timeout in the stall test's apply (a real wait, once); the emulator stalls longer.
STALL_TIMEOUT = 1.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=SKUS, clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def provider(clock: FakeClock, timeout: float | None = None) -> MicrosoftProvider:
    config = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com",
                                     client_id="00000000-0000-0000-0000-000000000001", usage_location="CN")
    if timeout is None:
        return MicrosoftProvider(config, sleep=clock.sleep)
    return MicrosoftProvider(config, sleep=clock.sleep, timeout=timeout)


def plan_for(org_dir: Path, ms: MicrosoftProvider) -> Planned:
    org, issues = load_org(org_dir)
    return build_plan(org, issues, ms, TODAY)


def groups_by_nickname(graph: GraphEmulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for group in graph.store.groups.values():
        counts[group["mailNickname"]] = counts.get(group["mailNickname"], 0) + 1
    return counts


def converges(org_dir: Path, graph: GraphEmulator, clock: FakeClock) -> None:
    """One apply did everything: every object once, and the next plan has nothing to do."""
    assert all(n == 1 for n in groups_by_nickname(graph).values()), groups_by_nickname(graph)
    assert plan_for(org_dir, provider(clock)).plan.changes == []


# ----------------------------------------------------------------------------- creates: once, whatever is lost


@pytest.mark.parametrize("lose", [
    pytest.param(lambda g: g.fail_after_next("POST", r"^/groups$", 504, count=2), id="504-after-commit"),
    pytest.param(lambda g: g.inject(Fault("reset", commit=True), "POST", r"^/groups$", count=2),
                 id="dropped-after-commit"),
    pytest.param(lambda g: g.inject(Fault("html", commit=True), "POST", r"^/groups$", count=2),
                 id="html-503-after-commit"),
])
def test_a_group_whose_answer_is_lost_is_created_once(org_copy: Path, graph: GraphEmulator, clock: FakeClock,
                                                      lose: object) -> None:
    to_microsoft(org_copy)
    plan = plan_for(org_copy, provider(clock)).plan
    assert any(c.kind == "group" and c.action == "create" for c in plan.changes)
    lose(graph)  # type: ignore[operator]
    report = apply_all(plan.changes, provider(clock))
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    posts = [e["status"] for e in graph.call_log() if (e["method"], e["path"]) == ("POST", "/groups")]
    lost = sum(graph.faults_served().values()) + posts.count(504)
    assert lost >= 1, (graph.faults_served(), posts)  # the faults did meet the creates (one batch holds them all)
    assert len(posts) == len([c for c in plan.changes if c.kind == "group" and c.action == "create"])
    converges(org_copy, graph, clock)


def test_a_user_whose_answer_is_lost_is_found_not_created_again(org_copy: Path, graph: GraphEmulator,
                                                                 clock: FakeClock) -> None:
    to_microsoft(org_copy)
    plan = plan_for(org_copy, provider(clock)).plan
    graph.inject(Fault("reset", commit=True), "POST", r"^/users$")  # the first batch of creates ran; its answer is lost
    graph.fail_after_next("POST", r"^/users$", 500, "UnknownError", "", count=3)
    report = apply_all(plan.changes, provider(clock))
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    assert graph.faults_served() == {"reset after commit": 1}
    # Looked up by userPrincipalName, not re-sent into "another object with the same value".
    assert any(e["method"] == "GET" and "userPrincipalName eq" in e["query"].get("$filter", "")
               for e in graph.call_log())
    converges(org_copy, graph, clock)


def test_two_applies_at_once_make_one_group(org_copy: Path, graph: GraphEmulator, clock: FakeClock) -> None:
    to_microsoft(org_copy)
    first, second = plan_for(org_copy, provider(clock)).plan, plan_for(org_copy, provider(clock)).plan
    assert apply_all(first.changes, provider(clock)).ok
    groups = [c for c in second.changes if c.kind == "group"]
    report = apply_all(groups, provider(clock))  # planned before the first apply made them
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    converges(org_copy, graph, clock)


def test_copies_at_the_provider_stop_the_plan_naming_both(org_copy: Path, graph: GraphEmulator,
                                                          clock: FakeClock) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
    kept = graph.group("vpn-users")
    assert kept is not None
    copy = graph.add_group("VPN users", "vpn-users", unified=False)  # what a lost answer used to leave
    with pytest.raises(ProviderError) as refused:
        plan_for(org_copy, provider(clock))
    message = str(refused.value)
    assert kept["id"] in message and copy["id"] in message and "0 members" in message
    assert "mail nickname vpn-users" in message and "delete the other copies" in message


# ----------------------------------------------------------------------------- transport errors: retried, or a result


def test_dropped_connections_stalls_and_html_pages_are_retried(org_copy: Path, graph: GraphEmulator,
                                                               clock: FakeClock) -> None:
    to_microsoft(org_copy)
    graph.inject(Fault("reset"), "GET", r"^/users$")  # reading the tenant
    graph.inject(Fault("html"), "GET", r"^/groups$")
    plan = plan_for(org_copy, provider(clock)).plan
    graph.inject(Fault("timeout", commit=True, hold_s=3 * STALL_TIMEOUT), "POST", r"^/users$")
    graph.inject(Fault("html", commit=True), "POST", r"/members/\$ref$")
    graph.inject(Fault("reset"), "POST", r"/assignLicense$")
    graph.inject(Fault("reset", commit=True), "PUT", r"/manager/\$ref$")
    graph.inject(Fault("reset", commit=True), "POST", r"^/roleManagement/directory/roleAssignments$")
    report = apply_all(plan.changes, provider(clock, STALL_TIMEOUT))
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    assert sum(graph.faults_served().values()) == 7, graph.faults_served()
    assert clock.slept > 0  # the backoff ran on the injected clock
    converges(org_copy, graph, clock)


def test_a_delete_whose_answer_is_lost_is_done_not_failed(org_copy: Path, graph: GraphEmulator,
                                                         clock: FakeClock) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
    (org_copy / "groups" / "vpn-users.yaml").unlink()
    settings = org_copy / "org.yaml"
    settings.write_text(settings.read_text() + "delete_unlisted:\n  groups: true\n")
    plan = plan_for(org_copy, provider(clock)).plan
    assert [(c.kind, c.action) for c in plan.changes if c.key == "vpn-users@acme.com"] == [("group", "delete")]
    graph.inject(Fault("reset", commit=True), "DELETE", r"^/groups/")
    report = apply_all(plan.changes, provider(clock))
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    assert graph.group("vpn-users") is None


def test_when_retries_run_out_the_change_fails_and_the_rest_goes_on(org_copy: Path, graph: GraphEmulator,
                                                                    clock: FakeClock) -> None:
    to_microsoft(org_copy)
    plan = plan_for(org_copy, provider(clock)).plan
    graph.inject(Fault("html"), "POST", r"^/groups$", count=1000)
    report = apply_all(plan.changes, provider(clock))  # no exception escapes the provider
    failed = {r.change.key: r.error for r in report.failed if r.change.kind == "group"}
    assert failed and all(re.fullmatch(r"503 ServiceUnavailable: a text/html answer of \d+ bytes instead of Graph's "
                                       r"JSON \(a gateway's or proxy's page\) \(tried 8 times\)", e or "")
                          for e in failed.values()), failed
    assert not any(r.change.kind == "user" for r in report.failed)
    assert all(r.ok for r in report.results if r.change.kind == "user")
    assert graph.user("zhangwei@acme.com") is not None
    assert groups_by_nickname(graph) == {}


# ----------------------------------------------------------------------------- a manager made in the same apply


def give_zhangwei2_a_new_manager(org_copy: Path) -> None:
    """A new person, gaofeng@acme.com, becomes the manager of zhangwei2@acme.com (who exists)."""
    boss_file = org_copy / "users" / "e9001.yaml"
    boss_file.write_text("id: E9001\ngiven_name: 峰\nfamily_name: 高\ndepartment: it\nmanager: E1000\n")
    report_file = org_copy / "users" / "e1061.yaml"
    text = report_file.read_text()
    report_file.write_text("\n".join(line for line in text.splitlines() if not line.startswith("manager:"))
                           + "\nmanager: E9001\n")


def test_a_manager_whose_creation_failed_is_named_as_the_cause(org_copy: Path, graph: GraphEmulator,
                                                               clock: FakeClock) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
    give_zhangwei2_a_new_manager(org_copy)
    plan = plan_for(org_copy, provider(clock)).plan
    graph.fail_next("POST", r"^/users$", 400, "Request_BadRequest", "Property passwordProfile is invalid.")
    report = apply_all(plan.changes, provider(clock))
    assert {r.change.key: r.error for r in report.failed if r.change.kind == "user"} == {
        "gaofeng@acme.com": "400 Request_BadRequest: Property passwordProfile is invalid.",
        "zhangwei2@acme.com": "gaofeng@acme.com was to be created in this apply, and its creation failed"}


def test_a_manager_created_in_the_same_apply_is_assigned_in_that_apply(
        org_copy: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    # New users cannot be named in a manager reference for 5 s on the emulator's clock.
    graph = GraphEmulator(domains=("acme.com", "acme.cn"), skus=SKUS, clock=clock, consistency_delay_s=5).start()
    monkeypatch.setenv(ENDPOINT_ENV, graph.url)
    try:
        to_microsoft(org_copy)
        assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
        clock.now += 60
        give_zhangwei2_a_new_manager(org_copy)
        plan = plan_for(org_copy, provider(clock)).plan
        assert {(c.kind, c.action, c.key) for c in plan.changes if c.kind == "user"} == {
            ("user", "create", "gaofeng@acme.com"), ("user", "update", "zhangwei2@acme.com")}
        report = apply_all(plan.changes, provider(clock))
        assert report.ok, [(r.change.label, r.error) for r in report.failed]
        assert graph.manager_of("zhangwei2@acme.com")["userPrincipalName"] == "gaofeng@acme.com"  # type: ignore[index]
        lagged = [e for e in graph.call_log() if e["method"] == "PUT" and e["status"] == 404]
        assert lagged, "the emulator's replication delay was not met: the test proves nothing"
        assert plan_for(org_copy, provider(clock)).plan.changes == []
    finally:
        graph.stop()
