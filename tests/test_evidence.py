"""The evidence report itself (reconciler/evidence.py, render/evidence.py): stamped by an injected
clock, complete, private to its owner, and without a secret in any form; and a saved plan that
holds a frozen account's removals applies only what is still there."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyReport
from reconciler.changes import ChangeResult
from reconciler.evidence import evidence_json, finish_evidence, start_evidence, write_evidence
from reconciler.mailbox import AppGrant, AppGrants, MailboxHealth, MailRule, SignIn
from reconciler.plan.incident import Found, read_frozen, removal
from reconciler.render.evidence import render_evidence
from reconciler.state import Access

ADDRESS = "alice@acme.com"
READ = dt.datetime(2026, 12, 7, 4, 30, tzinfo=dt.UTC)
DONE = dt.datetime(2026, 12, 7, 4, 31, 5, tzinfo=dt.UTC)


class Planted:
    """A provider double holding one mailbox and its app grants."""

    name = "google"

    def __init__(self) -> None:
        self.reads: list[str] = []

    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        self.reads.append(f"mailbox {address}")
        return MailboxHealth(
            password_change_required=False,
            rules=(MailRule(source="auto-forwarding", name="", forwards_to=("x@evil.example",)),
                   MailRule(source="auto-forwarding", name="", forwards_to=("deputy@acme.com",)),
                   MailRule(source="filter", name="F1", id="F1", deletes=True)),
            delegates=("mallory@evil.example",),
            sign_ins=(SignIn(at=READ - dt.timedelta(hours=5), ip="203.0.113.77", place="RU", how="web"),),
            unavailable={})

    def app_grants(self, address: str) -> AppGrants:
        self.reads.append(f"grants {address}")
        return AppGrants(grants=(AppGrant(kind="oauth-token", id="client-1", name="Mail Sync Pro",
                                          scopes=("https://mail.google.com/",)),
                                 AppGrant(kind="app-password", id="7", name="Thunderbird")))


def _found() -> Found:
    return read_frozen(ADDRESS, Planted(), ["acme.com"])


def test_one_read_of_each_and_forwarding_inside_the_company_is_kept() -> None:
    provider = Planted()
    found = read_frozen(ADDRESS, provider, ["acme.com"])
    assert provider.reads == [f"mailbox {ADDRESS}", f"grants {ADDRESS}"]
    assert [a.key for a in found.accesses] == [
        f"{ADDRESS}/forwarding", f"{ADDRESS}/filter/F1", f"{ADDRESS}/delegate/mallory@evil.example",
        f"{ADDRESS}/oauth-token/client-1", f"{ADDRESS}/app-password/7"]
    assert [a.forwards_to for a in found.kept] == [("deputy@acme.com",)]


def test_the_report_is_stamped_by_the_clock_and_says_what_was_found_and_done(tmp_path: Path) -> None:
    found = _found()
    changes = [removal(a) for a in found.accesses]
    [record] = start_evidence({ADDRESS: found}, changes, "google", clock=lambda: READ)
    report = ApplyReport([ChangeResult(c, "applied") for c in changes[:-1]]
                         + [ChangeResult(changes[-1], "failed", "403 forbidden: Not Authorized")])
    finish_evidence([record], report, clock=lambda: DONE)
    [path] = write_evidence([record], tmp_path, render_evidence)
    assert path == tmp_path / ".reconciler" / "evidence" / f"{ADDRESS}-20261207T043000Z.md"
    data = json.loads(path.with_suffix(".json").read_text())
    assert (data["read_at"], data["written_at"]) == (READ.isoformat(), DONE.isoformat())
    assert data["sign_ins"] == [{"at": "2026-12-06T23:30:00+00:00", "ip": "203.0.113.77", "place": "RU",
                                 "how": "web"}]
    assert [(f["what"], f["planned"]) for f in data["found"]] == [
        ("forwarding", "remove"), ("filter", "remove"), ("delegate", "remove"), ("oauth-token", "remove"),
        ("app-password", "remove"), ("forwarding", "kept")]
    assert data["freeze"][-1] == {"change": f"delete access {ADDRESS}/app-password/7",
                                  "what": "frozen: security incident: app password Thunderbird",
                                  "outcome": "failed", "error": "403 forbidden: Not Authorized"}
    markdown = path.read_text()
    assert "| 2026-12-06T23:30:00+00:00 | 203.0.113.77 | RU | web |" in markdown
    assert "**failed**" in markdown and "403 forbidden: Not Authorized" in markdown
    assert "auto-forwarding to deputy@acme.com (kept: forwarding inside the company)" in markdown
    for made in (path, path.with_suffix(".json"), path.parent):
        assert made.stat().st_mode & 0o077 == 0


def test_no_evidence_for_an_apply_that_touches_no_frozen_account() -> None:
    assert start_evidence({ADDRESS: _found()}, [], "google", clock=lambda: READ) == []


def test_the_json_carries_no_secret_field() -> None:
    found = _found()
    [record] = start_evidence({ADDRESS: found}, [removal(found.accesses[0])], "google", clock=lambda: READ)
    text = json.dumps(evidence_json(record)).lower()
    for word in ("password\":", "secret", "access_token", "refresh_token", "\"token\""):
        assert word not in text


def test_access_keys_do_not_collide() -> None:
    keys = {Access(owner=ADDRESS, what="filter", id="1").key, Access(owner=ADDRESS, what="inbox-rule", id="1").key,
            Access(owner=ADDRESS, what="forwarding").key}
    assert len(keys) == 3


def _cli(org_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "reconciler"
    return subprocess.run([str(exe), *args], cwd=org_dir.parent, capture_output=True, text=True,
                          env={**os.environ}, timeout=180)


VICTIM = "zengxiaoyan@acme.com"  # org/users/e1012.yaml


def _freeze_victim(org_copy: Path) -> None:
    victim = org_copy / "users" / "e1012.yaml"
    victim.write_text(victim.read_text() + "status: frozen\n")


def _set_mailbox(org_copy: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Plant in the local directory file what the victim's mailbox holds (`change` of what it held)."""
    directory = org_copy.parent / ".reconciler" / "directory.json"
    data = json.loads(directory.read_text())
    [record] = [r for r in data["users"].values() if r["user"]["email"] == VICTIM]
    record["mailbox"] = change(record.get("mailbox") or {})
    directory.write_text(json.dumps(data))


