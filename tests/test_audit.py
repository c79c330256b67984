"""`reconciler audit`: each planted problem gives exactly one finding, a clean tenant none.

A small org/ is written once; the "clean" tenant is what org/ describes, every
account recently used, enrolled in 2-step verification and well within quota.
Each test plants one problem into a copy of it and audits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import pytest

import reconciler.audit
from reconciler.activity import FIGURES, Activity, ActivityReport
from reconciler.audit import AuditFinding, AuditReport, audit_provider, exit_code, run_audit
from reconciler.audit.model import CHECKS_NEEDING, CODES
from reconciler.changes import Change, ChangeResult
from reconciler.errors import UserError
from reconciler.model.loader import load_org
from reconciler.model.org import Org
from reconciler.plan.prepare import validate_org
from reconciler.providers.base import BaseProvider
from reconciler.render.audit import render_audit, render_audit_markdown
from reconciler.state import KIND_ORDER, License, Membership, Role, State, User

TODAY = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
ADMIN = "olivia@mini.cn"  # E1: super-admin, profile staff
WEI = "wei@mini.cn"  # E2: profile contractor
LEAVER = "leaver@mini.cn"  # E3: offboarded 2025-01-01, waiting period over on 2025-01-31
PAUSED = "paused@mini.cn"  # E4: status suspended on purpose
TEAM = "team@mini.cn"

FILES = {
    "org.yaml": "name: Mini\nlifecycle: {offboard_after_days: 30}\naudit: {inactive_days: 90, quota_percent: 90}\n",
    "domains.yaml": "- name: mini.cn\n  primary: true\n",
    "permissions.yaml": (
        "profiles:\n"
        "  staff: {services: [mail], licenses: {local: std}}\n"
        "  contractor: {services: [mail], licenses: {local: basic}}\n"
        "roles:\n"
        "  admins: {admin_role: super-admin, members: [E1]}\n"),
    "users/e1.yaml": f"id: E1\ngiven_name: Olivia\nfamily_name: Smith\nemail: {ADMIN}\n",
    "users/e2.yaml": f"id: E2\ngiven_name: Wei\nfamily_name: Zhang\nemail: {WEI}\nprofile: contractor\n",
    "users/e3.yaml": (f"id: E3\ngiven_name: Lee\nfamily_name: Ver\nemail: {LEAVER}\nstatus: offboarded\n"
                      "offboarded_on: 2025-01-01\n"),
    "users/e4.yaml": f"id: E4\ngiven_name: Pau\nfamily_name: Sed\nemail: {PAUSED}\nstatus: suspended\n",
    "groups/team.yaml": "key: team\nmembers: [E1, E2]\nowners: [E1]\n",
}


def write_org(root: Path, changed: dict[str, str] | None = None) -> Org:
    for rel, text in {**FILES, **(changed or {})}.items():
        path = root / "org" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    org, issues = load_org(root / "org")
    assert not issues
    return org


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return write_org(tmp_path_factory.mktemp("mini"))


def clean_state(org: Org) -> State:
    """What org/ describes, as the provider would hold it after an apply (the leaver long deleted)."""
    resolved = validate_org(org, [], None, "local", TODAY)
    gone = resolved.not_created
    actual = State()
    for resource in resolved.desired:
        if resource.key in gone or any(kind == "user" and key in gone for kind, key in resource.refs()):
            continue
        actual.add(resource)
    return actual


def used(**figures: object) -> Activity:
    """A well-kept account: signed in yesterday, enrolled, 10% of its quota; `figures` overrides."""
    base: dict[str, object] = {"last_sign_in": NOW - dt.timedelta(days=1), "two_step": True, "used_mb": 100,
                               "quota_mb": 1000, "created": NOW - dt.timedelta(days=400)}
    return Activity(**{**base, **figures})  # type: ignore[arg-type]


def clean_activity(actual: State) -> ActivityReport:
    report = ActivityReport(by_user={address: used() for address in actual.users()})
    report.by_user[PAUSED] = used(last_sign_in=NOW - dt.timedelta(days=300))  # suspended on purpose, long ago
    return report


def audit(org: Org, actual: State, activity: ActivityReport) -> AuditReport:
    resolved = validate_org(org, [], actual, "local", TODAY)
    return run_audit(org, resolved, actual, activity, TODAY, "local")


def with_settings(org: Org, **sections: dict[str, object]) -> Org:
    """The org with org.yaml sections changed (security={"require_2sv": True}, ...)."""
    settings = org.settings
    updates = {name: getattr(settings, name).model_copy(update=values) for name, values in sections.items()}
    return dataclasses.replace(org, settings=settings.model_copy(update=updates))


def only(report: AuditReport) -> AuditFinding:
    assert len(report.findings) == 1, [f"{f.code} {f.subject}" for f in report.findings]
    return report.findings[0]


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# ----------------------------------------------------------------------------- a clean tenant


def test_a_clean_tenant_gives_no_findings(org: Org) -> None:
    actual = clean_state(org)
    report = audit(org, actual, clean_activity(actual))
    assert report.findings == []
    assert report.counts == {"high": 0, "medium": 0, "low": 0, "info": 0}
    assert report.checked_accounts == 3  # the leaver is long gone
    assert report.unavailable == {}
    assert report.summary() == "No findings in 3 accounts."
    assert exit_code(report, "info") == 0


def test_a_pending_rename_is_still_the_described_account(org: Org) -> None:
    actual = clean_state(org)
    old = "wei.old@mini.cn"
    actual.resources["user"].pop(WEI)
    actual.add(User(email=old, id="E2", given_name="Wei", family_name="Zhang"))
    actual.resources["license"].pop(f"{WEI}/basic")
    actual.add(License(user=old, sku="basic"))
    activity = clean_activity(actual)
    assert audit(org, actual, activity).findings == []


# ----------------------------------------------------------------------------- inactive


@pytest.mark.parametrize(("address", "severity"), [(WEI, "medium"), (ADMIN, "high")])
def test_an_account_unused_for_longer_than_inactive_days(org: Org, address: str, severity: str) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[address] = used(last_sign_in=days_ago(91))
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("inactive", severity, address)
    assert "last signed in on 2025-03-02, 91 days ago (more than 90)" in finding.message
    activity.by_user[address] = used(last_sign_in=days_ago(90))  # exactly the limit: not older
    assert audit(org, actual, activity).findings == []


def test_an_inactive_account_says_which_file_to_change(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(last_sign_in=days_ago(200))
    assert "`status: offboarded` and `offboarded_on` in org/users/e2.yaml" in only(audit(org, actual, activity)).action


def test_never_signed_in_counts_from_creation(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(last_sign_in=None, never_signed_in=True, created=days_ago(10))
    assert audit(org, actual, activity).findings == []  # new: not yet expected to sign in
    activity.by_user[WEI] = used(last_sign_in=None, never_signed_in=True, created=days_ago(120))
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("inactive", "medium", WEI)
    assert "never signed in since it was created on 2025-02-01" in finding.message


def test_never_signed_in_of_unknown_age_is_reported_low(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(last_sign_in=None, never_signed_in=True, created=None)
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity) == ("inactive", "low")
    assert "does not say when it was created" in finding.message


def test_an_unknown_last_sign_in_and_a_suspended_account_are_not_judged(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(last_sign_in=None, never_signed_in=False)  # the provider did not say
    assert audit(org, actual, activity).findings == []
    del activity.by_user[WEI]  # nothing at all about it
    assert audit(org, actual, activity).findings == []


# ----------------------------------------------------------------------------- unmanaged


def test_an_account_org_does_not_describe(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email="old.box@mini.cn", given_name="Old", family_name="Box"))
    activity = clean_activity(actual)
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("unmanaged", "medium", "old.box@mini.cn")
    assert "reconciler import" in finding.action


def test_an_unmanaged_suspended_account_long_unused_is_two_problems(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email="old.box@mini.cn", suspended=True))
    activity = clean_activity(actual)
    activity.by_user["old.box@mini.cn"] = used(last_sign_in=days_ago(45))
    assert [(f.code, f.severity) for f in audit(org, actual, activity).findings] == [
        ("suspended-too-long", "low"), ("unmanaged", "low")]


def test_an_account_whose_file_was_removed_is_not_unmanaged(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email="gone@mini.cn", id="E9", suspended=True))
    activity = clean_activity(actual)
    activity.by_user["gone@mini.cn"] = used(last_sign_in=days_ago(20))  # within the offboarding window
    assert audit(org, actual, activity).findings == []


# ----------------------------------------------------------------------------- suspended too long


def test_an_offboarded_account_past_its_waiting_period_is_still_there(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email=LEAVER, id="E3", suspended=True))
    actual.add(License(user=LEAVER, sku="std"))  # a leaver keeps its licence (lifecycle.remove_licenses)
    activity = clean_activity(actual)
    activity.by_user[LEAVER] = used(last_sign_in=days_ago(160))
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("suspended-too-long", "low", LEAVER)
    assert "offboarded on 2025-01-01; its waiting period ended on 2025-01-31" in finding.message
    assert "reconciler apply" in finding.action


def test_a_suspended_account_without_a_file_is_judged_by_its_last_sign_in(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email="gone@mini.cn", id="E9", suspended=True))
    activity = clean_activity(actual)
    activity.by_user["gone@mini.cn"] = used(last_sign_in=days_ago(31))
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("suspended-too-long", "low", "gone@mini.cn")
    assert "last used on 2025-05-01, 31 days ago (offboarding waits 30)" in finding.message
    assert "Restore its file (id E9)" in finding.action
    activity.by_user["gone@mini.cn"] = used(last_sign_in=None, never_signed_in=True, created=days_ago(60))
    assert "created, and never used, on 2025-04-02" in only(audit(org, actual, activity)).message
    activity.by_user["gone@mini.cn"] = used(last_sign_in=None, never_signed_in=True, created=None)
    assert audit(org, actual, activity).findings == []  # no date at all: not judged


# ----------------------------------------------------------------------------- 2-step verification


def test_an_admin_without_2sv_is_high_even_when_not_required(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[ADMIN] = used(two_step=False)
    for settings in (org, with_settings(org, security={"require_2sv": True})):
        finding = only(audit(settings, actual, activity))
        assert (finding.code, finding.severity, finding.subject) == ("admin-without-2sv", "high", ADMIN)
        assert "holds super-admin" in finding.message


def test_a_user_without_2sv_only_when_org_requires_it(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(two_step=False)
    activity.by_user[PAUSED] = used(two_step=False)  # suspended: cannot sign in, not judged
    assert audit(org, actual, activity).findings == []
    finding = only(audit(with_settings(org, security={"require_2sv": True}), actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("user-without-2sv", "medium", WEI)


def test_a_new_account_has_a_grace_period_to_enrol(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    required = with_settings(org, security={"require_2sv": True})
    activity.by_user[WEI] = used(two_step=False, created=days_ago(14))
    assert audit(required, actual, activity).findings == []  # 14 days: still within the default grace
    activity.by_user[WEI] = used(two_step=False, created=days_ago(15))
    assert only(audit(required, actual, activity)).code == "user-without-2sv"
    stricter = with_settings(org, security={"require_2sv": True, "enroll_within_days": 0})
    activity.by_user[WEI] = used(two_step=False, created=days_ago(1))
    assert only(audit(stricter, actual, activity)).code == "user-without-2sv"
    activity.by_user[ADMIN] = used(two_step=False, created=days_ago(1))  # admins get no grace
    assert [f.code for f in audit(required, actual, activity).findings] == ["admin-without-2sv"]


def test_an_unavailable_2sv_figure_gives_no_finding_but_says_why(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[ADMIN] = used(two_step=None)
    activity.by_user[WEI] = used(two_step=False)
    activity.unavailable["two_step"] = "refused: needs AuditLog.Read.All"
    report = audit(with_settings(org, security={"require_2sv": True}), actual, activity)
    assert report.findings == []
    assert report.unavailable == {"two_step": "refused: needs AuditLog.Read.All"}
    assert exit_code(report, "info") == 0  # a check that could not run does not fail the audit


# ----------------------------------------------------------------------------- storage


def test_a_mailbox_near_and_at_its_quota(org: Org) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(used_mb=899, quota_mb=1000)  # 89.9%: below 90
    assert audit(org, actual, activity).findings == []
    activity.by_user[WEI] = used(used_mb=900, quota_mb=1000)
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity, finding.subject) == ("near-quota", "low", WEI)
    assert "uses 900 MB of 1,000 MB and is at 90% of its quota" in finding.message
    activity.by_user[WEI] = used(used_mb=1000, quota_mb=1000)
    finding = only(audit(org, actual, activity))
    assert (finding.code, finding.severity) == ("near-quota", "medium")
    activity.by_user[WEI] = used(used_mb=5000, quota_mb=None)  # unlimited or unknown
    assert audit(org, actual, activity).findings == []


# ----------------------------------------------------------------------------- external members


def test_a_group_with_an_external_member_org_does_not_list(org: Org) -> None:
    actual = clean_state(org)
    actual.add(Membership(group=TEAM, member="ann@partner.net", member_type="external"))
    actual.add(Membership(group=TEAM, member="bob@partner.net", member_type="external"))
    finding = only(audit(org, actual, clean_activity(actual)))
    assert (finding.code, finding.severity, finding.subject) == ("external-members", "medium", TEAM)
    assert "2 external members that org/ does not list: ann@partner.net, bob@partner.net" in finding.message
    assert "external_members in org/groups/team.yaml" in finding.action


def test_external_members_org_lists_are_info(tmp_path: Path) -> None:
    org = write_org(tmp_path, {"groups/team.yaml": "key: team\nmembers: [E1]\nexternal_members: [ann@partner.net]\n"})
    actual = clean_state(org)
    assert Membership(group=TEAM, member="ann@partner.net", member_type="external") in actual.of(
        "membership").values()
    finding = only(audit(org, actual, clean_activity(actual)))
    assert (finding.code, finding.severity, finding.subject) == ("external-members", "info", TEAM)
    assert "1 external member listed in org/: ann@partner.net" in finding.message


# ----------------------------------------------------------------------------- licences


def test_a_licence_that_is_not_the_profiles(org: Org) -> None:
    actual = clean_state(org)
    actual.resources["license"].pop(f"{WEI}/basic")
    actual.add(License(user=WEI, sku="std"))
    actual.add(License(user=WEI, sku="video-addon"))  # no profile gives it: not org/'s to judge
    finding = only(audit(org, actual, clean_activity(actual)))
    assert (finding.code, finding.severity, finding.subject) == ("license-mismatch", "low", WEI)
    assert finding.message == f"{WEI} holds std but its profile (contractor) gives basic."


def test_a_missing_licence(org: Org) -> None:
    actual = clean_state(org)
    actual.resources["license"].pop(f"{ADMIN}/std")
    finding = only(audit(org, actual, clean_activity(actual)))
    assert finding.message == f"{ADMIN} holds no licence but its profile (staff) gives std."


# ----------------------------------------------------------------------------- unavailable figures


def test_every_figure_unavailable_skips_those_checks_only(org: Org) -> None:
    actual = clean_state(org)
    actual.add(User(email="old.box@mini.cn"))  # unmanaged: needs no figure
    activity = ActivityReport(by_user={a: used(last_sign_in=days_ago(500), two_step=False, used_mb=999)
                                       for a in actual.users()},
                              unavailable={figure: "the local provider does not report it" for figure in FIGURES})
    report = audit(with_settings(org, security={"require_2sv": True}), actual, activity)
    assert [f.code for f in report.findings] == ["unmanaged"]
    assert list(report.unavailable) == ["last_sign_in", "storage", "two_step"]


def test_a_provider_without_activity_reports_every_figure_unavailable(org: Org) -> None:
    class Plain(BaseProvider):
        """A provider that overrides no hook: BaseProvider's defaults answer."""

        name = "local"
        supports = frozenset(KIND_ORDER)

        def fetch(self, domains: Sequence[str]) -> State:
            return clean_state(org)

        def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
            raise AssertionError("an audit never applies")

    activity = Plain().activity()
    assert activity.unavailable == {f: "the local provider does not report it" for f in FIGURES}
    report = audit_provider(org, [], Plain(), TODAY)
    assert report.findings == [] and report.provider == "local" and set(report.unavailable) == set(FIGURES)


