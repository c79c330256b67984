"""A frozen Google account: what an intruder left in it (forwarding, filters, a delegate, an OAuth
token, an app password) is planned for removal, removed by apply, and kept as evidence; through
the real google-api-python-client against the emulator, and the real CLI where a person sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.providers.google.client import SCOPE_GMAIL_SHARING, SCOPE_SECURITY
from tests.applying import apply_all
from tests.emulators.google import GoogleEmulator
from tests.google_support import emulator, plan_for, provider, to_google

__all__ = ["emulator"]  # the fixture, imported for pytest

INTRUDER = "drop@evil.example"
TOKEN_CLIENT = "1234567890-abc.apps.googleusercontent.com"
# What a token or app password would be, if an API ever gave it: it must appear nowhere.
NOT_TO_BE_SEEN = "ya29.SECRET-TOKEN-VALUE"


def _frozen_address(org_copy: Path, emulator: GoogleEmulator, person: str = "E1012", freeze: bool = True) -> str:
    if freeze:
        victim = org_copy / "users" / f"{person.lower()}.yaml"
        victim.write_text(victim.read_text() + "status: frozen\n")
    return next(u["primaryEmail"] for u in emulator.store.users.values() if u.get("externalIds")
                and u["externalIds"][0]["value"] == person)


def _plant(emulator: GoogleEmulator, address: str) -> None:
    emulator.set_gmail(address, auto_forwarding={"enabled": True, "emailAddress": INTRUDER,
                                                 "disposition": "leaveInInbox"},
                       filters=[{"id": "F-fwd", "criteria": {"from": "bank.example"}, "action": {"forward": INTRUDER}},
                                {"id": "F-del", "criteria": {"from": "security@google.com"},
                                 "action": {"addLabelIds": ["TRASH"]}},
                                {"id": "F-label", "criteria": {"from": "boss@acme.com"},
                                 "action": {"addLabelIds": ["IMPORTANT"]}}],
                       delegates=[{"delegateEmail": "mallory@evil.example", "verificationStatus": "accepted"}])
    emulator.set_app_grants(address, tokens=[{"clientId": TOKEN_CLIENT, "displayText": "Mail Sync Pro",
                                              "scopes": ["https://mail.google.com/"], "anonymous": False,
                                              "nativeApp": True, "etag": NOT_TO_BE_SEEN}],
                            asps=[{"codeId": 7, "name": "Thunderbird", "creationTime": "1764000000000",
                                   "lastTimeUsed": "1764900000000"}])


def _applied(org_copy: Path) -> None:
    to_google(org_copy)
    assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok


def _removals(address: str) -> list[str]:
    return sorted(f"delete access {address}/{rest}" for rest in (
        "forwarding", "filter/F-fwd", "filter/F-del", "delegate/mallory@evil.example",
        f"oauth-token/{TOKEN_CLIENT}", "app-password/7"))


def test_a_frozen_account_plans_the_removal_of_what_an_intruder_left(org_copy: Path,
                                                                       emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator)
    _plant(emulator, address)
    emulator.reset_stats()
    plan = plan_for(org_copy, provider(read_only=True)).plan
    access = [c for c in plan.changes if c.kind == "access"]
    assert sorted(c.label for c in access) == _removals(address)
    assert all(c.security and c.action == "delete" for c in access)
    reasons = {c.key.rpartition("/")[2] if "/filter/" in c.key else c.before["what"]: c.reason  # type: ignore[index]
               for c in access}
    assert reasons["forwarding"] == f"frozen: security incident: auto-forwarding to {INTRUDER}"
    assert reasons["F-fwd"] == f"frozen: security incident: filter F-fwd forwards mail to {INTRUDER}"
    assert reasons["F-del"] == "frozen: security incident: filter F-del deletes mail"
    assert reasons["oauth-token"] == (
        f"frozen: security incident: OAuth token of Mail Sync Pro (client {TOKEN_CLIENT})")
    assert reasons["app-password"] == "frozen: security incident: app password Thunderbird"
    # They go before the freeze itself (Gmail is reached as the person, who is then suspended).
    labels = [c.label for c in plan.changes]
    assert max(labels.index(c.label) for c in access) < labels.index(f"suspend user {address}")
    # One freeze, however many removals: max_freezes counts accounts, max_deletes none of these.
    assert plan.violations == []
    # One read of each per frozen account, none for anyone else.
    calls = emulator.calls()
    assert [p for _, p in calls if "/settings/" in p] == [
        f"/gmail/v1/users/{address}/settings/autoForwarding", f"/gmail/v1/users/{address}/settings/filters",
        f"/gmail/v1/users/{address}/settings/delegates"]
    assert [p for _, p in calls if p.endswith(("/tokens", "/asps"))] == [
        f"/admin/directory/v1/users/{address}/tokens", f"/admin/directory/v1/users/{address}/asps"]
    assert NOT_TO_BE_SEEN not in plan.model_dump_json()


def test_apply_removes_them_writes_evidence_and_a_second_plan_is_no_change(org_copy: Path,
                                                                           emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator)
    _plant(emulator, address)
    emulator.set_user_activity(address, is_enrolled_2sv=False)
    summary = org_copy.parent / "apply.md"
    emulator.reset_stats()
    exe = Path(sys.executable).parent / "reconciler"
    done = subprocess.run([str(exe), "apply", "--yes", "--summary", str(summary)], cwd=org_copy.parent,
                          capture_output=True, text=True, env={**os.environ}, timeout=120)
    assert done.returncode == 0, done.stderr
    # One call per removal, each as the API wants it (and nothing else of the person's was touched).
    removals = [(m, p) for m, p in emulator.calls() if m in ("PUT", "DELETE")]
    assert sorted(removals) == sorted([
        ("PUT", f"/gmail/v1/users/{address}/settings/autoForwarding"),
        ("DELETE", f"/gmail/v1/users/{address}/settings/filters/F-fwd"),
        ("DELETE", f"/gmail/v1/users/{address}/settings/filters/F-del"),
        ("DELETE", f"/gmail/v1/users/{address}/settings/delegates/mallory@evil.example"),
        ("DELETE", f"/admin/directory/v1/users/{address}/tokens/{TOKEN_CLIENT}"),
        ("DELETE", f"/admin/directory/v1/users/{address}/asps/7")])
    # The emulator no longer holds any of it; the harmless filter stays.
    settings = emulator.gmail_settings(address)
    assert settings["autoForwarding"] == {"enabled": False}
    assert [f["id"] for f in settings["filters"]] == ["F-label"]
    assert settings["delegates"] == []
    assert emulator.app_grants(address) == {"tokens": [], "asps": []}
    assert emulator.user(address)["suspended"] is True  # type: ignore[index]
    # The evidence: one JSON and one markdown file, named with the address and the time.
    folder = org_copy.parent / ".reconciler" / "evidence"
    [json_file] = folder.glob(f"{address}-*.json")
    [md_file] = folder.glob(f"{address}-*.md")
    assert json_file.stem == md_file.stem and json_file.stem[len(address) + 1:].endswith("Z")
    assert folder.stat().st_mode & 0o077 == 0 and json_file.stat().st_mode & 0o077 == 0  # personal data
    evidence = json.loads(json_file.read_text())
    assert evidence["address"] == address and evidence["account"]["two_step"] is False
    assert {(f["what"], f["id"]) for f in evidence["found"]} == {
        ("forwarding", ""), ("filter", "F-fwd"), ("filter", "F-del"), ("delegate", "mallory@evil.example"),
        ("oauth-token", TOKEN_CLIENT), ("app-password", "7")}
    assert evidence["oauth_tokens"] == [{"client_id": TOKEN_CLIENT, "app": "Mail Sync Pro",
                                         "scopes": ["https://mail.google.com/"]}]
    assert evidence["app_passwords"][0]["name"] == "Thunderbird"
    assert evidence["app_passwords"][0]["last_used"].startswith("2025-12-05")
    outcomes = {o["change"]: o["outcome"] for o in evidence["freeze"]}
    assert outcomes == {**{label: "applied" for label in _removals(address)}, f"suspend user {address}": "applied"}
    assert evidence["sign_ins"] == [] and "no places" in evidence["sign_ins_unavailable"]
    assert evidence["read_at"] <= evidence["written_at"]
    markdown = md_file.read_text()
    assert f"auto-forwarding to {INTRUDER}" in markdown and "Mail Sync Pro" in markdown
    for text in (json_file.read_text(), markdown, done.stderr, summary.read_text()):
        assert NOT_TO_BE_SEEN not in text
    # The apply summary and the terminal say where the evidence is.
    relative = f".reconciler/evidence/{md_file.name}"
    assert f"[{relative}]({relative})" in summary.read_text().replace("\\", "")
    assert f"Incident evidence for {address}: {relative}" in done.stderr
    # Nothing left: the next plan changes nothing, and warns of nothing left behind.
    plan = plan_for(org_copy, provider()).plan
    assert plan.changes == []
    assert not [w for w in plan.warnings if w.code.startswith("frozen-") and w.code != "frozen-2sv"]


def test_a_healthy_frozen_account_plans_no_removal(org_copy: Path, emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator)
    emulator.set_gmail(address, auto_forwarding={"enabled": True, "emailAddress": "deputy@acme.com",
                                                 "disposition": "leaveInInbox"})  # a colleague: kept
    plan = plan_for(org_copy, provider()).plan
    assert [c.label for c in plan.changes] == [f"suspend user {address}"]
    assert not [w for w in plan.warnings if w.code.startswith("frozen-") and w.code != "frozen-2sv"]


def test_an_active_account_with_external_forwarding_plans_nothing(org_copy: Path, emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator, freeze=False)
    _plant(emulator, address)
    emulator.reset_stats()
    plan = plan_for(org_copy, provider()).plan
    assert plan.changes == []
    assert not [p for _, p in emulator.calls() if "/gmail/" in p or p.endswith(("/tokens", "/asps"))]


def test_missing_grants_are_high_warnings_never_silence(org_copy: Path, emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator)
    _plant(emulator, address)
    emulator.delegation = emulator.delegation - {SCOPE_SECURITY, "https://www.googleapis.com/auth/gmail.settings.basic"}
    plan = plan_for(org_copy, provider()).plan
    assert not [c for c in plan.changes if c.kind == "access"]
    warned = {w.code: w for w in plan.warnings if w.code in ("frozen-mailbox-unread", "frozen-tokens-unread")}
    assert set(warned) == {"frozen-mailbox-unread", "frozen-tokens-unread"}
    assert all(w.severity == "high" for w in warned.values())
    assert "gmail.settings.basic" in warned["frozen-mailbox-unread"].message
    assert SCOPE_SECURITY in warned["frozen-tokens-unread"].message


def test_a_refused_sharing_scope_fails_only_its_removals(org_copy: Path, emulator: GoogleEmulator) -> None:
    _applied(org_copy)
    address = _frozen_address(org_copy, emulator)
    _plant(emulator, address)
    emulator.delegation = emulator.delegation - {SCOPE_GMAIL_SHARING}
    plan = plan_for(org_copy, provider()).plan
    report = apply_all(plan.changes, provider())
    failed = sorted(r.change.label for r in report.failed)
    assert failed == [f"delete access {address}/delegate/mallory@evil.example", f"delete access {address}/forwarding"]
    assert all(SCOPE_GMAIL_SHARING in (r.error or "") for r in report.failed)
    settings = emulator.gmail_settings(address)
    assert [f["id"] for f in settings["filters"]] == ["F-label"]  # gmail.settings.basic: removed
    assert emulator.app_grants(address) == {"tokens": [], "asps": []}


@pytest.mark.parametrize(("resource", "key", "field"), [("tokens", {"clientId": TOKEN_CLIENT}, "clientId"),
                                                     ("asps", {"codeId": 7}, "codeId")])
def test_the_emulator_refuses_an_unknown_grant_like_google(emulator: GoogleEmulator, resource: str,
                                                           key: dict[str, object], field: str) -> None:
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError

    from reconciler.providers.google.credentials import LoopbackDelegation

    emulator.add_user("x@acme.com", "X", "Y")
    credentials = LoopbackDelegation("admin@acme.com", (SCOPE_SECURITY,), emulator.url.rstrip("/") + "/token")
    directory = build("admin", "directory_v1", credentials=credentials, client_options={"api_endpoint": emulator.url},
                      static_discovery=True, cache_discovery=False)
    try:
        with pytest.raises(HttpError) as caught:
            getattr(directory, resource)().delete(userKey="x@acme.com", **key).execute()
        assert int(caught.value.resp.status) == 404
        assert json.loads(caught.value.content)["error"]["message"] == f"Resource Not Found: {field}"
    finally:
        directory.close()
    # A token without user.security is refused, as Google refuses it.
    reader = build("admin", "directory_v1", client_options={"api_endpoint": emulator.url}, static_discovery=True,
                   cache_discovery=False, credentials=LoopbackDelegation(
                       "admin@acme.com", ("https://www.googleapis.com/auth/admin.directory.user",),
                       emulator.url.rstrip("/") + "/token"))
    try:
        with pytest.raises(HttpError) as caught:
            getattr(reader, resource)().list(userKey="x@acme.com").execute()
        assert int(caught.value.resp.status) == 403
    finally:
        reader.close()
