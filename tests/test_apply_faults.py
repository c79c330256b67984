"""Applying through faults below the API (issue 21, items 2 and 8): dropped connections, answers
lost after the change was made, a front end's 503 with an HTML page, 409s about what is already
as wanted; and an apply whose provider fails as a whole, which must still write its summary,
send the mail it owes for the people it created, and exit 1 with one line per change not made.

The Google provider runs in-process on an injected clock (its backoff costs nothing); the CLI
runs in a subprocess against the emulator (and the local provider with a disk that fills up).
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import socket
import subprocess
from pathlib import Path

import httplib2  # type: ignore[import-untyped]
import pytest

from reconciler.apply import ApplyReport, stopped_by, waves
from reconciler.changes import Change
from reconciler.errors import ProviderError
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.providers.google.batch import VISIBLE_WITHIN
from reconciler.providers.local import LocalProvider
from reconciler.render.github import render_apply_summary
from reconciler.state import Group, License, Membership, Role, User
from tests.emulators.common import Fault
from tests.emulators.google import GoogleEmulator
from tests.google_support import FakeClock, emulator, provider, to_google  # noqa: F401 - fixture
from tests.smtp_support import StartServer
from tests.test_mail import (  # noqa: F401 - seeded_directory: a fixture
    CHEN_FILE,
    EMILY_FILE,
    RECONCILER,
    TODAY,
    password_in,
    seeded_directory,
    with_onboarding,
)

USERS_BATCH = r"POST /admin/directory/v1/users\?"  # a batch that inserts users (its inner request line)
MEMBERS_BATCH = r"POST /admin/directory/v1/groups/[^/ ]+/members\?"
DIRECTORY_BATCH = "^/batch/admin/directory_v1$"


def _user(address: str, employee: str) -> User:
    return User(email=address, id=employee, given_name="Test", family_name=address.partition("@")[0].title(),
                orgunit="/")


def _create(resource_: User | Group | Membership | License | Role) -> Change:
    return Change(action="create", kind=resource_.kind, key=resource_.key,
                  after=resource_.model_dump(mode="json", exclude_none=True))


def _inserts(emu: GoogleEmulator, path: str) -> int:
    return sum(1 for method, p in emu.calls() if (method, p) == ("POST", path))


# --- the emulator's transport faults ------------------------------------------------------------------


def test_the_emulator_drops_commits_or_answers_html_as_asked(emulator: GoogleEmulator) -> None:  # noqa: F811
    host, port = emulator.url.removeprefix("http://").rstrip("/").split(":")
    emulator.inject(Fault("reset"), "GET", "/_nothing$")
    emulator.inject(Fault("html"), "GET", "/_nothing$")

    def get() -> tuple[int, str | None, bytes]:
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", "/_nothing")
            answer = connection.getresponse()
            return answer.status, answer.getheader("Content-Type"), answer.read()
        finally:
            connection.close()

    with pytest.raises(http.client.RemoteDisconnected):
        get()
    status, content_type, body = get()
    assert (status, content_type) == (503, "text/html; charset=UTF-8")
    assert body.startswith(b"<!DOCTYPE html>")
    assert get()[0] == 404  # faults used up: served as usual
    assert emulator.faults_served() == {"reset": 1, "html 503": 1}


# --- B: the Google provider retries what got no answer, reads back creates -----------------------------


def test_a_lost_answer_to_user_inserts_is_read_back_not_taken_as_a_failure(emulator: GoogleEmulator) -> None:  # noqa: F811
    """Both tries of the batch (httplib2 sends it twice on a closed connection) make the users and
    lose the answer: the provider reads the users back instead of failing or inserting a third time."""
    clock = FakeClock()
    emulator.inject(Fault("reset", commit=True), "POST", DIRECTORY_BATCH, count=2, body_regex=USERS_BATCH)
    google = provider(clock=clock)
    changes = [_create(_user("ann@acme.com", "E9001")), _create(_user("bob@acme.com", "E9002"))]
    passwords = {"ann@acme.com": "Initial-Ann-4711-xyz", "bob@acme.com": "Initial-Bob-4711-xyz"}
    results = google.apply(changes, passwords)
    google.close()
    assert [(r.change.key, r.outcome, r.error) for r in results] == [
        ("ann@acme.com", "applied", None), ("bob@acme.com", "applied", None)]
    assert _inserts(emulator, "/admin/directory/v1/users") == 4  # 2 users x the 2 lost tries; none after
    assert ("GET", "/admin/directory/v1/users/ann@acme.com") in emulator.calls()  # read back by its key
    for address, password in passwords.items():
        stored = emulator.user(address)
        assert stored is not None and stored["password"] == password  # what would be mailed is theirs
        assert stored["changePasswordAtNextLogin"] is True
    assert clock.slept  # the retry waited on the injected clock


def test_a_user_insert_that_times_out_is_read_back(emulator: GoogleEmulator,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Google makes the user and the answer never comes: the client gives up (its timeout, here
    two seconds: the client library takes the default socket timeout when it is built; a real
    wait, long enough that no ordinary answer misses it on a loaded machine)."""
    emulator.inject(Fault("timeout", commit=True), "POST", DIRECTORY_BATCH, body_regex=USERS_BATCH)
    monkeypatch.setattr(socket, "getdefaulttimeout", lambda: 2.0)
    google = provider(clock=FakeClock())
    monkeypatch.undo()
    results = google.apply([_create(_user("ann@acme.com", "E9001"))], {"ann@acme.com": "Initial-Ann-4711-xyz"})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert _inserts(emulator, "/admin/directory/v1/users") == 1  # read back, not sent again
    assert emulator.faults_served() == {"timeout after commit": 1}