def test_audit_provider_reads_activity_for_every_account(org: Org) -> None:
    asked: list[object] = []

    class WithActivity(BaseProvider):
        name = "local"
        supports = frozenset(KIND_ORDER)

        def fetch(self, domains: Sequence[str]) -> State:
            return clean_state(org)

        def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
            raise AssertionError("an audit never applies")

        def activity(self, addresses: Sequence[str] | None = None,
                     figures: Collection[str] = FIGURES) -> ActivityReport:
            asked.append(addresses)
            report = clean_activity(clean_state(org))
            report.by_user[WEI] = used(used_mb=950)
            return report

    report = audit_provider(org, [], WithActivity(), TODAY)
    assert asked == [None]
    assert [(f.code, f.subject) for f in report.findings] == [("near-quota", WEI)]


# ----------------------------------------------------------------------------- exit codes and order


def planted(org: Org) -> AuditReport:
    """The renderers' sample: a high and three medium findings, and a figure the provider lacked."""
    actual = clean_state(org)
    actual.add(Role(role="help-desk-admin", user=ADMIN))
    actual.add(User(email="old.box@mini.cn"))
    actual.add(Membership(group=TEAM, member="ann@partner.net", member_type="external"))
    activity = clean_activity(actual)
    activity.by_user[ADMIN] = used(two_step=False)
    activity.by_user[WEI] = used(last_sign_in=days_ago(100), used_mb=990)  # storage not read: no near-quota
    activity.unavailable["storage"] = "no usage report yet | try *later*"
    return audit(org, actual, activity)


