"""The Tencent Exmail provider against the Exmail emulator: tokens, reads, plans and applies."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.apply import ApplyReport
from reconciler.errors import ProviderError, UserError
from reconciler.model.files import ExmailProviderConfig
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan
from reconciler.providers.exmail import ExmailProvider
from reconciler.providers.exmail.client import ENDPOINT_ENV, SECRET_ENV, ExmailClient, ExmailError
from tests.applying import apply_all
from tests.emulators.exmail import ExmailEmulator

TODAY = dt.date(2026, 11, 29)
CORP = "wm-test-corp"


class Clock:
    """A clock only the provider's sleeps (and the test) move."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def exmail(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[ExmailEmulator]:
    emu = ExmailEmulator(corp_id=CORP, domains=("acme.com", "acme.cn"), clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    for app, variable in SECRET_ENV.items():
        monkeypatch.setenv(variable, emu.secrets[app])
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def client(exmail: ExmailEmulator, clock: Clock) -> Iterator[ExmailClient]:
    made = ExmailClient(CORP, clock=clock, sleep=clock.sleep, calls_per_second=1000)
    try:
        yield made
    finally:
        made.close()


def config() -> ExmailProviderConfig:
    return ExmailProviderConfig(kind="exmail", corp_id=CORP, domain="acme.com", calls_per_second=1000)


def provider(clock: Clock) -> ExmailProvider:
    return ExmailProvider(config(), clock=clock, sleep=clock.sleep)


def to_exmail(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: exmail\n  corp_id: {CORP}\n"
                               "  domain: acme.com\n  calls_per_second: 1000\n", settings.read_text()))


def plan_for(org_dir: Path, ex: ExmailProvider) -> Planned:
    """A plan, as `reconciler plan` makes it (the provider is closed after)."""
    org, issues = load_org(org_dir)
    with ex:
        return build_plan(org, issues, ex, TODAY)


def plan_and_apply(org_dir: Path, clock: Clock) -> ApplyReport:
    """Plan, then apply with the same provider, as `reconciler apply` does."""
    org, issues = load_org(org_dir)
    ex = provider(clock)
    return apply_all(build_plan(org, issues, ex, TODAY).plan.changes, ex)


# ---------------------------------------------------------------------------- tokens


def test_one_token_per_application_cached_for_its_lifetime(exmail: ExmailEmulator, clock: Clock,
        client: ExmailClient) -> None:
    client.get("department/list", id=1)
    client.get("user/list", department_id=1, fetch_child=1)
    assert exmail.stats()["tokens_issued"] == 1  # the contacts token, kept
    clock.now += 7200 - 61  # still more than a minute left: kept
    client.get("department/list", id=1)
    assert exmail.stats()["tokens_issued"] == 1
    clock.now += 2  # within the last minute of its 7200 s: a new one before it lapses
    client.get("department/list", id=1)
    assert exmail.stats()["tokens_issued"] == 2
    exmail.add_user("li@acme.com", "李")
    client.post("log/login", {"userid": "li@acme.com", "begin_date": "2026-11-01", "end_date": "2026-11-29"})
    assert exmail.stats()["tokens_issued"] == 3  # the logs application has a token of its own


def test_an_expired_token_is_replaced_once_and_the_call_sent_again(exmail: ExmailEmulator, clock: Clock,
        client: ExmailClient) -> None:
    client.get("department/list", id=1)
    exmail.expire_tokens()  # 42001 before our clock says so (Tencent's clock, a reset secret)
    exmail.reset_stats()
    assert client.get("department/list", id=1)["department"][0]["id"] == 1
    assert exmail.calls() == [("GET", "department/list"), ("GET", "gettoken"), ("GET", "department/list")]
    exmail.fail_next("GET", "department/list", 200, "40014", "invalid access_token", count=5)
    with pytest.raises(ExmailError, match="errcode 40014"):  # a second refusal is not retried forever
        client.get("department/list", id=1)


