"""A frozen account's incident clean-up and evidence at Microsoft 365 (the real msgraph-sdk and
Graph client against the Graph emulator) and in the local directory, through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.graph import GraphEmulator
from tests.test_alimail_provider import Clock as AlimailClock
from tests.test_alimail_provider import alimail, clock, to_alimail
from tests.test_alimail_provider import plan_and_apply as alimail_plan_and_apply
from tests.test_alimail_provider import plan_for as alimail_plan_for
from tests.test_alimail_provider import provider as alimail_provider
from tests.test_exmail_provider import exmail, to_exmail
from tests.test_exmail_provider import plan_and_apply as exmail_plan_and_apply
from tests.test_exmail_provider import plan_for as exmail_plan_for
from tests.test_exmail_provider import provider as exmail_provider
from tests.test_microsoft_provider import TODAY, graph, plan_for, provider, to_microsoft

# The fixtures, imported for pytest; Alibaba Mail's clock (it also keeps what was slept) serves Exmail's too.
__all__ = ["alimail", "clock", "exmail", "graph"]

INTRUDER = "drop@evil.example"
VICTIM = "zengxiaoyan@acme.com"  # E1012 of the example org


def _freeze(org_copy: Path, person: str = "e1012") -> None:
    victim = org_copy / "users" / f"{person}.yaml"
    victim.write_text(victim.read_text() + "status: frozen\n")


def _cli(org_copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "reconciler"
    return subprocess.run([str(exe), *args], cwd=org_copy.parent, capture_output=True, text=True,
                          env={**os.environ}, timeout=180)


def _evidence(org_copy: Path, address: str) -> tuple[dict[str, Any], str]:
    folder = org_copy.parent / ".reconciler" / "evidence"
    [json_file] = folder.glob(f"{address}-*.json")
    return json.loads(json_file.read_text()), json_file.with_suffix(".md").read_text()


# ----------------------------------------------------------------------------- Microsoft 365

RULES = [
    {"id": "R-fwd", "displayName": "sync", "actions": {"forwardTo": [{"emailAddress": {"address": INTRUDER}}]}},
    {"id": "R-del", "displayName": "cleanup", "conditions": {"subjectContains": ["password"]},
     "actions": {"delete": True}},
    {"id": "R-move", "displayName": "newsletters", "actions": {"moveToFolder": "Archive"}},
]


def _frozen_with_rules(org_copy: Path, graph: GraphEmulator) -> None:
    """The org applied to the Graph emulator, then the victim frozen in org/ with RULES in their inbox."""
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    _freeze(org_copy)
    graph.set_message_rules(VICTIM, RULES)


def test_microsoft_plans_the_removal_of_forwarding_and_deleting_inbox_rules(org_copy: Path,
                                                                           graph: GraphEmulator) -> None:
    _frozen_with_rules(org_copy, graph)
    graph.reset_stats()
    plan = plan_for(org_copy).plan
    access = sorted((c.label, c.reason) for c in plan.changes if c.kind == "access")
    assert access == [
        (f"delete access {VICTIM}/inbox-rule/R-del", "frozen: security incident: inbox rule cleanup deletes mail"),
        (f"delete access {VICTIM}/inbox-rule/R-fwd",
         f"frozen: security incident: inbox rule sync forwards mail to {INTRUDER}")]
    # Graph shows neither the mailbox's forwarding address nor its delegates: a high warning says where to look.
    [unread] = [w for w in plan.warnings if w.code == "frozen-mailbox-unread"]
    assert unread.severity == "high" and unread.subject == VICTIM
    assert "forwarding, delegates" in unread.message and "Exchange admin center" in unread.message
    assert plan.violations == []
    # One read of the rules for the frozen account, none for anyone else.
    assert [p for _, p in graph.calls() if p.endswith("/messageRules")] == [
        f"/users/{graph.user(VICTIM)['id']}/mailFolders/inbox/messageRules"]  # type: ignore[index]


def test_microsoft_apply_removes_them_and_writes_evidence_with_sign_ins(org_copy: Path,
                                                                        graph: GraphEmulator) -> None:
    _frozen_with_rules(org_copy, graph)
    graph.add_sign_in(VICTIM, dt.datetime(2026, 12, 6, 23, 10, tzinfo=dt.UTC), "203.0.113.77", "RU", "Moscow")
    graph.add_sign_in(VICTIM, dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC), "198.51.100.4", "CN", "Shanghai")
    summary = org_copy.parent / "apply.md"
    done = _cli(org_copy, "apply", "--yes", "--summary", str(summary))
    assert done.returncode == 0, done.stderr
    owner = graph.user(VICTIM)
    assert owner is not None and owner["accountEnabled"] is False
    assert [r["id"] for r in graph.store.message_rules[owner["id"]]] == ["R-move"]
    evidence, markdown = _evidence(org_copy, VICTIM)
    assert [(s["ip"], s["place"]) for s in evidence["sign_ins"]] == [("203.0.113.77", "RU"), ("198.51.100.4", "CN")]
    assert {o["change"]: o["outcome"] for o in evidence["freeze"]} == {
        f"delete access {VICTIM}/inbox-rule/R-del": "applied", f"delete access {VICTIM}/inbox-rule/R-fwd": "applied",
        f"suspend user {VICTIM}": "applied"}
    assert any("revokeSignInSessions" in n and "refresh token" in n for n in evidence["notes"])
    assert any("ForwardingSmtpAddress" in n for n in evidence["notes"])
    assert not evidence["app_grants_listed"]
    assert "| 203.0.113.77 | RU |" in markdown
    assert VICTIM in summary.read_text()
    again = plan_for(org_copy).plan
    assert again.changes == []


# ----------------------------------------------------------------------------- local directory

MAILBOX = {
    "rules": [{"source": "auto-forwarding", "name": "", "forwards_to": [INTRUDER]},
              {"source": "filter", "id": "f1", "name": "bank", "forwards_to": [INTRUDER]},
              {"source": "inbox rule", "id": "r1", "name": "hide", "deletes": True}],
    "delegates": ["mallory@evil.example"],
    "sign_ins": [{"at": "2026-12-06T23:10:00+00:00", "ip": "203.0.113.77", "place": "RU", "how": "web"}],
    "app_grants": [{"kind": "oauth-token", "id": "client-1", "name": "Mail Sync Pro", "scopes": ["mail"]},
                   {"kind": "app-password", "id": "7", "name": "Thunderbird"}],
}


def _local(org_copy: Path) -> Path:
    org, issues = load_org(org_copy)
    directory = org_copy.parent / ".reconciler" / "directory.json"
    with LocalProvider(directory) as local:
        assert apply_all(build_plan(org, issues, local, TODAY).plan.changes, local).ok
    return directory


def _plant(directory: Path, address: str, mailbox: dict[str, Any]) -> None:
    data = json.loads(directory.read_text())
    [record] = [r for r in data["users"].values() if r["user"]["email"] == address]
    record["mailbox"] = mailbox
    directory.write_text(json.dumps(data))


def _planted(directory: Path, address: str) -> dict[str, Any]:
    data = json.loads(directory.read_text())
    [record] = [r for r in data["users"].values() if r["user"]["email"] == address]
    return dict(record.get("mailbox") or {})


def test_local_removes_what_was_planted_and_writes_evidence(org_copy: Path) -> None:
    directory = _local(org_copy)
    _freeze(org_copy)
    _plant(directory, VICTIM, MAILBOX)
    shown = _cli(org_copy, "plan")
    assert shown.returncode == 0, shown.stderr
    for key in ("forwarding", "filter/f1", "inbox-rule/r1", "delegate/mallory@evil.example",
                "oauth-token/client-1", "app-password/7"):
        assert f"{VICTIM}/{key}" in shown.stdout
    done = _cli(org_copy, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    left = _planted(directory, VICTIM)
    assert (left["rules"], left["delegates"], left["app_grants"]) == ([], [], [])
    evidence, markdown = _evidence(org_copy, VICTIM)
    assert len(evidence["found"]) == 6 and all(o["outcome"] == "applied" for o in evidence["freeze"])
    assert evidence["sign_ins"][0]["ip"] == "203.0.113.77"
    assert evidence["oauth_tokens"] == [{"client_id": "client-1", "app": "Mail Sync Pro", "scopes": ["mail"]}]
    assert "Mail Sync Pro" in markdown
    assert _cli(org_copy, "plan", "--format", "json").stdout.count('"kind": "access"') == 0


@pytest.mark.parametrize("frozen", [True, False])
def test_local_plans_nothing_for_a_healthy_frozen_or_an_active_account(org_copy: Path, frozen: bool) -> None:
    directory = _local(org_copy)
    if frozen:
        _freeze(org_copy)
        _plant(directory, VICTIM, {"rules": [{"source": "auto-forwarding", "forwards_to": ["boss@acme.com"]}]})
    else:
        _plant(directory, VICTIM, MAILBOX)  # the same planted intruder, but the account is active
    org, issues = load_org(org_copy)
    with LocalProvider(directory) as local:
        plan = build_plan(org, issues, local, TODAY).plan
    assert not [c for c in plan.changes if c.kind == "access"]
    assert not [w for w in plan.warnings if w.code.startswith("frozen-") and w.code != "frozen-2sv"]


# ----------------------------------------------------------------------------- Tencent Exmail, Alibaba Mail
# Neither API shows a mailbox's forwarding, rules, delegates or client passwords: a freeze plans no
# removal, and the plan says, as a high warning, that they must be checked by hand and where.


def test_exmail_says_where_to_check_by_hand_and_keeps_the_login_log(org_copy: Path, exmail: ExmailEmulator,
                                                                    clock: Any) -> None:
    to_exmail(org_copy)
    assert exmail_plan_and_apply(org_copy, clock).ok
    _freeze(org_copy)
    exmail.add_login(VICTIM, int(time.time()) - 3600, ip="203.0.113.77", kind=4)
    plan = exmail_plan_for(org_copy, exmail_provider(clock)).plan
    assert not [c for c in plan.changes if c.kind == "access"]
    [unread] = [w for w in plan.warnings if w.code == "frozen-mailbox-unread"]
    assert unread.severity == "high" and "forwarding, rules, delegates" in unread.message
    assert "收信规则" in unread.message and "客户端专用密码" in str(unread.action)
    done = _cli(org_copy, "apply", "--yes")
    assert done.returncode == 0, done.stderr
    evidence, _markdown = _evidence(org_copy, VICTIM)
    assert [(s["ip"], s["place"], s["how"]) for s in evidence["sign_ins"]] == [("203.0.113.77", None, "mail client")]
    assert set(evidence["unread"]) == {"forwarding", "rules", "delegates"}
    assert any("客户端专用密码" in n for n in evidence["notes"])


def test_alimail_says_where_to_check_by_hand(org_copy: Path, alimail: AlimailEmulator, clock: AlimailClock) -> None:
    to_alimail(org_copy)
    assert alimail_plan_and_apply(org_copy, clock).ok
    _freeze(org_copy)
    plan = alimail_plan_for(org_copy, alimail_provider(clock)).plan
    assert not [c for c in plan.changes if c.kind == "access"]
    [unread] = [w for w in plan.warnings if w.code == "frozen-mailbox-unread"]
    assert unread.severity == "high" and "自动转发" in str(unread.action)