def test_every_code_is_in_the_severity_table() -> None:
    table = reconciler.audit.__doc__ or ""
    assert all(f"| {code} " in table for code in CODES)
    assert set(CHECKS_NEEDING) == set(FIGURES)


def test_findings_are_sorted_by_severity_then_code_then_subject(org: Org) -> None:
    report = planted(org)
    assert [(f.severity, f.code, f.subject) for f in report.findings] == [
        ("high", "admin-without-2sv", ADMIN),
        ("medium", "external-members", TEAM),
        ("medium", "inactive", WEI),
        ("medium", "unmanaged", "old.box@mini.cn"),
    ]
    assert report.counts == {"high": 1, "medium": 3, "low": 0, "info": 0}
    assert report.findings[0].message == f"{ADMIN} holds help-desk-admin, super-admin but is not enrolled in " \
                                         "2-step verification."


@pytest.mark.parametrize(("fail_on", "code"), [(None, 0), ("high", 1), ("medium", 1), ("low", 1), ("info", 1)])
def test_fail_on_a_high_finding(org: Org, fail_on: str | None, code: int) -> None:
    assert exit_code(planted(org), fail_on) == code  # type: ignore[arg-type]


@pytest.mark.parametrize(("fail_on", "code"), [(None, 0), ("high", 0), ("medium", 0), ("low", 1), ("info", 1)])
def test_fail_on_a_low_finding(org: Org, fail_on: str | None, code: int) -> None:
    actual = clean_state(org)
    activity = clean_activity(actual)
    activity.by_user[WEI] = used(used_mb=950)
    assert exit_code(audit(org, actual, activity), fail_on) == code  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- renderings


