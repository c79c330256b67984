"""Two applies at once: on one local directory one refuses clearly (or, planned before the other
wrote, meets what the other made and duplicates nothing); on one remote tenant the second plans
from what the first already made; and the GitHub workflows never run two applies at once."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from reconciler.atomicfile import try_lock
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all
from tests.crash_support import RECONCILER, RequestGate, SmtpGate, Tenant, accounts_of, add_people, people
from tests.smtp_support import Cert, StartServer
from tests.test_crash import make_tenant, start_emulator
from tests.test_workflows import NAMES, WORKFLOWS, load

from .conftest import EXAMPLE_ORG


def _local_repo(root: Path) -> Tenant:
    shutil.copytree(EXAMPLE_ORG, root / "org")
    tenant = Tenant("local", root, {}, accounts_of("local", None, root))
    assert tenant.run("apply", "--yes").returncode == 0
    return tenant


def test_an_apply_while_another_holds_the_local_directory_refuses_clearly(tmp_path: Path) -> None:
    tenant = _local_repo(tmp_path / "repo")
    add_people(tenant.repo / "org", people(0, 2))
    directory = tenant.repo / ".reconciler" / "directory.json"
    before = directory.read_bytes()
    other = try_lock(directory)  # what a running apply holds
    assert other is not None
    try:
        refused = tenant.run("apply", "--yes")
    finally:
        other.close()
    assert refused.returncode == 1
    assert f"The apply stopped: {directory.relative_to(tenant.repo)} is being changed by another reconciler apply" \
        in refused.stderr.replace(str(tenant.repo) + "/", ""), refused.stderr
    assert refused.stderr.endswith("changes were not applied; fix the cause and run apply again (it converges)\n")
    assert directory.read_bytes() == before  # nothing was changed
    assert tenant.run("apply", "--yes").returncode == 0  # once the other is done, it goes through
    assert "No changes." in tenant.run("plan").stdout


def test_two_applies_planned_from_one_local_directory_make_each_account_once(tmp_path: Path) -> None:
    """Both read the directory before either wrote: the second re-reads it once it holds the lock
    and meets the first one's accounts as taken addresses, never a second copy."""
    tenant = _local_repo(tmp_path / "repo")
    add_people(tenant.repo / "org", people(0, 3))
    org, issues = load_org(tenant.repo / "org")
    directory = tenant.repo / ".reconciler" / "directory.json"
    first, second = LocalProvider(directory), LocalProvider(directory)
    plans = [build_plan(org, issues, p).plan for p in (first, second)]
    assert apply_all(plans[0].changes, first).ok
    late = apply_all(plans[1].changes, second)
    creates = [r for r in late.results if r.change.kind == "user" and r.change.action == "create"]
    assert len(creates) == 3 and all(not r.ok and "already exists" in (r.error or "") for r in creates), creates
    emails = [a for a in tenant.accounts() if a.endswith("@acme.com")]
    assert len(emails) == len(set(emails))
    assert sum(a in emails for a in (p.address for p in people(0, 3))) == 3
    assert "No changes." in tenant.run("plan").stdout


