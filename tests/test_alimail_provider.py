"""The Alibaba Mail provider against its emulator: the token, the shared budget, reads, plans and
applies, on a clock only the provider's sleeps (and the test) move."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.apply import ApplyReport
from reconciler.changes import Change
from reconciler.errors import ProviderError, UserError
from reconciler.model.files import AlimailProviderConfig
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan
from reconciler.providers.alimail import AlimailProvider
from reconciler.providers.alimail.client import ENDPOINT_ENV, SECRET_ENV, AlimailClient, AlimailError
from reconciler.providers.retrying import ATTEMPTS
from tests.applying import apply_all
from tests.emulators.alimail import AlimailEmulator

TODAY = dt.date(2026, 11, 29)
APP = "alimail-test-app"
HOST = "alimail-cn.aliyuncs.com"


class Clock:
    """A clock only the provider's sleeps (and the test) move; it keeps what was slept."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alimail(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[AlimailEmulator]:
    emu = AlimailEmulator(app_id=APP, domains=("acme.com", "acme.cn"), clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    monkeypatch.setenv(SECRET_ENV, emu.secret)
    try:
        yield emu
    finally:
        emu.stop()


def make_client(clock: Clock, per_second: float = 40) -> AlimailClient:
    return AlimailClient(HOST, APP, requests_per_second=per_second, clock=clock, sleep=clock.sleep)


@pytest.fixture
def client(alimail: AlimailEmulator, clock: Clock) -> Iterator[AlimailClient]:
    made = make_client(clock)
    try:
        yield made
    finally:
        made.close()


def provider(clock: Clock) -> AlimailProvider:
    config = AlimailProviderConfig(kind="alimail", app_id=APP, domain="acme.com", requests_per_second=40)
    return AlimailProvider(config, clock=clock, sleep=clock.sleep)


def to_alimail(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", f"provider:\n  kind: alimail\n  app_id: {APP}\n"
                               "  domain: acme.com\n  requests_per_second: 40\n", settings.read_text()))


def plan_for(org_dir: Path, ali: AlimailProvider) -> Planned:
    org, issues = load_org(org_dir)
    with ali:
        return build_plan(org, issues, ali, TODAY)


def plan_and_apply(org_dir: Path, clock: Clock) -> ApplyReport:
    org, issues = load_org(org_dir)
    ali = provider(clock)
    return apply_all(build_plan(org, issues, ali, TODAY).plan.changes, ali)


# ---------------------------------------------------------------------------- the token


def test_the_token_is_kept_for_its_expires_in(alimail: AlimailEmulator, clock: Clock, client: AlimailClient) -> None:
    client.get("departments/$root/departments")
    client.get("departments/$root/users")
    assert alimail.stats()["tokens_issued"] == 1
    clock.now += 3600 - 61  # more than a minute of its 3600 s left: kept
    client.get("departments/$root/users")
    assert alimail.stats()["tokens_issued"] == 1
    clock.now += 2  # within its last minute: a new one before it lapses
    client.get("departments/$root/users")
    assert alimail.stats()["tokens_issued"] == 2
    [token_call] = [e for e in alimail.call_log() if e["path"] == "oauth2/v2.0/token"][:1]
    assert token_call["method"] == "POST"


def test_a_401_gets_one_new_token_and_the_call_again(alimail: AlimailEmulator, client: AlimailClient) -> None:
    client.get("departments/$root/users")
    alimail.expire_tokens()  # refused before our clock says so (a reset secret, the service's clock)
    alimail.reset_stats()
    assert client.get("departments/$root/users") == {"users": []}
    assert alimail.calls() == [("GET", "v2/departments/$root/users"), ("POST", "oauth2/v2.0/token"),
                               ("GET", "v2/departments/$root/users")]
    alimail.fail_next("GET", r"departments/\$root/users", 401, "Unauthorized", "token revoked", count=5)
    with pytest.raises(AlimailError, match="HTTP 401: Unauthorized: token revoked"):  # not retried forever
        client.get("departments/$root/users")


def test_a_wrong_secret_names_the_variable_and_never_shows_the_secret(client: AlimailClient,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-secret-xyz")
    with pytest.raises(AlimailError) as refused:
        client.get("departments/$root/users")
    assert refused.value.status == 401 and "invalid_client" in str(refused.value)
    assert SECRET_ENV in str(refused.value) and "not-the-secret-xyz" not in str(refused.value)
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(ProviderError, match=SECRET_ENV + " is not set"):
        client.get("departments/$root/users")


def test_the_endpoint_switch_is_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, "https://alimail-cn.aliyuncs.com.evil.example/")
    with pytest.raises(ProviderError, match="not a loopback URL"):
        AlimailClient(HOST, APP)


