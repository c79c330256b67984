"""Odd files and paths: a FIFO, a socket or a device where a file should be, a path with a line
break, a damaged record in the directory file, and the temp copy a killed apply leaves behind.
Each is a clear error naming the file (and the record), never a hang, a memory blow-up or a
traceback; the stale copy is removed by the next apply, and only it."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from reconciler.errors import ProviderError
from reconciler.model.loader import load_org, load_settings
from reconciler.providers.local import LocalProvider
from reconciler.state import Domain, Group
from tests.test_cli import RECONCILER, edit
from tests.test_local_provider import apply_ok, create

DOMAINS = ["acme.com"]


def run_cli(repo: Path, *args: str, memory: int = 2 << 30) -> subprocess.CompletedProcess[str]:
    """The real CLI, bounded in time and memory: the old code hung on a FIFO and read /dev/zero forever."""

    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    result = subprocess.run([str(RECONCILER), *args], cwd=repo, capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"}, preexec_fn=bounded,
                            check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


@contextmanager
def deadline(seconds: int = 20) -> Iterator[None]:
    """Fail, instead of hanging the run, if the block blocks (on a FIFO, the old code did forever)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def repo(org_copy: Path) -> Path:
    return org_copy.parent


# --- org/: plain files only --------------------------------------------------------------------

def test_a_fifo_in_org_is_refused_on_its_path_not_waited_on(repo: Path) -> None:
    os.mkfifo(repo / "org" / "users" / "pipe.yaml")
    os.mkfifo(repo / "org" / "groups" / "pipe.yml")
    result = run_cli(repo, "validate")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "org/groups/pipe.yml: a FIFO (named pipe) is not an org/ file; org/ holds plain files only: remove it",
        "org/users/pipe.yaml: a FIFO (named pipe) is not an org/ file; org/ holds plain files only: remove it",
        "2 problems in org/"]


def test_a_fifo_as_a_top_file_and_a_socket_are_refused(org_copy: Path) -> None:
    (org_copy / "departments.yaml").unlink()
    os.mkfifo(org_copy / "departments.yaml")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(org_copy / "users" / "sock.yaml"))
        with deadline():
            _, issues = load_org(org_copy)
    finally:
        server.close()
    said = {str(i) for i in issues}
    assert "org/departments.yaml: a FIFO (named pipe) is not an org/ file; org/ holds plain files only: remove it" \
        in said
    assert "org/users/sock.yaml: a socket is not an org/ file; org/ holds plain files only: remove it" in said


# --- provider.path ---------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "said"), [
    ('"a.json\\nkind=google"', "a line break (U+000A) at character 7"),
    ('"a.json\\rx"', "a carriage return (U+000D) at character 7"),
    ('"a\\u0085b.json"', "a control character (U+0085) at character 2"),
    ('"a\\u2028b.json"', "a line separator (U+2028) at character 2"),
])
def test_a_control_character_in_a_path_is_refused_where_it_is_written(org_copy: Path, value: str,
                                                                      said: str) -> None:
    edit(org_copy.parent, "org.yaml", "path: .reconciler/directory.json", f"path: {value}")
    with pytest.raises(Exception) as refused:
        load_settings(org_copy)
    (issue,) = refused.value.issues  # type: ignore[attr-defined]
    assert str(issue) == f"org/org.yaml:10:9: the path has {said}; a path must be one line of plain text"


def test_the_mail_ledger_path_is_checked_the_same_way(org_copy: Path) -> None:
    with (org_copy / "org.yaml").open("a", encoding="utf-8") as out:
        out.write('onboarding: {smtp: {host: smtp.acme.com}, sender: it@acme.com, ledger: "l.jsonl\\npath=x"}\n')
    _, issues = load_org(org_copy)
    assert [i.message for i in issues] == [
        "the path has a line break (U+000A) at character 8; a path must be one line of plain text"]


def test_dev_zero_as_the_directory_file_is_refused_not_read_forever(repo: Path) -> None:
    edit(repo, "org.yaml", "path: .reconciler/directory.json", "path: /dev/zero")
    result = run_cli(repo, "plan", memory=1 << 30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: /dev/zero: the local directory file is a character device, not a plain file; point provider.path "
        "in org.yaml at a JSON file (or where one may be created)")


def test_a_fifo_as_the_directory_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "directory.json"
    os.mkfifo(fifo)
    with deadline(), pytest.raises(ProviderError) as refused:
        LocalProvider(fifo)
    assert str(refused.value) == (
        f"{fifo}: the local directory file is a FIFO (named pipe), not a plain file; point provider.path in "
        "org.yaml at a JSON file (or where one may be created)")