def test_a_wrong_secret_names_the_variable_and_never_shows_the_secret(client: ExmailClient,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV["contacts"], "not-the-secret-xyz")
    with pytest.raises(ExmailError) as refused:
        client.get("department/list", id=1)
    assert refused.value.errcode == 40001 and "invalid credential" in str(refused.value)
    assert SECRET_ENV["contacts"] in str(refused.value) and "not-the-secret-xyz" not in str(refused.value)
    monkeypatch.delenv(SECRET_ENV["contacts"])
    with pytest.raises(ProviderError, match=SECRET_ENV["contacts"] + " is not set"):
        client.get("department/list", id=1)


def test_a_contacts_token_cannot_read_logs(exmail: ExmailEmulator, clock: Clock,
        client: ExmailClient) -> None:
    contacts = client.token("contacts")
    client.tokens["log"] = client.tokens["contacts"]  # as if one token served every application
    with pytest.raises(ExmailError, match="errcode 48002"):
        client.post("log/mailstatus", {"domain": "acme.com", "begin_date": "2026-11-01", "end_date": "2026-11-01"})
    assert contacts


def test_frequency_refusals_are_waited_out_on_the_clock(exmail: ExmailEmulator, clock: Clock,
        client: ExmailClient) -> None:
    exmail.calls_per_second = 2
    for _ in range(5):
        client.get("department/list", id=1)
    stats = exmail.stats()
    assert stats["throttled"] >= 1 and stats["by_method"]["GET department/list"] == 5 + stats["throttled"]


def test_the_endpoint_switch_is_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, "https://api.exmail.qq.com.evil.example/cgi-bin/")
    with pytest.raises(ProviderError, match="not a loopback URL"):
        ExmailClient(CORP)


# ---------------------------------------------------------------------------- reading


def test_fetch_reads_departments_members_and_aliases(exmail: ExmailEmulator, clock: Clock) -> None:
    sales = exmail.add_department("销售部")
    east = exmail.add_department("华东销售", sales)
    exmail.add_user("li@acme.com", "李雷", east, extid="E1", position="经理", mobile="13900000000",
                    slaves=["lei.li@acme.com"])
    exmail.add_user("han@acme.com", "韩梅梅", enable=0)
    exmail.add_user("other@elsewhere.com", "Other")
    with provider(clock) as ex:
        state = ex.fetch(["acme.com"])
    li = state.users()["li@acme.com"]
    assert (li.id, li.display_name, li.orgunit, li.title, li.phone, li.suspended) == (
        "E1", "李雷", "/销售部/华东销售", "经理", "13900000000", False)
    assert state.users()["han@acme.com"].suspended is True and state.users()["han@acme.com"].orgunit == "/"
    assert "other@elsewhere.com" not in state.users()
    assert set(state.of("orgunit")) == {"/销售部", "/销售部/华东销售"}
    assert set(state.of("alias")) == {"lei.li@acme.com"}
    # One list of departments, one of members, and user/get for each member (its enable).
    assert exmail.stats()["by_method"] == {"GET gettoken": 1, "GET department/list": 1, "GET user/list": 1,
                                           "GET user/get": 2}


# ---------------------------------------------------------------------------- plan and apply


def test_example_org_plan_apply_plan(org_copy: Path, exmail: ExmailEmulator, clock: Clock) -> None:
    to_exmail(org_copy)
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    codes = {(w.code, w.subject) for w in plan.warnings}
    assert ("unsupported", "role") in codes  # admin roles: said once, not dropped
    assert ("unsupported", "membership") in codes  # outside addresses in mail groups
    report = apply_all(plan.changes, ex)
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    again = plan_for(org_copy, provider(clock)).plan
    assert again.changes == [], [c.label for c in again.changes]
    user = exmail.users["zhangwei2@acme.com"]
    assert (user["extid"], user["cpwd_login"], user["enable"]) == ("E1061", 1, 1)
    assert exmail.users["hanbing@acme.com"]["enable"] == 0
    assert exmail.users["ouyangnana@acme.com"]["slaves"] == ["nana.ouyang@acme.com"]
    assert "xuhaitao@acme.com" in exmail.groups["managers@acme.com"]["userlist"]
    assert exmail.departments[user["department"][0]]["name"] == "信息技术部"