# ---------------------------------------------------------------------------- the shared budget


def test_the_client_paces_itself_under_its_share(alimail: AlimailEmulator, clock: Clock) -> None:
    client = make_client(clock, per_second=20)
    start = clock.now
    for _ in range(40):  # a token and 40 calls: 41 requests, each 1/20 s after the one before
        client.get("departments/$root/users")
    client.close()
    assert clock.now - start == pytest.approx(40 / 20)
    assert alimail.stats()["throttled"] == 0


def test_a_429_is_waited_out_as_the_service_asks(alimail: AlimailEmulator, clock: Clock,
                                                 client: AlimailClient) -> None:
    client.get("departments/$root/users")
    alimail.fail_next("GET", r"departments/\$root/users", 429, "TooManyRequests", "slow down", count=2)
    clock.slept.clear()
    assert client.get("departments/$root/users") == {"users": []}
    assert [s for s in clock.slept if s >= 1] == [1.0, 1.0]  # Retry-After: 1, twice, then the answer
    alimail.fail_next("GET", r"departments/\$root/users", 429, "TooManyRequests", "slow down", count=ATTEMPTS)
    with pytest.raises(AlimailError, match="HTTP 429: TooManyRequests: slow down"):  # it gives up, saying why
        client.get("departments/$root/users")


def test_other_applications_of_the_domain_share_the_budget(alimail: AlimailEmulator, clock: Clock) -> None:
    """Another application uses three quarters of the 40 a second: our 40 a second meets 429s,
    waits them out, and every call is answered once."""
    alimail.requests_per_second = 10
    client = make_client(clock, per_second=40)
    for _ in range(30):
        client.get("departments/$root/users")
    client.close()
    stats = alimail.stats()
    assert stats["throttled"] > 0
    assert stats["by_method"]["GET v2/departments/{id}/users"] == 30 + stats["throttled"] - \
        (stats["by_method"]["POST oauth2/v2.0/token"] - 1)


# ---------------------------------------------------------------------------- the emulator's strictness


def test_error_bodies_and_unknown_fields(alimail: AlimailEmulator, client: AlimailClient) -> None:
    alimail.add_user("li@acme.com", "李雷", emailAliases=["lei@acme.com"])
    with pytest.raises(AlimailError) as unknown:
        client.call("PATCH", "users/li@acme.com", body={"title": "经理"})  # jobTitle is the field
    assert (unknown.value.status, unknown.value.code) == (400, "InvalidParameter")
    assert "unknown field: title" in str(unknown.value)
    with pytest.raises(AlimailError) as taken:
        client.call("POST", "users/li@acme.com/emailAliases", body={"alias": "lei@acme.com"})
    assert taken.value.status == 409
    with pytest.raises(AlimailError, match="HTTP 404"):
        client.call("DELETE", "departments/no-such-department")
    with pytest.raises(AlimailError, match="limit is 1-100"):
        client.get("departments/$root/users", limit=101)
    with pytest.raises(AlimailError, match="root department cannot be deleted"):
        client.call("DELETE", "departments/$root")


# ---------------------------------------------------------------------------- reading


def test_fetch_reads_departments_accounts_and_aliases_page_by_page(alimail: AlimailEmulator,
                                                                   clock: Clock) -> None:
    sales = alimail.add_department("销售部")
    east = alimail.add_department("华东销售", sales)
    alimail.add_user("li@acme.com", "李雷", east, employeeNo="E1", jobTitle="经理", phone="13900000000",
                     emailAliases=["lei.li@acme.com"])
    alimail.add_user("han@acme.com", "韩梅梅", status="FREEZE", managerEmail="li@acme.com")
    alimail.add_user("other@acme.cn", "Other")
    for n in range(150):  # two pages of the root's accounts
        alimail.add_user(f"p{n:03}@acme.com", f"P{n}", employeeNo=f"X{n}")
    with provider(clock) as ali:
        state = ali.fetch(["acme.com"])
    li = state.users()["li@acme.com"]
    assert (li.id, li.display_name, li.orgunit, li.title, li.phone, li.suspended) == (
        "E1", "李雷", "/销售部/华东销售", "经理", "13900000000", False)
    han = state.users()["han@acme.com"]
    assert (han.suspended, han.orgunit, han.manager) == (True, "/", "li@acme.com")
    assert "other@acme.cn" not in state.users() and "p149@acme.com" in state.users()
    assert set(state.of("orgunit")) == {"/销售部", "/销售部/华东销售"}
    assert set(state.of("alias")) == {"lei.li@acme.com"}
    # Per department (the root, 销售部, 华东销售): one page of sub-departments and one of accounts,
    # and a second page of the root's 152 accounts.
    assert alimail.stats()["by_method"] == {"POST oauth2/v2.0/token": 1, "GET v2/departments/{id}/departments": 3,
                                            "GET v2/departments/{id}/users": 4}