def test_a_directory_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "directory.json"
    provider = LocalProvider(path)
    apply_ok(provider, create(Domain(name="acme.com", primary=True)),
             *(create(Group(email=f"g{n}@acme.com")) for n in range(50)))
    provider.close()
    monkeypatch.setattr("reconciler.providers.local.directory.MAX_DIRECTORY_BYTES", path.stat().st_size - 1)
    with pytest.raises(ProviderError, match=r"the local directory file is 0\.0 MiB, over the 0 MiB limit"):
        LocalProvider(path)


# --- a damaged record ------------------------------------------------------------------------

@pytest.mark.parametrize(("record", "said"), [
    ({"user": {"email": None, "id": "E1001"}}, "user record 'u1' (id E1001) with no address"),
    ({"user": {"id": "E1001"}}, "user record 'u1' (id E1001) with no address"),
    ({"user": {"email": 42}}, "user record 'u1' with the address 42, not text"),
    ({"name": "no user inside"}, "user record 'u1' with no address"),
])
def test_a_user_without_an_address_in_the_directory_file_is_a_clear_error(tmp_path: Path, record: object,
                                                                          said: str) -> None:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps({"format": "reconciler-local-directory", "version": 1, "users": {"u1": record}}),
                    encoding="utf-8")
    with pytest.raises(ProviderError) as refused:
        LocalProvider(path).fetch(DOMAINS)
    assert str(refused.value) == (f"{path}: the directory file is damaged: users holds {said}; fix or remove that "
                                  "record, or restore the file from a backup")


def test_a_null_email_is_said_by_the_cli_with_the_file_and_record(repo: Path) -> None:
    directory = repo / ".reconciler" / "directory.json"
    directory.parent.mkdir()
    directory.write_text(json.dumps({"format": "reconciler-local-directory", "version": 1,
                                     "groups": {"g7": {"group": {"email": None}}}}), encoding="utf-8")
    result = run_cli(repo, "plan")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {directory}: the directory file is damaged: groups holds "
        "group record 'g7' with no address; fix or remove that record, or restore the file from a backup")


# --- the temp copy of a killed apply ---------------------------------------------------------

def leftover(path: Path) -> Path:
    """What a killed apply leaves: atomic_write's temp file, named as mkstemp names it, a whole copy."""
    fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as out:
        out.write(path.read_text(encoding="utf-8")[:100])  # half a copy, password hashes and all
    return Path(name)


def test_the_next_apply_removes_a_killed_applys_temp_copy_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / ".reconciler" / "directory.json"
    provider = LocalProvider(path)
    apply_ok(provider, create(Domain(name="acme.com", primary=True)))
    provider.close()
    stale = leftover(path)
    others = [path.parent / n for n in ("directory.json.backup.tmp", "directory.json.ABCDEFGH.tmp",
                                        "other.json.abcdefgh.tmp", "directory.json.abcdefgh.tmp.keep",
                                        "notes.txt")]
    for other in others:
        other.write_text("mine", encoding="utf-8")
    os.symlink(path, path.parent / "directory.json.zzzzzzzz.tmp")  # not a plain file of ours

    # Reading (a plan) never removes anything: it holds no lock.
    LocalProvider(path).fetch(DOMAINS)
    assert stale.exists()

    # An apply that holds the lock removes it.
    holder = LocalProvider(path)
    apply_ok(holder, create(Group(email="a@acme.com")))
    assert not stale.exists()

    # One that waits for another's lock removes nothing: the holder may be between mkstemp and rename.
    in_flight = leftover(path)
    blocked = LocalProvider(path)
    with pytest.raises(ProviderError, match="is being changed by another reconciler apply"):
        blocked.apply([create(Group(email="b@acme.com"))], {})
    assert in_flight.exists()
    holder.close()  # ...and then was killed before its rename: the copy is stale now

    rerun = LocalProvider(path)
    apply_ok(rerun, create(Group(email="b@acme.com")))
    rerun.close()
    assert not in_flight.exists()
    assert all(other.read_text(encoding="utf-8") == "mine" for other in others)
    assert (path.parent / "directory.json.zzzzzzzz.tmp").is_symlink()
    assert set(LocalProvider(path).fetch(DOMAINS).of("group")) == {"a@acme.com", "b@acme.com"}