def test_a_no_change_plan_costs_a_fixed_number_of_calls(org_copy: Path, exmail: ExmailEmulator,
                                                          clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    exmail.reset_stats()
    ex = provider(clock)
    assert plan_for(org_copy, ex).plan.changes == []
    people, groups = len(exmail.users), len(exmail.groups)
    by_method = exmail.stats()["by_method"]
    assert by_method == {"GET gettoken": 1, "GET department/list": 1, "GET user/list": 1, "GET user/get": people,
                         "POST user/batchcheck": 1, "GET group/get": groups}


def test_aliases_are_replaced_whole_and_never_cleared_by_an_update(org_copy: Path, exmail: ExmailEmulator,
                                                                    clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    exmail.users["ouyangnana@acme.com"]["cpwd_login"] = 1
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text().replace("aliases: [nana.ouyang]", "aliases: [nana.ouyang, nana]")
                         .replace("title: 总经理助理", "title: 新职位"))
    exmail.reset_stats()
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    assert sorted(c.label for c in plan.changes) == ["create alias nana@acme.com", "update user ouyangnana@acme.com"]
    exmail.reset_stats()
    assert apply_all(plan.changes, ex).ok
    user = exmail.users["ouyangnana@acme.com"]
    assert user["slaves"] == ["nana.ouyang@acme.com", "nana@acme.com"] and user["position"] == "新职位"
    assert user["cpwd_login"] == 1  # the title's update sent only the title
    updates = [e for e in exmail.call_log() if e["path"] == "user/update"]
    assert len(updates) == 2


def test_more_than_five_aliases_is_refused_at_plan_time(org_copy: Path, exmail: ExmailEmulator,
                                                       clock: Clock) -> None:
    to_exmail(org_copy)
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text().replace("aliases: [nana.ouyang]",
                                                       "aliases: [a1, a2, a3, a4, a5, a6]"))
    with pytest.raises(UserError, match=r"at most 5 aliases per member; org/ gives more to: ouyangnana@acme.com \(6\)"):
        plan_for(org_copy, provider(clock))
    assert not any(e["path"].startswith(("user/create", "user/update")) for e in exmail.call_log())


def test_an_address_held_by_an_unknown_group_is_a_plan_time_error(org_copy: Path, exmail: ExmailEmulator,
                                                                  clock: Clock) -> None:
    to_exmail(org_copy)
    exmail.add_user("someone@acme.com", "Someone")
    exmail.add_group("zhangwei2@acme.com", "old list", ["someone@acme.com"])
    with pytest.raises(UserError, match=r"zhangwei2@acme.com \(wanted as a user; Exmail holds a mail group\)"):
        plan_for(org_copy, provider(clock))


# ---------------------------------------------------------------------------- activity and lifecycle


