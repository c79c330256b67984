"""The Google provider over the real google-api-python-client against the emulator."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.synthetic import write_org
from reconciler.providers.google import GoogleProvider
from reconciler.providers.google.client import SCOPE_SECURITY, SCOPE_TRANSFER_READ
from reconciler.providers.local import LocalProvider
from reconciler.state import State
from tests.applying import apply_all
from tests.emulators.google import GoogleEmulator
from tests.google_support import SKUS, TODAY, FakeClock, emulator, google_config, plan_for, provider, seed, to_google

__all__ = ["emulator"]  # the fixture, imported for pytest
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def test_example_org_plan_apply_plan(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    first = plan_for(org_copy, provider()).plan
    assert first.violations == []
    report = apply_all(first.changes, provider())
    assert report.counts() == {"applied": len(first.changes), "failed": 0, "skipped": 0}
    assert plan_for(org_copy, provider()).plan.changes == []
    # What the tenant now holds, as Google represents it.
    zhangwei2 = emulator.user("zhangwei2@acme.com")
    assert zhangwei2 is not None
    assert zhangwei2["externalIds"] == [{"type": "organization", "value": "E1061"}]
    assert zhangwei2["orgUnitPath"] == "/it"
    assert zhangwei2["changePasswordAtNextLogin"] is True
    assert emulator.user("hanbing@acme.com")["suspended"] is True  # type: ignore[index]
    sales = {m["email"] for m in emulator.members("sales@acme.com")}
    assert "zengxiaoyan@acme.com" in sales and "huangjunjie@acme.com" in sales  # sales-east, sales-south
    assert ("OWNER", "lizhiqiang@acme.com") in {(m["role"], m["email"]) for m in emulator.members("sales@acme.com")}


def test_a_no_change_plan_of_1000_people_reads_in_bulk(tmp_path: Path, emulator: GoogleEmulator) -> None:
    org_dir = write_org(tmp_path, 1000)
    to_google(org_dir)
    (org_dir / "permissions.yaml").write_text(
        "profiles:\n  staff: {services: [mail], licenses: {google: Google-Apps/1010020028}}\n"
        "  contractor: {services: [mail], licenses: {google: Google-Apps/1010020027}}\n")
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n- {name: acme.cn, alias_of: acme.com}\n")
    first = plan_for(org_dir, provider()).plan
    report = apply_all(first.changes, provider())
    assert report.ok, report.failed[:3]
    emulator.reset_stats()
    # On a fake clock: batches are sized by how long Google took (real time under load: smaller, more of them).
    assert plan_for(org_dir, provider(clock=FakeClock())).plan.changes == []
    stats = emulator.stats()
    # 1 customer (alone: the licence lists need its id), then every list side by side: 1 Directory
    # batch with the first page of domains, domain aliases, org units, users (500 a page), deleted
    # users, groups, roles and role assignments, beside 1 Licensing batch (1000 assignments a page);
    # 1 batch with users' page 2 and every group's first page of members; 2 more for the ~250-member
    # department mailboxes' pages 2 and 3: 6 HTTP requests, no GET of any single user.
    assert stats["requests"] == 6, stats["by_method"]
    assert stats["batches"] == 5
    assert not any("{userKey}" in key and key.startswith("GET") for key in stats["by_method"])


def test_a_failed_half_batch_is_reported_per_change_and_a_rerun_converges(
        org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    plan = plan_for(org_copy, provider()).plan
    emulator.fail_next("POST", r"/groups/[^/]+/members$", 400, "invalid", "Invalid Input: memberKey", count=54)
    report = apply_all(plan.changes, provider())
    failed = report.failed
    assert len(failed) == 54
    assert {r.change.kind for r in failed} == {"membership"}
    assert all(r.error == "400 invalid: Invalid Input: memberKey" for r in failed)
    assert report.counts()["applied"] == len(plan.changes) - 54  # independent changes went through
    rerun = plan_for(org_copy, provider()).plan
    # A protected account (admin@acme.com) is created with its groups; once it exists, the rerun
    # leaves it alone (with a warning) instead of retrying its memberships.
    protected = [r for r in failed if "admin@acme.com" in (r.change.after or {}).values()]
    assert [c.kind for c in rerun.changes] == ["membership"] * (54 - len(protected))
    assert len([w for w in rerun.warnings if w.code == "protected"]) == len(protected)
    assert apply_all(rerun.changes, provider()).ok
    assert plan_for(org_copy, provider()).plan.changes == []


def test_dependants_of_a_failed_user_are_skipped(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    plan = plan_for(org_copy, provider()).plan
    emulator.fail_next("POST", r"/users$", 400, "invalid", "Invalid Given/Family Name: FamilyName")
    report = apply_all(plan.changes, provider())
    [failed_user] = [r for r in report.failed if r.outcome == "failed"]
    skipped = [r for r in report.failed if r.outcome == "skipped"]
    assert failed_user.change.kind == "user"
    assert skipped
    assert all(r.error == f"skipped: user {failed_user.change.key} was not applied" for r in skipped)


def test_750_creates_under_a_300_a_minute_quota_complete(tmp_path: Path) -> None:
    # Google's real minute, on a clock only the provider's sleeps move: the quota bites two
    # minutes running, and the backoff and pacing cost no wall-clock time.
    clock = FakeClock()
    emu = GoogleEmulator(domains=("acme.com",), quota_per_minute=300, quota_window_s=60.0, anonymous=False,
                         clock=clock).start()
    try:
        os.environ["RECONCILER_GOOGLE_ENDPOINT"] = emu.url
        org_dir = write_org(tmp_path, 250)  # 250 users, their memberships and licences
        to_google(org_dir)
        (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
        (org_dir / "permissions.yaml").write_text(
            "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
            "  contractor: {licenses: {google: Google-Apps/1010020028}}\n")
        google = provider(google_config(backoff_seconds=0.25, retries=12), clock=clock)
        plan = plan_for(org_dir, google).plan
        assert sum(1 for c in plan.changes if c.action == "create") >= 750
        report = apply_all(plan.changes, google)
        assert report.ok, report.failed[:3]
        assert emu.stats()["quota_rejections"] > 0  # the quota was hit, and retried through
        assert plan_for(org_dir, provider(clock=clock)).plan.changes == []
    finally:
        del os.environ["RECONCILER_GOOGLE_ENDPOINT"]
        emu.stop()


def test_user_creation_not_complete_is_retried(org_copy: Path) -> None:
    emu = GoogleEmulator(domains=("acme.com",), domain_aliases={"acme.cn": "acme.com"}, skus=SKUS,
                         consistency_delay_s=0.3, anonymous=False).start()
    try:
        os.environ["RECONCILER_GOOGLE_ENDPOINT"] = emu.url
        to_google(org_copy)
        plan = plan_for(org_copy, provider()).plan
        assert apply_all(plan.changes, provider()).ok
        assert any(c[0] == "POST" and c[1].endswith("/members") for c in emu.calls())
        assert emu.stats()["calls"] > len(plan.changes) + 9  # some calls were answered "not complete"
    finally:
        del os.environ["RECONCILER_GOOGLE_ENDPOINT"]
        emu.stop()


def test_409_on_create_is_success_only_when_it_matches(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    plan = plan_for(org_copy, provider()).plan
    creates = {c.key: c for c in plan.changes if c.kind == "user"}
    changes = [creates["zhangwei@acme.com"], creates["shanlei@acme.com"]]
    setup = [c for c in plan.changes if c.kind == "orgunit"] + changes[:1]
    assert apply_all(setup, provider()).ok
    # A re-run after a crash: zhangwei@ exists as wanted; shanlei@ is someone else's account.
    emulator.add_user("shanlei@acme.com", "Lei", "Shan")
    google = provider()
    results = {r.change.key: r for r in google.apply(changes, {})}
    google.close()
    assert results["zhangwei@acme.com"].outcome == "applied"
    assert results["shanlei@acme.com"].outcome == "failed"
    assert results["shanlei@acme.com"].error == "409 duplicate: Entity already exists."


def test_rename_move_suspend_and_freeze(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    user = org_copy / "users" / "e1013.yaml"
    user.write_text(user.read_text().replace("family_name: 单", "family_name: 王")
                    .replace("department: sales-east", "department: finance") + "status: frozen\n")
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.action, change.key, change.before["email"]) == ("suspend", "wanglei@acme.com", "shanlei@acme.com")  # type: ignore[index]
    assert change.security
    assert apply_all(plan.changes, provider()).ok
    stored = emulator.user("wanglei@acme.com")
    assert stored is not None and stored["suspended"] is True and stored["orgUnitPath"] == "/finance"
    assert ("POST", "/admin/directory/v1/users/wanglei@acme.com/signOut") in emulator.calls()
    assert "shanlei@acme.com" in stored.get("aliases", [])  # Google keeps the old address


def test_cli_reports_one_line_per_failed_change(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    emulator.fail_next("POST", r"/users$", 409, "duplicate", "Entity already exists.")
    exe = Path(sys.executable).parent / "reconciler"
    done = subprocess.run([str(exe), "apply", "--yes"], cwd=org_copy.parent, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1
    assert failed[0].startswith("failed: create user ")
    assert failed[0].endswith(": 409 duplicate: Entity already exists.")
    assert "changes were not applied" in done.stderr


IGNORED = {"type", "description", "services"}  # fields Google has no place for (the plan warns)
# The scenarios' local licence names and the Google SKUs their permissions.yaml also gives.
GOOGLE_SKU = {"business-standard": "Google-Apps/1010020028", "business-starter": "Google-Apps/1010020027"}


def as_google(document: Any) -> Any:
    """Local licence names in a plan document or state, as the Google SKUs."""
    text = json.dumps(document)
    for local_sku, sku in GOOGLE_SKU.items():
        text = text.replace(local_sku, sku)
    return json.loads(text)


def projection(changes: list[dict[str, Any]]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """What must agree between providers: action, kind, key and the managed fields changed."""
    out = []
    for c in changes:
        if (c["kind"], c["action"]) == ("license", "update"):
            # Google moves a user to another SKU in one reassignment, where the local provider
            # removes one licence and assigns the other: the same change, shown as the local one.
            held = f"{c['before']['user']}/{c['before']['sku']}"
            out += [("delete", "license", held, ()), ("create", "license", c["key"], ())]
            continue
        changed = tuple(f for f in c.get("changed", []) if f not in IGNORED)
        if c["action"] == "update" and c.get("changed") and not changed:
            continue
        out.append((c["action"], c["kind"], c["key"], changed))
    return sorted(out)


def _passwords_chosen(local: LocalProvider, emu: GoogleEmulator) -> None:
    """People of a scenario who chose their own password (the seed created every account with
    `changePasswordAtNextLogin`); a frozen plan reads that flag."""
    chosen = {r["user"]["email"] for r in local.data["users"].values() if r.get("must_change_password") is False}
    for user in emu.store.users.values():
        if user["primaryEmail"] in chosen:
            user["changePasswordAtNextLogin"] = False


def _hand_over_suspended(state: State, emu: GoogleEmulator) -> None:
    """Suspended people of a scenario were offboarded earlier: their files were handed over then."""
    google = provider()
    transfers = google.clients.datatransfer.transfers()
    for user in state.users().values():
        if user.suspended and user.id and user.manager:
            old, new = emu.user(user.email), emu.user(user.manager)
            assert old is not None and new is not None
            transfers.insert(body={"oldOwnerUserId": old["id"], "newOwnerUserId": new["id"],
                                   "applicationDataTransfers": [{"applicationId": "55656082996"}]}).execute()
    google.close()


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.iterdir() if (p / "org").is_dir()))
def test_provider_contract_scenarios(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local provider's scenarios, seeded into the emulator: Google plans the same changes."""
    folder = tmp_path / name
    shutil.copytree(SCENARIOS / name, folder)
    expected = as_google(json.loads((folder / "expected.json").read_text()))
    (folder / "directory.json").write_text(json.dumps(as_google(json.loads((folder / "directory.json").read_text()))))
    local = LocalProvider(folder / "directory.json")
    domains = sorted(local.data["domains"])
    before = local.fetch(domains)
    primary = [d for d in domains if local.data["domains"][d].get("primary")]
    if not primary:
        # A Google tenant always has its primary domain: it cannot be created by a plan.
        declared = yaml.safe_load((folder / "org" / "domains.yaml").read_text())
        primary = [d["name"] for d in declared if d.get("primary")]
        expected["changes"] = [c for c in expected["changes"]
                               if (c["action"], c["kind"], c["key"]) != ("create", "domain", primary[0])]
    aliases = {d: v["alias_of"] for d, v in local.data["domains"].items() if v.get("alias_of")}
    emu = GoogleEmulator(domains=[*primary, *(d for d in domains if d not in primary and d not in aliases)],
                         domain_aliases=aliases, skus=dict.fromkeys(GOOGLE_SKU.values()), anonymous=False).start()
    monkeypatch.setenv("RECONCILER_GOOGLE_ENDPOINT", emu.url)
    try:
        assert seed(before, provider()).ok
        _hand_over_suspended(before, emu)
        _passwords_chosen(local, emu)
        org_dir = folder / "org"
        to_google(org_dir)
        settings = org_dir / "org.yaml"
        settings.write_text(settings.read_text().replace("admin@acme.com", f"admin@{primary[0]}"))
        today = dt.date.fromisoformat((folder / "today.txt").read_text().strip()) \
            if (folder / "today.txt").exists() else TODAY
        plan = plan_for(org_dir, provider(), today).plan
        got = [c.model_dump(mode="json") for c in plan.changes]
        assert projection(got) == projection(expected["changes"])
        assert [v.model_dump(mode="json", exclude_defaults=True) for v in plan.violations] == expected["violations"]
        if not plan.violations:
            assert apply_all(plan.changes, provider()).ok
            again = plan_for(org_dir, provider(), today).plan
            # Google keeps a renamed user's old address as an alias, as the local provider does:
            # where org/ manages that user's aliases, the next plan removes it (next.txt says so).
            rest = [c.label for c in again.changes]
            follow_up = folder / "next.txt"  # a two-step lifecycle: suspend and hand over, then delete
            if follow_up.exists():
                assert rest == follow_up.read_text().splitlines()
                assert apply_all(again.changes, provider()).ok
                rest = [c.label for c in plan_for(org_dir, provider(), today).plan.changes]
            assert rest == []
    finally:
        emu.stop()