def test_text_rendering(org: Org) -> None:
    text = render_audit(planted(org), "text")
    lines = text.splitlines()
    assert lines[0] == "Account audit of local, 2025-06-01"
    assert "HIGH    admin-without-2sv  olivia@mini.cn" in lines
    assert f"        {ADMIN} holds help-desk-admin, super-admin but is not enrolled in 2-step verification." in lines
    assert any(line.startswith("        To do: Enrol it in 2-step verification now") for line in lines)
    assert "MEDIUM  unmanaged  old.box@mini.cn" in lines
    assert "Not checked:" in lines
    assert "  ! storage quotas (storage): no usage report yet | try *later*" in lines
    assert lines[-1] == "4 findings (1 high, 3 medium) in 4 accounts."
    assert "\x1b[" not in text
    assert "\x1b[" in render_audit(planted(org), "text", colour=True)


def test_markdown_rendering(org: Org) -> None:
    markdown = render_audit(planted(org), "markdown")
    lines = markdown.splitlines()
    assert lines[0] == "## Account audit of local, 2025-06-01"
    assert "| 🔴 high | 1 |" in lines and "| 🟠 medium | 3 |" in lines and "| 🔵 info | 0 |" in lines
    assert "> - storage quotas (storage): no usage report yet \\| try \\*later\\*" in lines
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### 🔴 High (1)", "### 🟠 Medium (3)"]
    assert ("- [ ] `unmanaged` old.box@mini.cn is an active account at the local provider that no file in "
            "org/users describes.<br>**To do:** If it is needed, describe it in org/users (`reconciler import` "
            "writes a file to copy); if not, delete it at the provider.") in lines
    assert markdown.index("### 🔴 High") < markdown.index("### 🟠 Medium")