# ---------------------------------------------------------------------------- plan and apply


def test_example_org_plan_apply_plan(org_copy: Path, alimail: AlimailEmulator, clock: Clock) -> None:
    to_alimail(org_copy)
    org, issues = load_org(org_copy)
    ali = provider(clock)
    plan = build_plan(org, issues, ali, TODAY).plan
    codes = {(w.code, w.subject) for w in plan.warnings}
    assert {("unsupported", "group"), ("unsupported", "membership"), ("unsupported", "role")} <= codes
    report = apply_all(plan.changes, ali)
    assert report.ok, [(r.change.label, r.error) for r in report.failed]
    assert plan_for(org_copy, provider(clock)).plan.changes == []
    user = alimail.users["zhangwei2@acme.com"]
    assert (user["employeeNo"], user["forceChangePasswordNextSignIn"], user["status"]) == ("E1061", True, "NORMAL")
    assert alimail.users["hanbing@acme.com"]["status"] == "FREEZE"
    assert alimail.users["ouyangnana@acme.com"]["emailAliases"] == ["nana.ouyang@acme.com"]
    assert alimail.users["ouyangnana@acme.com"]["managerEmail"]  # set once the manager's account existed
    assert alimail.departments[user["departmentIds"][0]]["name"] == "信息技术部"


def test_an_alias_moving_between_people_leaves_its_owner_first(org_copy: Path, alimail: AlimailEmulator,
                                                              clock: Clock) -> None:
    to_alimail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    nana, wan = org_copy / "users" / "e1001.yaml", org_copy / "users" / "e1002.yaml"
    nana.write_text(nana.read_text().replace("aliases: [nana.ouyang]\n", ""))
    wan.write_text(wan.read_text() + "aliases: [nana.ouyang]\n")
    title = nana.read_text()
    nana.write_text(title.replace("title: 总经理助理", "title: 新职位"))
    org, issues = load_org(org_copy)
    ali = provider(clock)
    plan = build_plan(org, issues, ali, TODAY).plan
    alimail.reset_stats()
    assert apply_all(plan.changes, ali).ok
    writes = [(e["method"], e["path"]) for e in alimail.call_log() if e["method"] != "GET"]
    assert writes == [("PATCH", "v2/users/ouyangnana@acme.com"),
                      ("DELETE", "v2/users/ouyangnana@acme.com/emailAliases"),
                      ("POST", "v2/users/suwan@acme.com/emailAliases")], writes
    assert alimail.users["suwan@acme.com"]["emailAliases"] == ["nana.ouyang@acme.com"]
    assert alimail.users["ouyangnana@acme.com"]["jobTitle"] == "新职位"


def test_freeze_is_status_freeze_and_the_plan_says_the_password_is_not_reset(
        org_copy: Path, alimail: AlimailEmulator, clock: Clock) -> None:
    to_alimail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    before = alimail.users["ouyangnana@acme.com"]["password"]
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "status: frozen\n")
    org, issues = load_org(org_copy)
    ali = provider(clock)
    plan = build_plan(org, issues, ali, TODAY).plan
    [change] = [c for c in plan.changes if c.key == "ouyangnana@acme.com"]
    assert change.action == "suspend" and "reset_password" in change.effects
    [warning] = [w for w in plan.warnings if w.subject == "reset_password"]
    assert "reset its password in the admin console" in warning.message
    assert apply_all(plan.changes, ali).ok
    frozen = alimail.users["ouyangnana@acme.com"]
    assert frozen["status"] == "FREEZE" and frozen["password"] == before  # no unconfirmed call was guessed at
    assert frozen["emailAliases"] == ["nana.ouyang@acme.com"]
    again = plan_for(org_copy, provider(clock)).plan  # frozen once, not on every plan
    assert [c for c in again.changes if c.key == "ouyangnana@acme.com"] == []
    user_file.write_text(user_file.read_text().replace("status: frozen\n", ""))
    org, issues = load_org(org_copy)
    ali = provider(clock)
    plan = build_plan(org, issues, ali, TODAY).plan
    assert [c.action for c in plan.changes if c.key == "ouyangnana@acme.com"] == ["restore"]
    assert apply_all(plan.changes, ali).ok
    assert alimail.users["ouyangnana@acme.com"]["status"] == "NORMAL"