def test_a_refused_read_is_one_clear_error(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    emulator.fail_next("GET", r"/users$", 403, "forbidden", "Not Authorized to access this resource/api")
    exe = Path(sys.executable).parent / "reconciler"
    done = subprocess.run([str(exe), "plan"], cwd=org_copy.parent, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == ("error: reading the Google Workspace tenant: "
                                   "403 forbidden: Not Authorized to access this resource/api")


def test_profile_services_are_access_group_memberships(org_copy: Path, emulator: GoogleEmulator) -> None:
    for service in ("gmail", "calendar", "drive"):
        emulator.add_group(f"svc-{service}@acme.com", f"{service} access")
    to_google(org_copy)
    groups = {"mail": "svc-gmail@acme.com", "calendar": "svc-calendar@acme.com", "drive": "svc-drive@acme.com"}
    config = google_config().model_copy(update={"service_groups": groups})

    def provider() -> GoogleProvider:
        return GoogleProvider(config, ["Google-Apps"])

    plan = plan_for(org_copy, provider()).plan
    assert [w.message for w in plan.warnings if w.subject == "user.services"] == [
        "services chat, meet have no access group in provider.service_groups: they are not managed here"]
    assert [c.label for c in plan.changes if c.key.startswith("svc-")] == []  # not org/'s groups
    assert apply_all(plan.changes, provider()).ok
    gmail = {m["email"] for m in emulator.members("svc-gmail@acme.com")}
    drive = {m["email"] for m in emulator.members("svc-drive@acme.com")}
    assert "pengtao@acme.com" in gmail and "pengtao@acme.com" not in drive  # the contractor: mail only
    assert "zhangwei@acme.com" in drive
    # A profile change moves the person between access groups, and nothing else.
    user = org_copy / "users" / "e1011.yaml"
    user.write_text(user.read_text().replace("profile: staff", "profile: contractor")
                    if "profile: staff" in user.read_text() else user.read_text() + "profile: contractor\n")
    change = [c for c in plan_for(org_copy, provider()).plan.changes if c.kind == "user"]
    assert [(c.key, c.changed) for c in change] == [("zhangwei@acme.com", ["services"])]
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    assert "zhangwei@acme.com" not in {m["email"] for m in emulator.members("svc-drive@acme.com")}
    assert "zhangwei@acme.com" in {m["email"] for m in emulator.members("svc-gmail@acme.com")}
    assert plan_for(org_copy, provider()).plan.changes == []


def test_offboarding_signs_out_resets_and_hands_data_over(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    (org_copy / "users" / "e1084.yaml").unlink()  # 方圆 leaves: her file is removed
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.action, change.effects, change.transfer_to) == (
        "suspend", ["sign_out", "reset_password", "transfer_data"], "oliviasmith@acme.com")
    emulator.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    calls = emulator.calls()
    assert ("POST", "/admin/directory/v1/users/fangyuan@acme.com/signOut") in calls
    # Google's batches take one API each: the hand-over goes in a Data Transfer batch of its own.
    [transfer] = [e for e in emulator.call_log() if e["path"] == "/admin/datatransfer/v1/transfers"]
    assert (transfer["method"], transfer["batch"]) == ("POST", "datatransfer")
    assert len(emulator.store.transfers) == 1
    stored = emulator.user("fangyuan@acme.com")
    assert stored is not None and stored["suspended"] is True and stored["changePasswordAtNextLogin"] is True
    assert plan_for(org_copy, provider()).plan.changes == []  # suspended, kept; deleted only by date


def test_a_delete_waits_until_the_hand_over_of_files_completed(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    emulator.transfer_delay_s = 3600  # Google moves the files in the background
    leaver = org_copy / "users" / "e1084.yaml"
    leaver.write_text(leaver.read_text() + "status: offboarded\noffboarded_on: 2026-09-01\n")
    # Past the waiting period but still active: suspended and handed over now, never deleted from active.
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.action, change.effects, change.transfer_to) == (
        "suspend", ["sign_out", "reset_password", "transfer_data"], "oliviasmith@acme.com")
    assert apply_all(plan.changes, provider()).ok
    # While Google is still moving files, the delete waits and the plan says why.
    plan = plan_for(org_copy, provider()).plan
    assert [c.label for c in plan.changes] == []
    [held] = [w for w in plan.warnings if w.code == "delete-held"]
    assert held.subject == "fangyuan@acme.com" and "is inProgress" in held.message
    emulator.transfer_delay_s = 0  # completed
    plan = plan_for(org_copy, provider()).plan
    assert [c.label for c in plan.changes] == ["delete user fangyuan@acme.com"]
    assert apply_all(plan.changes, provider()).ok
    assert emulator.user("fangyuan@acme.com") is None
    assert plan_for(org_copy, provider()).plan.changes == []


def test_a_suspended_account_without_a_hand_over_gets_one_before_its_delete(
        org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    leaver = org_copy / "users" / "e1084.yaml"
    original = leaver.read_text()
    leaver.write_text(original + "status: suspended\n")  # suspended by hand: nothing handed over
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    leaver.write_text(original + "status: offboarded\noffboarded_on: 2026-09-01\n")
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.action, change.effects, change.transfer_to, change.changed) == (
        "update", ["transfer_data"], "oliviasmith@acme.com", [])
    assert "no hand-over of its files is on record" in (change.reason or "")
    emulator.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    assert emulator.calls().count(("POST", "/admin/datatransfer/v1/transfers")) == 1
    assert [c.label for c in plan_for(org_copy, provider()).plan.changes] == ["delete user fangyuan@acme.com"]


def test_freezing_signs_out_resets_and_reports_two_step_verification(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    victim = org_copy / "users" / "e1012.yaml"
    victim.write_text(victim.read_text() + "status: frozen\n")
    address = next(u["primaryEmail"] for u in emulator.store.users.values() if u.get("externalIds")
                   and u["externalIds"][0]["value"] == "E1012")
    emulator.set_user_activity(address, is_enrolled_2sv=True)
    emulator.reset_stats()
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "user"]
    assert (change.label, change.security, change.effects) == (
        f"suspend user {address}", True, ["sign_out", "reset_password"])
    [report] = [w for w in plan.warnings if w.code == "frozen-2sv"]
    assert report.message.startswith(f"{address} is frozen and enrolled in 2-step verification: check its second")
    assert not [p for _, p in emulator.calls() if "/reports/" in p]  # only 2SV asked: no usage report read
    before = emulator.user(address)
    assert before is not None
    emulator.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    assert ("POST", f"/admin/directory/v1/users/{address}/signOut") in emulator.calls()
    after = emulator.user(address)
    assert after is not None and after["suspended"] is True and after["changePasswordAtNextLogin"] is True
    assert after["password"] != before["password"]


# ----------------------------------------------------------------------------- real tenants on day one


def _frozen(org_copy: Path, emulator: GoogleEmulator, person: str = "E1012") -> str:
    """Freeze a person of the example org (applied already); their address."""
    victim = org_copy / "users" / f"{person.lower()}.yaml"
    victim.write_text(victim.read_text() + "status: frozen\n")
    return next(u["primaryEmail"] for u in emulator.store.users.values() if u.get("externalIds")
                and u["externalIds"][0]["value"] == person)


def test_a_refused_sign_out_still_resets_the_password(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    emulator.delegation = emulator.delegation - {SCOPE_SECURITY}  # not added to the delegation yet
    address = _frozen(org_copy, emulator)
    before = emulator.user(address)
    assert before is not None
    plan = plan_for(org_copy, provider()).plan
    emulator.reset_stats()
    report = apply_all(plan.changes, provider())
    [failed] = report.failed
    assert (failed.change.label, failed.outcome) == (f"suspend user {address}", "failed")
    assert failed.error is not None and failed.error.startswith("401 unauthorized_client: Client is unauthorized")
    assert SCOPE_SECURITY in failed.error and "Domain-wide delegation" in failed.error
    after = emulator.user(address)
    assert after is not None and after["suspended"] is True  # the suspension and the reset still happened
    assert after["changePasswordAtNextLogin"] is True and after["password"] != before["password"]
    assert not [p for _, p in emulator.calls() if p.endswith("/signOut")]
    # The sign-out asked for a token of its own, with its one scope; nothing else was refused.
    refused = [r for r in emulator.token_requests() if SCOPE_SECURITY in str(r["scope"])]
    assert {r["scope"] for r in refused} == {SCOPE_SECURITY}


def _licensing_calls(emulator: GoogleEmulator) -> list[tuple[str, str]]:
    return [(m, p) for m, p in emulator.calls() if p.startswith("/apps/licensing/")]


def test_automatic_licensing_meets_the_licences_org_asks_for(org_copy: Path, emulator: GoogleEmulator) -> None:
    emulator.default_license = "Google-Apps/1010020027"  # every new user gets Business Starter at once
    to_google(org_copy)
    plan = plan_for(org_copy, provider()).plan
    wanted = {c.key.partition("/")[0]: c.key.partition("/")[2] for c in plan.changes if c.kind == "license"}
    emulator.reset_stats()
    report = apply_all(plan.changes, provider())
    assert report.ok, report.failed[:3]
    calls = _licensing_calls(emulator)
    assert not [c for c in calls if c[0] == "DELETE"]  # never without a licence
    moved = [p for m, p in calls if m == "PATCH"]
    assert len(moved) == sum(1 for sku in wanted.values() if sku != "Google-Apps/1010020027") > 0
    held = {x["userId"]: f"{x['productId']}/{x['skuId']}" for x in emulator.licenses()}
    assert {user: held[user] for user in wanted} == wanted
    assert plan_for(org_copy, provider()).plan.changes == []


def test_a_new_profile_moves_the_licence_in_one_reassignment(org_copy: Path, emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    person = org_copy / "users" / "e1011.yaml"
    person.write_text(person.read_text() + "profile: contractor\n")
    plan = plan_for(org_copy, provider()).plan
    [change] = [c for c in plan.changes if c.kind == "license"]
    assert (change.action, change.key, change.before, change.changed) == (
        "update", "zhangwei@acme.com/Google-Apps/1010020027",
        {"user": "zhangwei@acme.com", "sku": "Google-Apps/1010020028"}, ["sku"])
    emulator.reset_stats()
    assert apply_all(plan.changes, provider()).ok
    assert _licensing_calls(emulator) == [
        ("PATCH", "/apps/licensing/v1/product/Google-Apps/sku/1010020028/user/zhangwei@acme.com")]
    assert [x["skuId"] for x in emulator.licenses() if x["userId"] == "zhangwei@acme.com"] == ["1010020027"]
    assert plan_for(org_copy, provider()).plan.changes == []


def test_a_plan_that_cannot_read_hand_overs_says_so_once_and_apply_checks(org_copy: Path,
                                                                        emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    emulator.transfer_delay_s = 3600  # hand-overs take a while
    leavers = {"e1084.yaml": "fangyuan@acme.com", "e1083.yaml": ""}
    for name in leavers:
        leaver = org_copy / "users" / name
        leaver.write_text(leaver.read_text() + "status: offboarded\noffboarded_on: 2026-09-01\n")
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok  # suspended, handed over
    [done, running] = sorted(emulator.store.transfers.values(), key=lambda t: t["requestTime"] + t["id"])
    done["_started"] -= 7200  # one hand-over completed, the other is still moving files
    gone = emulator.user(done["oldOwnerUserId"])["primaryEmail"]  # type: ignore[index]
    kept = emulator.user(running["oldOwnerUserId"])["primaryEmail"]  # type: ignore[index]
    # The plan job's identity lacks the Data Transfer scope: it cannot tell either.
    emulator.delegation = emulator.delegation - {SCOPE_TRANSFER_READ}
    plan = plan_for(org_copy, provider(read_only=True)).plan
    assert sorted(c.label for c in plan.changes) == sorted(f"delete user {a}" for a in (gone, kept))
    assert not [w for w in plan.warnings if w.code == "delete-held"]
    [unchecked] = [w for w in plan.warnings if w.code == "handover-unchecked"]
    assert "for the 2 user delete(s)" in unchecked.message and "unauthorized_client" in unchecked.message
    assert unchecked.action is not None and SCOPE_TRANSFER_READ in unchecked.action
    # The apply's identity can read them: it deletes only the user whose hand-over completed.
    report = apply_all(plan.changes, provider())
    [refused] = report.failed
    assert refused.change.label == f"delete user {kept}"
    assert refused.error is not None and "not deleted: the hand-over of its files requested on" in refused.error
    assert "is inProgress" in refused.error
    assert emulator.user(gone) is None and emulator.user(kept) is not None


def test_everyone_in_the_organisation_as_a_member_is_left_alone_and_said_once(org_copy: Path,
                                                                              emulator: GoogleEmulator) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
    emulator.add_whole_customer("sales@acme.com")
    planned = plan_for(org_copy, provider())
    assert planned.plan.changes == []
    assert all(m.member for m in planned.actual.of("membership").values())  # never an empty address
    [note] = [w for w in planned.plan.warnings if w.code == "unmanaged-member"]
    assert note.subject == "sales@acme.com" and "everyone in the organisation" in note.message
