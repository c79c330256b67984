"""Tencent Exmail and Alibaba Mail under faults: reads and idempotent writes are sent again on the
injected clock, a create whose answer is lost is looked up by its key before it is sent again,
and a change whose tries are spent fails alone, with one line, while the apply goes on.

The faults come from the emulators' injector (tests/emulators/common/inject.py); every wait is
on the test's clock, and the only real waits are a timeout's (the client's 0.3 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.changes import Change
from reconciler.model.files import AlimailProviderConfig, ExmailProviderConfig
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.alimail import AlimailProvider
from reconciler.providers.alimail.client import AlimailClient
from reconciler.providers.base import BaseProvider
from reconciler.providers.exmail import ExmailProvider
from reconciler.providers.exmail.client import ExmailClient, ExmailError
from reconciler.providers.retrying import ATTEMPTS, UnknownOutcome
from reconciler.providers.steps import attempt
from tests.applying import apply_all
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.common import Fault
from tests.emulators.exmail import ExmailEmulator
from tests.test_alimail_provider import (
    APP,
    HOST,
    TODAY,
    Clock,
    alimail,  # noqa: F401 - fixture
    to_alimail,
)
from tests.test_exmail_provider import CORP, exmail, to_exmail  # noqa: F401 - fixture

TIMEOUT = 0.3  # the client's read timeout: a withheld answer costs this much real time
RESET_AFTER = Fault("reset", commit=True)
USER = {"userid": "li@acme.com", "name": "李雷", "department": [1], "password": "Secret-12345", "cpwd_login": 1}


@pytest.fixture
def clock() -> Clock:
    return Clock()  # moved by sleeps only, and remembers them


@pytest.fixture
def ex_client(exmail: ExmailEmulator, clock: Clock) -> Iterator[ExmailClient]:  # noqa: F811
    made = ExmailClient(CORP, clock=clock, sleep=clock.sleep, calls_per_second=1000, timeout=TIMEOUT)
    yield made
    made.close()


@pytest.fixture
def ali_client(alimail: AlimailEmulator, clock: Clock) -> Iterator[AlimailClient]:  # noqa: F811
    made = AlimailClient(HOST, APP, requests_per_second=1000, clock=clock, sleep=clock.sleep, timeout=TIMEOUT)
    yield made
    made.close()


def ex_provider(clock: Clock) -> ExmailProvider:
    config = ExmailProviderConfig(kind="exmail", corp_id=CORP, domain="acme.com", calls_per_second=1000)
    return ExmailProvider(config, clock=clock, sleep=clock.sleep, timeout=TIMEOUT)


def ali_provider(clock: Clock) -> AlimailProvider:
    config = AlimailProviderConfig(kind="alimail", app_id=APP, domain="acme.com", requests_per_second=40)
    return AlimailProvider(config, clock=clock, sleep=clock.sleep, timeout=TIMEOUT)


def plan_changes(org_dir: Path, provider: BaseProvider) -> list[Change]:
    org, issues = load_org(org_dir)
    with provider:
        return build_plan(org, issues, provider, TODAY).plan.changes


def plan_and_apply(org_dir: Path, provider: BaseProvider) -> tuple[list[str], list[Change]]:
    """Plan and apply with one provider, as `reconciler apply` does: the failures' lines, the changes."""
    org, issues = load_org(org_dir)
    changes = build_plan(org, issues, provider, TODAY).plan.changes
    report = apply_all(changes, provider)
    return [f"{r.change.label}: {r.error}" for r in report.failed], changes


# ---------------------------------------------------------------------------- Exmail: the client


@pytest.mark.parametrize("fault", [
    Fault("reset"), RESET_AFTER, Fault("timeout"), Fault("truncated"), Fault("html", 502), Fault("html", 503),
    Fault("error", 500), Fault("error", 429, reason="throttle"), Fault("error", 403, reason="rate-limit"),
    Fault("slow", hold_s=0.01)], ids=lambda f: f.label)
def test_exmail_reads_are_sent_again_after_any_fault(exmail: ExmailEmulator, ex_client: ExmailClient,  # noqa: F811
                                                     clock: Clock, fault: Fault) -> None:
    ex_client.get("department/list", id=1)
    exmail.inject(fault, "GET", "department/list$", count=2)
    assert ex_client.get("department/list", id=1)["department"][0]["id"] == 1
    assert exmail.faults_served() == {fault.label: 1 if fault.kind == "slow" else 2}
    # Backoff on the test's clock (a slow answer is an answer: no wait, no second try).
    assert [s for s in clock.slept if s >= 1] == ([] if fault.kind == "slow" else [1.0, 2.0])