def test_a_delete_whose_answer_was_lost_is_done_when_it_meets_a_404(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_group("sales@acme.com", "Sales")
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_member("sales@acme.com", "ann@acme.com")
    emulator.inject(Fault("reset", commit=True), "POST", DIRECTORY_BATCH, count=2,
                                 body_regex=r"DELETE /admin/directory/v1/groups/")
    google = provider(clock=FakeClock())
    membership = Membership(group="sales@acme.com", member="ann@acme.com").model_dump(mode="json")
    results = google.apply([Change(action="delete", kind="membership", key="sales@acme.com/ann@acme.com",
                                   before=membership)], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert emulator.members("sales@acme.com") == []


def test_a_lost_user_insert_not_found_yet_is_waited_for_not_failed(emulator: GoogleEmulator) -> None:  # noqa: F811
    """Google makes the user, the answer is lost, and for 20 s Google does not find the new user by
    its address: the read-back finds nothing, the insert goes again and meets 409, and the provider
    reads again until the user shows (as it waits for what it made, up to two minutes)."""
    clock = FakeClock()
    emulator.clock, emulator.visibility_delay_s = clock, 20
    emulator.inject(Fault("reset", commit=True), "POST", DIRECTORY_BATCH, count=2, body_regex=USERS_BATCH)
    google = provider(clock=clock)
    results = google.apply([_create(_user("ann@acme.com", "E9001"))], {"ann@acme.com": "Initial-Ann-4711-xyz"})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert _inserts(emulator, "/admin/directory/v1/users") == 3  # 2 lost, 1 refused with 409
    assert 20 <= clock.waited < VISIBLE_WITHIN
    stored = emulator.user("ann@acme.com")
    assert stored is not None and stored["password"] == "Initial-Ann-4711-xyz"


def test_dropped_connections_and_html_503s_are_retried(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_group("sales@acme.com", "Sales")
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    clock = FakeClock()
    emulator.inject(Fault("reset"), "POST", DIRECTORY_BATCH, count=3, body_regex=MEMBERS_BATCH)
    emulator.inject(Fault("html"), "POST", DIRECTORY_BATCH, count=1, body_regex=MEMBERS_BATCH)
    google = provider(clock=clock)
    membership = Membership(group="sales@acme.com", member="ann@acme.com", role="MEMBER")
    results = google.apply([_create(membership)], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert [m["email"] for m in emulator.members("sales@acme.com")] == ["ann@acme.com"]
    assert emulator.faults_served() == {"reset": 3, "html 503": 1}
    # Try 1: dropped twice (httplib2 sends once more itself). Try 2: the member is not there, so the
    # insert goes again: dropped, then 503. Try 3: still not there; inserted.
    assert len(clock.slept) == 2
    member = "/admin/directory/v1/groups/sales@acme.com/members"
    assert (_inserts(emulator, member), emulator.calls().count(("GET", member + "/ann@acme.com"))) == (1, 2)


def test_a_token_endpoint_answering_an_html_503_is_retried_not_a_refusal(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_group("sales@acme.com", "Sales")
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.inject(Fault("html"), "POST", "^/token$")
    google = provider(clock=FakeClock())
    results = google.apply([_create(Membership(group="sales@acme.com", member="ann@acme.com"))], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert emulator.faults_served() == {"html 503": 1}


def test_a_member_insert_whose_answer_was_lost_is_success(emulator: GoogleEmulator) -> None:  # noqa: F811
    """The batch is made and its answer lost; httplib2 sends it again and Google answers 409
    "Member already exists": the member is read back, and it is the one wanted."""
    emulator.add_group("sales@acme.com", "Sales")
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.inject(Fault("reset", commit=True), "POST", DIRECTORY_BATCH, body_regex=MEMBERS_BATCH)
    google = provider(clock=FakeClock())
    results = google.apply([_create(Membership(group="sales@acme.com", member="ann@acme.com", role="OWNER"))], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert ("GET", "/admin/directory/v1/groups/sales@acme.com/members/ann@acme.com") in emulator.calls()


def test_a_409_about_another_member_role_stays_a_failure(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_group("sales@acme.com", "Sales")
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_member("sales@acme.com", "ann@acme.com", role="OWNER")
    google = provider(clock=FakeClock())
    results = google.apply([_create(Membership(group="sales@acme.com", member="ann@acme.com", role="MEMBER"))], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("failed", "409 duplicate: Member already exists.")]


# --- item 8: a 409 whose state is the wanted one is success ---------------------------------------------


def test_licence_and_role_already_held_after_a_concurrent_apply_are_success(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    google = provider(clock=FakeClock())
    google.fetch(["acme.com"])  # the plan's read: the role's and the user's ids
    wanted = [_create(License(user="ann@acme.com", sku="Google-Apps/1010020028")),
              _create(Role(user="ann@acme.com", role="user-admin"))]
    # Another apply (or this one's lost answer) got there first.
    other = provider(clock=FakeClock())
    other.fetch(["acme.com"])
    assert all(r.ok for r in other.apply(wanted, {}))
    other.close()
    results = google.apply(wanted, {})
    google.close()
    assert [(r.change.kind, r.outcome, r.error) for r in results] == [
        ("license", "applied", None), ("role", "applied", None)]
    assert len([a for a in emulator.role_assignments() if a["assignedTo"] == emulator.user("ann@acme.com")["id"]
                ]) == 1  # type: ignore[index]


def test_a_role_insert_whose_answer_was_lost_is_success(emulator: GoogleEmulator) -> None:  # noqa: F811
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    # (the insert's batch, not the fetch's, which lists role assignments with a GET)
    emulator.inject(Fault("reset", commit=True), "POST", DIRECTORY_BATCH, count=2,
                    body_regex=r"POST \S*roleassignments")
    google = provider(clock=FakeClock())
    google.fetch(["acme.com"])
    results = google.apply([_create(Role(user="ann@acme.com", role="user-admin"))], {})
    google.close()
    assert [(r.outcome, r.error) for r in results] == [("applied", None)]
    assert _inserts(emulator, "/admin/directory/v1/customer/my_customer/roleassignments") == 2


# --- A: an apply that must stop still reports, mails and exits 1 ----------------------------------------


def _cli(repo: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a disk that fills up: writes past `fsize` bytes fail with EFBIG
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))

    environ = {**os.environ, "NO_COLOR": "1", "COLUMNS": "250"}
    return subprocess.run([str(RECONCILER), *args], cwd=repo, env=environ, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False, preexec_fn=limit)


def _add_two_people(org_dir: Path) -> None:
    (org_dir / "users" / "e2001.yaml").write_text(CHEN_FILE, encoding="utf-8")
    (org_dir / "users" / "e2002.yaml").write_text(EMILY_FILE, encoding="utf-8")


def test_google_apply_with_changes_that_never_get_an_answer_reports_and_mails(
        org_copy: Path, emulator: GoogleEmulator, smtp_server: StartServer) -> None:  # noqa: F811
    to_google(org_copy)
    (org_copy / "org.yaml").write_text((org_copy / "org.yaml").read_text().replace(
        "backoff_seconds: 0.02,", "backoff_seconds: 0.01, retries: 3,"))
    first = _cli(org_copy.parent, "apply", "--yes")
    assert first.returncode == 0, first.stderr
    _add_two_people(org_copy)
    server = smtp_server()
    with_onboarding(org_copy.parent, server.port)
    # Every batch that adds a member gets its connection dropped: those changes can never be made.
    emulator.inject(Fault("reset"), "POST", DIRECTORY_BATCH, count=10_000, body_regex=MEMBERS_BATCH)
    summary = org_copy.parent / "summary.md"
    done = _cli(org_copy.parent, "apply", "--yes", "--summary", str(summary))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "This is a bug" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 3 and all(line.startswith("failed: create membership ") and line.endswith(
        ": no answer from Google (RemoteDisconnected: Remote end closed connection without response)")
        for line in failed), done.stderr
    assert "Applied 4, failed 3, skipped 0.\n" in done.stderr  # the two people and their licences
    text = summary.read_text(encoding="utf-8")
    assert "no answer from Google" in text and "chenjing@acme.com" in text
    assert len(server.inbox.received) == 4  # a welcome and a password for each person created
    passwords = [password_in(r) for r in server.inbox.received if "密码" in r.subject or "password" in r.subject]
    assert sorted(emulator.user(a)["password"] for a in ("chenjing@acme.com", "emilyclark@acme.com")  # type: ignore[index]
                  ) == sorted(passwords)


def _file_sizes_by_wave(repo: Path) -> tuple[list[list[Change]], list[int]]:
    """The waves of the apply about to run, and the directory file's size after each (in a scratch copy)."""
    scratch = repo.parent / "scratch"
    scratch.mkdir()
    path = scratch / "directory.json"
    path.write_bytes((repo / ".reconciler" / "directory.json").read_bytes())
    org, issues = load_org(repo / "org")
    local = LocalProvider(path)
    changes = build_plan(org, issues, local, TODAY).plan.changes
    sizes = []
    for wave in waves(changes):
        assert all(r.ok for r in local.apply(wave, {c.key: "Scratch-Password-4711" for c in wave}))
        sizes.append(path.stat().st_size)
    local.close()
    return waves(changes), sizes


def test_local_apply_stopped_by_a_full_disk_writes_its_summary_and_mails_who_was_created(
        org_copy: Path, smtp_server: StartServer, seeded_directory: bytes) -> None:  # noqa: F811
    repo = org_copy.parent
    (repo / ".reconciler").mkdir()
    (repo / ".reconciler" / "directory.json").write_bytes(seeded_directory)
    _add_two_people(org_copy)
    plan_waves, sizes = _file_sizes_by_wave(repo)
    users_wave = next(n for n, wave in enumerate(plan_waves) if any(c.kind == "user" for c in wave))
    assert users_wave + 2 < len(plan_waves) and sizes[users_wave + 1] > sizes[users_wave]
    server = smtp_server()
    with_onboarding(repo, server.port)
    summary = repo / "summary.md"
    # The disk fills up after the people were created: the next wave's write of the directory fails.
    done = _cli(repo, "apply", "--yes", "--summary", str(summary), fsize=sizes[users_wave])
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "This is a bug" not in done.stderr
    assert "The apply stopped: OSError: [Errno 27] File too large" in done.stderr
    lines = done.stderr.splitlines()
    later = [c for wave in plan_waves[users_wave + 2:] for c in wave]
    for change in plan_waves[users_wave + 1]:
        assert any(line.startswith(f"failed: {change.label}: the apply stopped while making it") for line in lines)
    for change in later:
        assert f"not attempted: {change.label}: the apply stopped before it" in lines
    text = summary.read_text(encoding="utf-8")
    assert "### Apply stopped early. Applied" in text and f"not attempted {len(later)}." in text
    assert "File too large" in text
    assert len(server.inbox.received) == 4  # both people were created (and saved) before the stop
    directory = json.loads((repo / ".reconciler" / "directory.json").read_text(encoding="utf-8"))
    assert "chenjing@acme.com" in json.dumps(directory)
    again = _cli(repo, "apply", "--yes")  # the disk has room again: the next apply converges
    assert again.returncode == 0, again.stderr
    assert len(server.inbox.received) == 4


def test_the_summary_of_an_apply_stopped_before_any_change_says_nothing_was_changed() -> None:
    error = ProviderError("reading the Google Workspace tenant: cannot reach Google: RemoteDisconnected: ...")
    text = render_apply_summary(ApplyReport(stopped=stopped_by(error)), commit="abc123")
    assert "### Apply stopped before it changed anything." in text
    assert "so the apply stopped: reading the Google Workspace tenant: cannot reach Google" in text
    assert "Nothing was changed; run apply again once the cause is fixed" in text
    assert "bug" not in text


def test_what_a_provider_raises_is_called_a_bug_only_when_it_is_one() -> None:
    assert not stopped_by(ProviderError("cannot reach Google")).bug
    assert not stopped_by(ConnectionResetError(104, "Connection reset by peer")).bug
    assert not stopped_by(TimeoutError("timed out")).bug
    assert not stopped_by(http.client.RemoteDisconnected("Remote end closed connection without response")).bug
    assert not stopped_by(httplib2.ServerNotFoundError("Unable to find the server")).bug  # a client library's
    bug = stopped_by(KeyError("id"))
    assert bug.bug and bug.message == "internal error: KeyError: 'id'"


@pytest.mark.parametrize("fault", [Fault("html", 503), Fault("error", 500), Fault("error", 429, reason="throttle")],
                         ids=lambda f: f.label)
def test_a_token_endpoint_failing_while_the_tenant_is_read_is_asked_again(emulator: GoogleEmulator,  # noqa: F811
                                                                          fault: Fault) -> None:
    """The plan's reads need a token before their first call; its endpoint down or busy (a 5xx, a 429,
    no answer) was 'Google refused the credentials' and no plan. Now: asked again on the provider's clock."""
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.inject(fault, "POST", "^/token$", count=2)
    clock = FakeClock()
    google = provider(clock=clock)
    state = google.fetch(["acme.com"])
    google.close()
    assert "ann@acme.com" in state.users()
    assert emulator.faults_served() == {fault.label: 2}
    assert clock.slept[:2] == [1.0, 2.0]