def test_a_saved_plan_applies_the_removals_still_there(org_copy: Path) -> None:
    assert _cli(org_copy, "apply", "--yes").returncode == 0
    _freeze_victim(org_copy)
    _set_mailbox(org_copy, lambda _: {"rules": [{"source": "filter", "id": "f1", "forwards_to": ["x@evil.example"]},
                                                {"source": "filter", "id": "f2", "deletes": True}]})
    saved = org_copy.parent / "plan.json"
    assert _cli(org_copy, "plan", "--out", str(saved)).returncode == 0
    # The person removed one rule themselves after the plan was made: it is done, not a stale plan.
    _set_mailbox(org_copy, lambda box: {**box, "rules": box["rules"][1:]})
    done = _cli(org_copy, "apply", "--yes", str(saved))
    assert done.returncode == 0, done.stderr
    assert "delete access zengxiaoyan@acme.com/filter/f2" in done.stderr
    assert "filter/f1" not in done.stderr


def test_the_evidence_and_the_summary_in_chinese(org_copy: Path) -> None:
    """Every sentence of the evidence markdown and the apply's lines about it has a translation."""
    from reconciler import i18n
    from tests.cli_inprocess import run_main
    from tests.i18n_support import english_left

    assert run_main(org_copy, "apply", "--yes").code == 0
    _freeze_victim(org_copy)
    _set_mailbox(org_copy, lambda _: {
        "rules": [{"source": "filter", "id": "f1", "name": "bank", "forwards_to": ["x@evil.example"]}],
        "delegates": ["m@evil.example"],
        "sign_ins": [{"at": "2026-12-06T23:10:00+00:00", "ip": "203.0.113.77", "place": "RU"}],
        "app_grants": [{"kind": "oauth-token", "id": "c1", "name": "Mail Sync Pro"}]})
    summary = org_copy.parent / "apply.md"
    i18n.forget_missing()
    run = run_main(org_copy, "--lang", "zh-CN", "apply", "--yes", "--summary", str(summary))
    assert i18n.missing() == set(), "messages without a translation"
    assert run.code == 0, run.stderr
    [markdown] = (org_copy.parent / ".reconciler" / "evidence").glob("*.md")
    text = markdown.read_text()
    assert "# 安全事件证据：zengxiaoyan@acme.com" in text and "过滤器 bank 会把邮件转发到 x@evil.example" in text
    data_values = ["Mail Sync Pro", "bank", "RU"]
    assert english_left(text, data_values) == []
    assert english_left(summary.read_text(), data_values) == []
    assert "安全事件证据" in run.stderr


class GraphLike(Planted):
    """A provider double named microsoft: it can remove inbox rules only."""

    name = "microsoft"

    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        self.reads.append(f"mailbox {address}")
        rule = MailRule(source="inbox rule", name="sync", id="R1", forwards_to=("x@evil.example",))
        return MailboxHealth(rules=(rule,), delegates=("mallory@evil.example",), mailbox_ready=True)


def test_what_a_provider_cannot_remove_is_a_high_warning_naming_the_console() -> None:
    from reconciler.plan.incident import plan_incident
    from reconciler.state import State, User

    actual = State()
    actual.add(User(email=ADDRESS, id="E1"))
    actual.add(User(email="bob@acme.com", id="E2"))
    provider = GraphLike()
    changes, warnings, found = plan_incident([ADDRESS, "gone@acme.com"], actual, provider, ["acme.com"])
    assert provider.reads == [f"mailbox {ADDRESS}"]  # the frozen account that exists, and no app grants here
    assert [c.label for c in changes] == [f"delete access {ADDRESS}/inbox-rule/R1"]
    [manual] = [w for w in warnings if w.code == "frozen-access-manual"]
    assert manual.severity == "high" and manual.subject == f"{ADDRESS}/delegate/mallory@evil.example"
    assert "Exchange admin center" in manual.message
    assert set(found) == {ADDRESS}


def test_removals_count_as_one_freeze_per_account_and_never_as_deletes() -> None:
    from reconciler.changes import FREEZING, Change
    from reconciler.model.files import Safety
    from reconciler.plan.safety import check_safety
    from reconciler.state import State, User

    actual = State()
    for n in range(3):
        actual.add(User(email=f"u{n}@acme.com", id=f"E{n}"))
    before = {"email": ADDRESS, "id": "E9"}
    freeze = Change(action="suspend", kind="user", key=ADDRESS, before=before, after={**before, "suspended": True},
                    security=True, effects=FREEZING)
    removals = [removal(a) for a in _found().accesses]
    assert check_safety([freeze, *removals], Safety(max_freezes=1, max_deletes=0), actual) == []
    # Removals alone (the account was frozen by an earlier apply) are that one account too.
    assert check_safety(removals, Safety(max_freezes=1, max_deletes=0), actual) == []
    other = [removal(Access(owner="bob@acme.com", what="delegate", id="m@evil.example"))]
    [violation] = check_safety([freeze, *removals, *other], Safety(max_freezes=1), actual)
    assert violation.code == "max-freezes" and "freezes 2 accounts" in violation.message
