"""The Microsoft 365 provider through msgraph-sdk's HTTP pipeline against the Graph emulator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.synthetic import write_org
from reconciler.model.files import MicrosoftProviderConfig
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan
from reconciler.providers.microsoft import MicrosoftProvider
from reconciler.providers.microsoft.client import ENDPOINT_ENV
from tests.applying import apply_all
from tests.emulators.graph import GraphEmulator
from tests.graph_clock import FakeClock

TODAY = dt.date(2026, 11, 29)
SKUS = {"O365_BUSINESS_PREMIUM": 100, "O365_BUSINESS_ESSENTIALS": 20}


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=SKUS).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def to_microsoft(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", "provider:\n  kind: microsoft\n  tenant: acme.com\n"
                               "  client_id: 00000000-0000-0000-0000-000000000001\n  usage_location: CN\n",
                               settings.read_text()))


def provider(clock: FakeClock | None = None) -> MicrosoftProvider:
    return MicrosoftProvider(MicrosoftProviderConfig(kind="microsoft", tenant="acme.com",
                                                     client_id="00000000-0000-0000-0000-000000000001",
                                                     usage_location="CN"),
                             sleep=clock.sleep if clock is not None else None)


def plan_for(org_dir: Path, ms: MicrosoftProvider | None = None, today: dt.date = TODAY) -> Planned:
    org, issues = load_org(org_dir)
    return build_plan(org, issues, ms or provider(), today)


def test_example_org_plan_apply_plan(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    plan = plan_for(org_copy).plan
    codes = [(w.code, w.subject) for w in plan.warnings]
    assert ("unsupported", "alias") in codes  # aliases are Exchange's: said plainly, not dropped silently
    alias_warning = next(w for w in plan.warnings if w.subject == "alias")
    assert "nana.ouyang@acme.com" in alias_warning.message
    assert ("unsupported", "membership") in codes  # external members and groups in Microsoft 365 groups
    report = apply_all(plan.changes, provider())
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    assert plan_for(org_copy).plan.changes == []
    user = graph.user("zhangwei2@acme.com")
    assert user is not None
    assert (user["employeeId"], user["department"], user["usageLocation"]) == ("E1061", "it", "CN")
    assert graph.manager_of("zhangwei2@acme.com")["userPrincipalName"] == "xuhaitao@acme.com"  # type: ignore[index]
    assert graph.user("hanbing@acme.com")["accountEnabled"] is False  # type: ignore[index]
    assert graph.licenses_of("pengtao@acme.com") == ["O365_BUSINESS_ESSENTIALS"]
    vpn = graph.group("vpn-users@acme.com") or graph.group("vpn-users")
    assert vpn is not None and vpn["securityEnabled"] is True and "Unified" not in vpn["groupTypes"]


def test_contractor_gets_only_the_mail_plans(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    contractor = graph.user("pengtao@acme.com")
    staff = graph.user("zhangwei@acme.com")
    assert contractor is not None and staff is not None
    [held] = contractor["assignedLicenses"]
    assert held["disabledPlans"]  # Teams and SharePoint switched off for a mail-only profile
    assert all(not a["disabledPlans"] for a in staff["assignedLicenses"])


def test_a_no_change_plan_of_1000_people_reads_in_bulk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Applying 1,000 people takes Graph's write budget (3,000 per 150 s) more than once: on a fake
    # clock, so the pacing costs no real time.
    clock = FakeClock()
    graph = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": 5000}, clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, graph.url)
    try:
        _no_change_plan_of_1000(tmp_path, graph, clock)
    finally:
        graph.stop()


def _no_change_plan_of_1000(tmp_path: Path, graph: GraphEmulator, clock: FakeClock) -> None:
    org_dir = write_org(tmp_path, 1000)
    to_microsoft(org_dir)
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
    (org_dir / "permissions.yaml").write_text(
        "profiles:\n  staff: {services: [mail, calendar, drive, chat, meet], "
        "licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n"
        "  contractor: {services: [mail], licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n")
    plan = plan_for(org_dir, provider(clock)).plan
    report = apply_all(plan.changes, provider(clock))
    assert report.ok, [(r.change.label, r.error) for r in report.failed[:3]]
    graph.reset_stats()
    assert plan_for(org_dir, provider(clock)).plan.changes == []
    stats = graph.stats()
    # Every read a GET inside a $batch of 20: 1 with domains, subscribedSkus, the first 100 people
    # (managers expanded: Graph holds a page with $expand to 100 objects whatever $top asks), deleted
    # users, groups (owners expanded) and role assignments; then 20 of the 29 ranges of
    # userPrincipalName; then the other 9, the longest range's page 2 and the 5 groups' member lists
    # (999 members a page): 3 requests (16 read one list after another).
    assert stats["requests"] == 3, stats["by_method"]
    assert stats["by_method"]["POST /$batch"] == 3
    assert stats["by_method"]["GET /users"] == 31
    assert not any(k.startswith("GET /users/{key}") for k in stats["by_method"])


def test_throttled_batches_complete_without_failures(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()  # Retry-After is honoured on the emulator's clock: no real waiting
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=SKUS, resource_units_per_10s=150, clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        to_microsoft(org_copy)
        plan = plan_for(org_copy, provider(clock)).plan
        report = apply_all(plan.changes, provider(clock))
        assert report.ok, [(r.change.label, r.error) for r in report.failed[:3]]
        assert emu.stats()["throttled"] > 0 and clock.slept > 0
        assert plan_for(org_copy, provider(clock)).plan.changes == []
    finally:
        emu.stop()


def test_partial_failure_then_a_rerun_converges(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    plan = plan_for(org_copy).plan
    graph.fail_next("POST", r"/users/[^/]+/assignLicense$", 400, "Request_BadRequest",
                    "License assignment cannot be done for user with invalid usage location.", count=7)
    report = apply_all(plan.changes, provider())
    failed = [r for r in report.failed]
    assert len(failed) == 7 and {r.change.kind for r in failed} == {"license"}
    assert all(r.error == "400 Request_BadRequest: License assignment cannot be done for user with invalid "
                          "usage location." for r in failed)
    rerun = plan_for(org_copy).plan
    # The seven licences again, and the seven people's services, which ride on those licences.
    assert sorted(c.kind for c in rerun.changes) == ["license"] * 7 + ["user"] * 7
    assert {tuple(c.changed) for c in rerun.changes if c.kind == "user"} == {("services",)}
    assert apply_all(rerun.changes, provider()).ok
    assert plan_for(org_copy).plan.changes == []


def test_a_deleted_user_is_restored_not_recreated(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    user_file = org_copy / "users" / "e1084.yaml"
    original = user_file.read_text()
    user_file.write_text(original + "status: offboarded\noffboarded_on: 2026-01-01\n")
    plan = plan_for(org_copy).plan  # never deleted straight from active: suspended first
    assert [(c.action, c.key) for c in plan.changes if c.kind == "user"] == [("suspend", "fangyuan@acme.com")]
    assert apply_all(plan.changes, provider()).ok
    plan = plan_for(org_copy).plan
    assert [(c.action, c.key) for c in plan.changes if c.kind == "user"] == [("delete", "fangyuan@acme.com")]
    assert apply_all(plan.changes, provider()).ok
    user_file.write_text(original)
    plan = plan_for(org_copy).plan
    assert [(c.action, c.key) for c in plan.changes if c.kind == "user"] == [("restore", "fangyuan@acme.com")]
    graph.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    calls = graph.calls()
    assert any(m == "POST" and p.startswith("/directory/deletedItems/") and p.endswith("/restore") for m, p in calls)
    assert not any(m == "POST" and p == "/users" for m, p in calls)
    assert plan_for(org_copy).plan.changes == []


def test_frozen_revokes_sessions(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    user_file = org_copy / "users" / "e1012.yaml"
    user_file.write_text(user_file.read_text() + "status: frozen\n")
    graph.reset_stats()
    plan = plan_for(org_copy).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.action, change.security) == ("suspend", True)
    # The plan says whether the account has MFA, reading only that report (not sign-ins or storage).
    [report] = [w for w in plan.warnings if w.code == "frozen-2sv"]
    assert report.message.startswith(f"{change.key} is frozen and not enrolled in 2-step verification")
    assert [p for _, p in graph.calls() if p.startswith("/reports")] == [
        "/reports/authenticationMethods/userRegistrationDetails"]
    graph.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    assert any(p.endswith("/revokeSignInSessions") for _, p in graph.calls())
    assert graph.user("zengxiaoyan@acme.com")["accountEnabled"] is False  # type: ignore[index]


def test_seats_are_reported_before_apply(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = GraphEmulator(domains=("acme.com", "acme.cn"),
                        skus={"O365_BUSINESS_PREMIUM": 40, "O365_BUSINESS_ESSENTIALS": 20}).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        to_microsoft(org_copy)
        plan = plan_for(org_copy).plan
        [seats] = [w for w in plan.warnings if w.code == "license-seats"]
        assert seats.message == ("O365_BUSINESS_PREMIUM: the plan assigns 49 more licences but the tenant has 40 "
                                 "free; buy 9 more seats or those assignments will fail")
    finally:
        emu.stop()


def test_domain_records_come_from_graph(graph: GraphEmulator) -> None:
    records = provider().dns_records("acme.com")
    assert records is not None and records.verified is True
    found = {(r.type, r.name, r.value, r.priority) for r in records.records}
    assert ("MX", "acme.com", "acme-com.mail.protection.outlook.com", 0) in found
    assert ("CNAME", "autodiscover.acme.com", "autodiscover.outlook.com", None) in found
    assert ("TXT", "acme.com", "v=spf1 include:spf.protection.outlook.com -all", None) in found
    assert not any(r.purpose == "verification" for r in records.records)  # verified: no token needed


SCENARIOS = Path(__file__).resolve().parent / "scenarios"
# What the Microsoft provider does not do (the plan says so): aliases, org units, and the
# fields Graph has no place for.
UNSUPPORTED_KINDS = {"alias", "orgunit"}
IGNORED_FIELDS = {"orgunit", "services", "type", "description", "alias_of"}


# Graph does not say whether a user must choose a new password (passwordProfile is not returned), so
# the freeze of an account that was already suspended cannot be told from one already done.
OWED_FREEZE = "frozen: security incident; the account was already suspended"


def _projection(changes: list[dict[str, object]]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    out = []
    for c in changes:
        if c["kind"] in UNSUPPORTED_KINDS or str(c.get("reason") or "").startswith(OWED_FREEZE):
            continue
        side = c.get("after") or c.get("before") or {}
        if c["kind"] == "membership" and isinstance(side, dict) and side.get("member_type") != "user":
            continue  # externals and nested groups: not held by Microsoft 365 groups
        if c["kind"] == "license" and c["action"] == "update" and isinstance(c.get("before"), dict):
            # A licence swap is one change at Microsoft (one assignLicense call): the removal and addition.
            before = c["before"]
            out += [("delete", "license", f"{before['user']}/{before['sku']}", ()),  # type: ignore[index]
                    ("create", "license", str(c["key"]), ())]
            continue
        changed = tuple(f for f in c.get("changed", []) if f not in IGNORED_FIELDS)  # type: ignore[union-attr]
        if c["action"] == "update" and c.get("changed") and not changed:
            continue
        out.append((str(c["action"]), str(c["kind"]), str(c["key"]), changed))
    return sorted(out)


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.iterdir() if (p / "org").is_dir()))
def test_provider_contract_scenarios(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local provider's scenarios seeded into the Graph emulator plan the same changes."""
    import json
    import shutil

    from reconciler.providers.local import LocalProvider
    from tests.google_support import seed

    folder = tmp_path / name
    shutil.copytree(SCENARIOS / name, folder)
    text = (folder / "directory.json").read_text().replace("business-standard", "O365_BUSINESS_PREMIUM") \
        .replace("business-starter", "O365_BUSINESS_ESSENTIALS")
    (folder / "directory.json").write_text(text)
    expected = json.loads((folder / "expected.json").read_text().replace("business-standard", "O365_BUSINESS_PREMIUM")
                          .replace("business-starter", "O365_BUSINESS_ESSENTIALS"))
    local = LocalProvider(folder / "directory.json")
    declared = [d["name"] for d in __import__("yaml").safe_load((folder / "org" / "domains.yaml").read_text())]
    emu = GraphEmulator(tenant_domain=declared[0], domains=tuple(declared), skus=SKUS).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        before = local.fetch(declared)
        if before.of("domain"):
            assert seed(before, provider()).ok
        else:
            expected["changes"] = [c for c in expected["changes"] if c["kind"] != "domain"]
        org_dir = folder / "org"
        to_microsoft(org_dir)
        permissions = org_dir / "permissions.yaml"
        permissions.write_text(re.sub(r"licenses: \{local: business-(standard|starter)[^}]*\}",
                                      lambda m: "licenses: {microsoft: " + ("O365_BUSINESS_PREMIUM" if m.group(1)
                                                == "standard" else "O365_BUSINESS_ESSENTIALS") + "}",
                                      permissions.read_text()))
        today = dt.date.fromisoformat((folder / "today.txt").read_text().strip()) \
            if (folder / "today.txt").exists() else TODAY
        plan = plan_for(org_dir, today=today).plan
        got = [c.model_dump(mode="json") for c in plan.changes]
        assert _projection(got) == _projection(expected["changes"])
        assert [v.model_dump(mode="json", exclude_defaults=True) for v in plan.violations] == expected["violations"]
        if not plan.violations:
            report = apply_all(plan.changes, provider())
            assert report.ok, [(r.change.label, r.error) for r in report.failed]
            again = plan_for(org_dir, today=today).plan
            follow_up = folder / "next.txt"  # a two-step lifecycle: suspend and hand over, then delete
            # Graph has no aliases to remove after a rename (Exchange keeps the old address itself).
            planned_next = follow_up.read_text().splitlines() if follow_up.exists() else []
            next_labels = [line for line in planned_next if not line.startswith("delete alias ")]
            if next_labels:
                assert [c.label for c in again.changes] == next_labels
                assert apply_all(again.changes, provider()).ok
                again = plan_for(org_dir, today=today).plan
            assert [c.label for c in again.changes] == []
    finally:
        emu.stop()


def test_offboarding_says_what_graph_cannot_hand_over(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    (org_copy / "users" / "e1084.yaml").unlink()
    plan = plan_for(org_copy).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert change.effects == ["sign_out", "reset_password", "transfer_data"]
    [warning] = [w for w in plan.warnings if w.code == "no-data-transfer"]
    assert warning.subject == "fangyuan@acme.com" and "oliviasmith@acme.com" in warning.message
    graph.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    assert any(p.endswith("/revokeSignInSessions") for _, p in graph.calls())
    assert graph.user("fangyuan@acme.com")["accountEnabled"] is False  # type: ignore[index]
    assert graph.user("fangyuan@acme.com")["passwordProfile"]["forceChangePasswordNextSignIn"] is True  # type: ignore[index]