def test_exmail_frequency_errcodes_and_a_lost_token_answer_are_waited_out(exmail: ExmailEmulator,  # noqa: F811
                                                                        ex_client: ExmailClient) -> None:
    exmail.inject(Fault("html", 503), "GET", "gettoken$")
    exmail.fail_next("GET", "department/list", 200, "45009", "api freq out of limit")
    exmail.fail_next("GET", "department/list", 200, "45033", "api concurrent out of limit")
    assert ex_client.get("department/list", id=1)["department"][0]["id"] == 1
    assert ex_client.token_requests == 2


def test_exmail_the_client_never_sends_a_create_again_blind(exmail: ExmailEmulator,  # noqa: F811
                                                            ex_client: ExmailClient) -> None:
    """Sent again, it would meet 'userid existed' and fail the change: the caller looks first."""
    exmail.inject(RESET_AFTER, "POST", "user/create$")
    with pytest.raises(UnknownOutcome, match="whether it was made is not known"):
        ex_client.post("user/create", USER)
    assert list(exmail.users) == ["li@acme.com"] and [p for _, p in exmail.calls()].count("user/create") == 1


def test_exmail_a_delete_whose_answer_is_lost_is_done(exmail: ExmailEmulator, ex_client: ExmailClient) -> None:  # noqa: F811
    exmail.add_user("li@acme.com", "李雷")
    exmail.inject(RESET_AFTER, "GET", "user/delete$")
    ex_client.get("user/delete", userid="li@acme.com")  # the retry meets 60111: the lost try deleted it
    assert "li@acme.com" not in exmail.users
    with pytest.raises(ExmailError, match="errcode 60111"):  # a delete of nobody, with no lost answer: refused
        ex_client.get("user/delete", userid="li@acme.com")


def test_exmail_tries_spent_are_one_error_of_the_change(exmail: ExmailEmulator, ex_client: ExmailClient,  # noqa: F811
                                                        clock: Clock) -> None:
    ex_client.get("department/list", id=1)
    exmail.inject(Fault("error", 502), "POST", "department/update$", count=ATTEMPTS)
    state, error = attempt(lambda: ex_client.post("department/update", {"id": 1, "name": "x"}), ExmailError)
    assert (state, error) == ("failed", f"Exmail department/update: errcode -1: HTTP 502 ({ATTEMPTS} tries)")
    assert sum(s for s in clock.slept if s >= 1) == 1 + 2 + 4 + 8 + 16 + 30 + 30


# ---------------------------------------------------------------------------- Alibaba Mail: the client


@pytest.mark.parametrize("fault", [
    Fault("reset"), RESET_AFTER, Fault("timeout"), Fault("truncated"), Fault("html", 502),
    Fault("error", 503), Fault("error", 429, reason="rate-limit")], ids=lambda f: f.label)
def test_alimail_reads_are_sent_again_after_any_fault(alimail: AlimailEmulator, ali_client: AlimailClient,  # noqa: F811
                                                      clock: Clock, fault: Fault) -> None:
    ali_client.get("departments/$root/users")
    alimail.inject(fault, "GET", "users$", count=2)
    assert ali_client.get("departments/$root/users") == {"users": []}
    assert [s for s in clock.slept if s >= 1] == [1.0, 2.0]


def test_alimail_a_429_waits_what_retry_after_says(alimail: AlimailEmulator, ali_client: AlimailClient,  # noqa: F811
                                                   clock: Clock) -> None:
    ali_client.get("departments/$root/users")
    alimail.inject(Fault("error", 429, reason="throttle", retry_after=7), "GET", "users$")
    ali_client.get("departments/$root/users")
    assert [s for s in clock.slept if s >= 1] == [7.0]


def test_alimail_a_delete_whose_answer_is_lost_is_done(alimail: AlimailEmulator,  # noqa: F811
                                                       ali_client: AlimailClient) -> None:
    alimail.add_user("li@acme.com", "李雷")
    alimail.inject(Fault("truncated"), "DELETE", "users/")
    ali_client.call("DELETE", "users/li@acme.com")
    assert "li@acme.com" not in alimail.users