def test_a_second_apply_while_the_first_mails_refuses_and_nothing_is_sent_twice(
        tmp_path: Path, smtp_server: StartServer, cert: Cert) -> None:
    server = smtp_server(tls=cert.server_context(), auth=True)
    tenant, stop = make_tenant("local", tmp_path / "repo", server, cert)
    added = people(0, 2)
    add_people(tenant.repo / "org", added)
    gate = SmtpGate(server.inbox, 1, after=True)  # the first apply is held sending its first message
    process = subprocess.Popen([str(RECONCILER), "apply", "--yes"], cwd=tenant.repo, env=tenant.environ(),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert gate.reached.wait(120)
        second = tenant.run("apply", "--yes")
    finally:
        gate.remove()
        _out, err = process.communicate(timeout=120)
        stop()
    assert (second.returncode, second.stderr) == (1, (
        "error: .reconciler/mail-ledger.jsonl is in use by another reconciler apply; wait for it to finish, it "
        "sends the same messages\n"))
    assert process.returncode == 0, err
    assert sorted(m.recipients[0] for m in server.inbox.received) == sorted(
        p.personal_email for p in added for _ in ("welcome", "password"))
    again = tenant.run("apply", "--yes")
    assert (again.returncode, again.stderr) == (0, "No changes to apply. The provider matches org/.\n")
    assert len(server.inbox.received) == 4


def test_two_applies_on_one_google_tenant_duplicate_nothing(tmp_path: Path) -> None:
    """Two runners apply the same commit at once (what the workflow's concurrency group prevents):
    the second plans while the first is held inside its first write, and sees what it made."""
    emulator, env = start_emulator("google")
    try:
        repos = []
        for name in ("one", "two"):
            shutil.copytree(EXAMPLE_ORG, tmp_path / name / "org")
            settings = tmp_path / name / "org" / "org.yaml"
            settings.write_text(settings.read_text().replace(
                "provider:\n  kind: local\n  path: .reconciler/directory.json\n",
                "provider:\n  kind: google\n  admin: admin@acme.com\n"
                "  rate_limit: {backoff_seconds: 0.02, calls: 1000000}\n"))
            repos.append(Tenant("google", tmp_path / name, env, accounts_of("google", emulator, tmp_path / name),
                                emulator))
        assert repos[0].run("apply", "--yes").returncode == 0
        before = set(repos[0].accounts())
        added = people(0, 3)
        for repo in repos:
            add_people(repo.repo / "org", added)
        gate = RequestGate(emulator, 1, after=True)  # the first apply's first write is made, its answer held
        first = subprocess.Popen([str(RECONCILER), "apply", "--yes"], cwd=repos[0].repo, env=repos[0].environ(),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert gate.reached.wait(120)
            made = set(repos[0].accounts()) - before  # by the first apply's held write
            planned = repos[1].run("plan", "--format", "json")
            second = repos[1].run("apply", "--yes")
        finally:
            gate.remove()
            _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert second.returncode == 0, second.stderr
        # The second planned from the tenant as the first had left it: it creates none of those again.
        creates = {c["key"] for c in json.loads(planned.stdout)["changes"]
                   if c["kind"] == "user" and c["action"] == "create"}
        assert made and made.isdisjoint(creates) and made | creates == {p.address for p in added}, (made, creates)
        after = repos[0].accounts()
        assert len(after) == len(set(after)) == len(before) + 3
        for repo in repos:
            assert json.loads(repo.run("plan", "--format", "json").stdout)["changes"] == []
    finally:
        emulator.stop()


def _runs_apply(workflow: dict[str, Any]) -> bool:
    """Whether a workflow changes the directory or saves its state: it runs `reconciler apply` or
    saves a cache (the local directory file, the mail ledger)."""
    steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])]
    return any("reconciler apply" in str(s.get("run", "")) or "actions/cache/save" in str(s.get("uses", ""))
               for s in steps)


def test_only_the_apply_workflow_changes_anything_and_it_runs_one_at_a_time() -> None:
    """GitHub's concurrency group keeps a second apply queued (never cancelling a running one);
    every other workflow is read-only (the CLI refuses `apply` there) and saves no cache."""
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == NAMES
    changing = [name for name in NAMES if _runs_apply(load(name))]
    assert changing == ["apply.yml"]
    assert load("apply.yml")["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    for name in ("plan.yml", "drift.yml", "audit.yml"):
        workflow = load(name)
        assert all(job.get("env", {}).get("RECONCILER_READ_ONLY") == "1" for job in workflow["jobs"].values()), name
        text = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert "cache/save" not in text and "reconciler apply" not in text, name
    assert yaml.safe_load((WORKFLOWS / "ci.yml").read_text()).get("jobs")  # runs `make test` only