def test_activity_comes_with_the_accounts(alimail: AlimailEmulator, clock: Clock) -> None:
    alimail.add_user("li@acme.com", "李雷", lastLoginTime="2026-11-20T09:30:00Z", lastLoginIp="203.0.113.9",
                     isInitialPassword=False)
    alimail.add_user("new@acme.com", "New", isInitialPassword=True)
    with provider(clock) as ali:
        ali.fetch(["acme.com"])
        alimail.reset_stats()
        report = ali.activity(["li@acme.com", "new@acme.com"])
    assert report.of("li@acme.com").last_sign_in == dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    assert report.of("new@acme.com").never_signed_in is True
    assert "two_step" in report.unavailable and alimail.stats()["requests"] == 0  # no call of its own


def test_an_address_change_is_a_plan_warning_and_an_unsupported_change(org_copy: Path, alimail: AlimailEmulator,
                                                                       clock: Clock) -> None:
    to_alimail(org_copy)
    assert plan_and_apply(org_copy, clock).ok
    wan = org_copy / "users" / "e1002.yaml"
    wan.write_text(wan.read_text() + "email: wan.su@acme.com\n")
    org, issues = load_org(org_copy)
    ali = provider(clock)
    plan = build_plan(org, issues, ali, TODAY).plan
    [warning] = [w for w in plan.warnings if w.subject == "wan.su@acme.com"]
    assert warning.severity == "high" and "cannot change an account's address" in warning.message
    alimail.reset_stats()
    report = apply_all(plan.changes, ali)
    [failed] = [r for r in report.results if r.change.key == "wan.su@acme.com"]
    assert failed.code == "unsupported" and "suwan@acme.com -> wan.su@acme.com" in (failed.error or "")
    assert "suwan@acme.com" in alimail.users and not any(e["method"] == "PATCH" for e in alimail.call_log())


def test_an_address_held_by_a_department_or_another_domain_is_a_plan_time_error(
        org_copy: Path, alimail: AlimailEmulator, clock: Clock) -> None:
    to_alimail(org_copy)
    alimail.departments[alimail.add_department("采购部")]["email"] = "zhangwei2@acme.com"
    alimail.add_user("old@elsewhere.cn", "Old", emailAliases=["nana.ouyang@acme.com"])
    with pytest.raises(UserError) as refused:
        plan_for(org_copy, provider(clock))
    assert "zhangwei2@acme.com (wanted as a user; Alibaba Mail holds it as the address of department /采购部)" \
        in str(refused.value)
    assert "nana.ouyang@acme.com (wanted as an alias; Alibaba Mail holds it as an alias of old@elsewhere.cn)" \
        in str(refused.value)
    assert [e["path"] for e in alimail.call_log() if e["method"] != "GET"] == ["oauth2/v2.0/token"]  # no write


def test_a_throttled_token_request_waits_too(alimail: AlimailEmulator, clock: Clock, client: AlimailClient) -> None:
    alimail.fail_next("POST", r"oauth2/v2\.0/token", 429, "TooManyRequests", "slow down")
    assert client.get("departments/$root/users") == {"users": []}
    assert 1.0 in clock.slept and alimail.stats()["tokens_issued"] == 1


def test_deleting_an_account_takes_its_aliases_along(alimail: AlimailEmulator, clock: Clock) -> None:
    """A wave that deletes an account and (as the plan lists them) its aliases: the aliases went
    with the account, so their deletes are done, not 404s."""
    alimail.add_user("gone@acme.com", "Gone", emailAliases=["g@acme.com"])
    ali = provider(clock)
    ali.fetch(["acme.com"])
    wave = [Change(action="delete", kind="user", key="gone@acme.com", before={"email": "gone@acme.com"}),
            Change(action="delete", kind="alias", key="g@acme.com",
                   before={"address": "g@acme.com", "target": "gone@acme.com"})]
    alimail.reset_stats()
    with ali:
        results = ali.apply(wave, {})
    assert [r.outcome for r in results] == ["applied", "applied"]
    assert alimail.calls() == [("DELETE", "v2/users/gone@acme.com")] and "gone@acme.com" not in alimail.users