def test_markdown_of_a_clean_tenant_and_a_cut_one(org: Org) -> None:
    actual = clean_state(org)
    clean = audit(org, actual, clean_activity(actual))
    assert "No findings in 3 accounts." in render_audit(clean, "markdown").splitlines()
    assert "###" not in render_audit(clean, "markdown")
    report = planted(org)
    cut = render_audit_markdown(report, limit=len(render_audit_markdown(report)) - 50)
    assert "**1 more finding not shown**" in cut
    assert cut.count("- [ ] ") == 3


def test_json_rendering_round_trips(org: Org) -> None:
    report = planted(org)
    text = render_audit(report, "json")
    data = json.loads(text)
    assert data["format_version"] == 1 and data["provider"] == "local" and data["generated_on"] == "2025-06-01"
    assert list(data) == ["format_version", "provider", "generated_on", "checked_accounts", "counts", "findings",
                          "unavailable"]
    assert list(data["counts"]) == ["high", "medium", "low", "info"]
    assert set(data["findings"][0]) == {"code", "severity", "subject", "message", "action"}
    assert AuditReport.model_validate_json(text) == report
    assert render_audit(AuditReport.model_validate_json(text), "json") == text  # stable


def test_an_unknown_format(org: Org) -> None:
    with pytest.raises(UserError, match=re.escape("unknown format 'html'; use text, markdown or json")):
        render_audit(planted(org), "html")