# ---------------------------------------------------------------------------- whole applies


def test_exmail_creates_whose_answers_are_lost_are_made_once(org_copy: Path, exmail: ExmailEmulator,  # noqa: F811
                                                             clock: Clock) -> None:
    """Members, groups and departments made, their answers lost, the look-up after it not seeing
    the new member yet (stale 404): each is made once, and the apply converges."""
    exmail.inject(RESET_AFTER, "POST", "user/create$", count=3)
    exmail.inject(Fault("error", 504, commit=True), "POST", "department/create$", count=2)
    exmail.inject(Fault("html", 503, commit=True), "POST", "group/create$", count=2)
    exmail.inject(Fault("stale"), "GET", "user/get$", count=1)  # the first look-up misses the lost create
    to_exmail(org_copy)
    failed, changes = plan_and_apply(org_copy, ex_provider(clock))
    assert failed == []
    served = exmail.faults_served()
    assert served == {"reset after commit": 3, "504 server after commit": 2, "html 503 after commit": 2, "stale": 1}
    creates = [c for c in changes if c.action == "create" and c.kind in ("user", "group", "orgunit")]
    log = exmail.calls()
    assert sum(1 for m, p in log if p in ("user/create", "group/create", "department/create")) == len(creates) + 1
    assert plan_changes(org_copy, ex_provider(clock)) == []


def test_alimail_creates_whose_answers_are_lost_are_made_once(org_copy: Path, alimail: AlimailEmulator,  # noqa: F811
                                                              clock: Clock) -> None:
    alimail.inject(RESET_AFTER, "POST", "^/v2/users$", count=3)
    alimail.inject(Fault("timeout", commit=True, hold_s=2), "POST", "^/v2/departments$", count=1)
    alimail.inject(Fault("truncated"), "POST", "emailAliases$", count=2)
    alimail.inject(Fault("stale"), "GET", "^/v2/users/", count=1)
    to_alimail(org_copy)
    failed, _ = plan_and_apply(org_copy, ali_provider(clock))
    assert failed == []
    assert sum(alimail.faults_served().values()) == 7
    assert plan_changes(org_copy, ali_provider(clock)) == []
    assert len({u["id"] for u in alimail.users.values()}) == len(alimail.users)


def test_exmail_a_change_out_of_tries_fails_alone_and_a_rerun_converges(org_copy: Path,
                                                                         exmail: ExmailEmulator,  # noqa: F811
                                                                         clock: Clock) -> None:
    exmail.inject(Fault("error", 503), "POST", "user/update$", count=1000)  # every update, every try
    to_exmail(org_copy)
    failed, changes = plan_and_apply(org_copy, ex_provider(clock))
    refused = [line for line in failed if line.endswith(f"Exmail user/update: errcode -1: HTTP 503 ({ATTEMPTS} tries)")]
    assert refused and [line for line in failed if line not in refused and "skipped" not in line] == [], failed
    assert len(failed) < len(changes)  # the rest was applied
    exmail.clear_faults()
    failed, _ = plan_and_apply(org_copy, ex_provider(clock))
    assert failed == []
    assert plan_changes(org_copy, ex_provider(clock)) == []


def test_exmail_a_create_lost_every_time_fails_alone(org_copy: Path, exmail: ExmailEmulator,  # noqa: F811
                                                     clock: Clock) -> None:
    """Each try of one member's create loses its answer before Tencent sees it: the look-up finds
    nothing each time, so it is sent again; when the tries are spent that change fails with one
    line, the rest of the apply goes on, and a re-run makes the member once."""
    exmail.inject(Fault("reset"), "POST", "user/create$", count=1000, body_regex="zhangwei2@acme.com")
    to_exmail(org_copy)
    failed, _ = plan_and_apply(org_copy, ex_provider(clock))
    assert failed[0] == (f"create user zhangwei2@acme.com: Exmail create zhangwei2@acme.com: errcode -1: its answer "
                         f"was lost {ATTEMPTS} times, and it cannot be found; run the apply again")
    assert all("skipped" in line for line in failed[1:]), failed
    assert exmail.faults_served() == {"reset": ATTEMPTS} and "zhangwei2@acme.com" not in exmail.users
    exmail.clear_faults()
    assert plan_and_apply(org_copy, ex_provider(clock))[0] == []
    assert plan_changes(org_copy, ex_provider(clock)) == []