def test_last_sign_in_comes_from_the_login_log_with_the_log_secret(exmail: ExmailEmulator, clock: Clock,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    exmail.add_user("li@acme.com", "李雷")
    exmail.add_user("han@acme.com", "韩梅梅")
    exmail.add_login("li@acme.com", 1_790_000_000)
    exmail.add_login("li@acme.com", 1_790_086_400, kind=4)
    with provider(clock) as ex:
        report = ex.activity()
        assert report.of("li@acme.com").last_sign_in == dt.datetime.fromtimestamp(1_790_086_400, dt.UTC)
        assert report.of("han@acme.com").last_sign_in is None
        assert set(report.unavailable) == {"two_step", "storage"}
    assert exmail.stats()["by_method"]["POST log/login"] == 2
    monkeypatch.setenv(SECRET_ENV["log"], exmail.secrets["contacts"])  # the wrong application's secret
    with provider(clock) as ex:
        report = ex.activity(["li@acme.com"])
    assert "errcode 48002" in report.unavailable["last_sign_in"]


def test_suspend_freeze_and_restore_use_enable_and_reset_the_password(org_copy: Path, exmail: ExmailEmulator,
                                                                      clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    before = exmail.users["ouyangnana@acme.com"]["password"]
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "status: frozen\n")
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    [change] = [c for c in plan.changes if c.key == "ouyangnana@acme.com"]
    assert change.action == "suspend" and "reset_password" in change.effects
    assert any(w.subject == "sign_out" for w in plan.warnings)  # no API ends sessions: said in the plan
    assert not any(w.subject == "useroption" for w in plan.warnings)
    assert apply_all(plan.changes, ex).ok
    frozen = exmail.users["ouyangnana@acme.com"]
    assert frozen["enable"] == 0 and frozen["password"] != before
    assert exmail.options["ouyangnana@acme.com"] == {1: "1", 2: "0", 3: "0", 4: "0"}  # clients off, secure login
    assert frozen["slaves"] == ["nana.ouyang@acme.com"]  # the update left the aliases alone
    user_file.write_text(user_file.read_text().replace("status: frozen\n", ""))
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    assert [c.action for c in plan.changes if c.key == "ouyangnana@acme.com"] == ["restore"]
    assert apply_all(plan.changes, ex).ok
    assert exmail.users["ouyangnana@acme.com"]["enable"] == 1


def test_a_department_is_deleted_only_after_its_people_moved(org_copy: Path, exmail: ExmailEmulator,
                                                            clock: Clock) -> None:
    to_exmail(org_copy)
    (org_copy / "org.yaml").write_text((org_copy / "org.yaml").read_text() + "delete_unlisted: {orgunits: true}\n")
    assert plan_and_apply(org_copy, clock).ok
    helpdesk = [u for u, v in exmail.users.items()
                if exmail.departments[v["department"][0]]["name"] == "IT 支持"]
    assert helpdesk
    departments = org_copy / "departments.yaml"
    text = departments.read_text()
    departments.write_text(re.sub(r"  children:\n    - key: it-helpdesk\n(      .*\n)+", "", text))
    for path in [*(org_copy / "users").glob("*.yaml"), *(org_copy / "groups").glob("*.yaml")]:
        path.write_text(path.read_text().replace("department: it-helpdesk", "department: it")
                        .replace("it-helpdesk", "it"))
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    labels = [c.label for c in plan.changes]
    assert labels[-1] == "delete orgunit /信息技术部/IT 支持", labels
    assert apply_all(plan.changes, ex).ok
    assert "IT 支持" not in {d["name"] for d in exmail.departments.values()}
    assert plan_for(org_copy, provider(clock)).plan.changes == []


def test_group_members_are_replaced_whole_one_call_a_wave(org_copy: Path, exmail: ExmailEmulator,
                                                                           clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    group_file = org_copy / "groups" / "partners.yaml"
    text = group_file.read_text()
    assert "members: [E1030, E1072]" in text
    group_file.write_text(text.replace("members: [E1030, E1072]", "members: [E1060, E1061]"))
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    changed = [c for c in plan.changes if c.kind == "membership" and c.key.startswith("partners@")]
    assert len(changed) > 1
    exmail.reset_stats()
    assert apply_all(plan.changes, ex).ok
    # The removals (deletes run first) and the additions: one whole-list call each, not one per member.
    assert exmail.stats()["by_method"].get("POST group/update") == 2
    assert {"xuhaitao@acme.com", "zhangwei2@acme.com"} <= set(exmail.groups["partners@acme.com"]["userlist"])
    assert "E1072" not in str(exmail.groups["partners@acme.com"])


def test_without_the_option_secret_a_freeze_says_what_it_leaves_on(org_copy: Path, exmail: ExmailEmulator,
                                                                   clock: Clock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    monkeypatch.delenv(SECRET_ENV["option"])
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "status: frozen\n")
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    [warning] = [w for w in plan.warnings if w.subject == "useroption"]
    assert "RECONCILER_EXMAIL_OPTION_SECRET" in warning.message and "ouyangnana@acme.com" in warning.message
    assert apply_all(plan.changes, ex).ok
    assert exmail.users["ouyangnana@acme.com"]["enable"] == 0
    assert exmail.options["ouyangnana@acme.com"][2] == "1"  # left as it was, as the plan said


def test_an_alias_moving_to_another_person_leaves_its_old_owner_first(org_copy: Path, exmail: ExmailEmulator,
                                                                      clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    old, new = org_copy / "users" / "e1001.yaml", org_copy / "users" / "e1011.yaml"
    old.write_text(old.read_text().replace("aliases: [nana.ouyang]", "aliases: []"))
    new.write_text(new.read_text().replace("aliases: [wei.zhang]", "aliases: [wei.zhang, nana.ouyang]"))
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    assert [c.label for c in plan.changes] == ["update alias nana.ouyang@acme.com"]
    exmail.reset_stats()
    assert apply_all(plan.changes, ex).ok
    receiver = next(u for u, v in exmail.users.items() if v["extid"] == "E1011")
    assert exmail.users["ouyangnana@acme.com"]["slaves"] == []
    assert exmail.users[receiver]["slaves"] == ["wei.zhang@acme.com", "nana.ouyang@acme.com"]
    assert [e["path"] for e in exmail.call_log()] == ["user/update", "user/update"]
    assert plan_for(org_copy, provider(clock)).plan.changes == []


def test_accounts_org_does_not_describe_are_reported_not_changed(org_copy: Path, exmail: ExmailEmulator,
                                                                 clock: Clock) -> None:
    to_exmail(org_copy)
    exmail.add_user("boss@acme.com", "老板")
    exmail.add_group("old-list@acme.com", "old", ["boss@acme.com"])
    plan = plan_for(org_copy, provider(clock)).plan
    assert not [c for c in plan.changes if "boss@acme.com" in c.key]
    assert any("boss@acme.com" in w.message for w in plan.warnings), [w.message for w in plan.warnings]
    # No call lists mail groups: one org/ does not name is never read, so never touched.
    assert "old-list@acme.com" not in str([c.key for c in plan.changes])
    assert "GET group/get" not in exmail.stats()["by_method"]  # org/'s groups are free addresses: none read


def test_an_account_already_disabled_is_frozen_once(org_copy: Path, exmail: ExmailEmulator, clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "status: suspended\n")
    assert plan_and_apply(org_copy, clock).ok
    assert exmail.users["ouyangnana@acme.com"]["enable"] == 0
    exmail.users["ouyangnana@acme.com"]["cpwd_login"] = 0  # she had signed in and chosen her own password
    user_file.write_text(user_file.read_text().replace("status: suspended", "status: frozen"))
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    [owed] = [c for c in plan.changes if c.key == "ouyangnana@acme.com"]
    assert owed.security and "reset_password" in owed.effects  # cpwd_login was 0: the freeze is still owed
    assert apply_all(plan.changes, ex).ok
    frozen = exmail.users["ouyangnana@acme.com"]
    assert frozen["cpwd_login"] == 1 and exmail.options["ouyangnana@acme.com"][2] == "0"
    assert plan_for(org_copy, provider(clock)).plan.changes == []  # done once, not every plan


def test_an_address_change_is_said_at_plan_time_and_refused_as_unsupported(org_copy: Path, exmail: ExmailEmulator,
                                                                           clock: Clock) -> None:
    to_exmail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "email: nana@acme.com\n")
    org, issues = load_org(org_copy)
    ex = provider(clock)
    plan = build_plan(org, issues, ex, TODAY).plan
    [warning] = [w for w in plan.warnings if w.subject == "nana@acme.com"]
    assert "cannot change a member's address" in warning.message and warning.severity == "high"
    report = apply_all([c for c in plan.changes if c.kind == "user"], ex)
    [failed] = report.failed
    assert failed.code == "unsupported" and "ouyangnana@acme.com -> nana@acme.com" in str(failed.error)
    assert "ouyangnana@acme.com" in exmail.users and "nana@acme.com" not in exmail.users
