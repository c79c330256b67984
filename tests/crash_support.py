"""Killing `reconciler apply` with SIGKILL mid-way, then checking that plan and apply recover.

The harness runs the real CLI in a subprocess against a tenant (the local directory file or an
emulator on loopback) with onboarding mail going to the real SMTP server of smtp_support.py.
It never guesses timing: it stops the apply where it wants it, from outside the product.

- `RequestGate` holds the Nth write request (POST, PATCH, PUT, DELETE) an emulator receives,
  before serving it (the change is not made) or after (made, its answer withheld): the apply is
  then certainly in that wave, and is killed there.
- `SmtpGate` holds the Nth message the SMTP server receives, before accepting it (not
  delivered) or after (delivered, the apply never hears so): the mail step's two windows.
- `FileWatch` (the local directory) kills once the directory file was replaced N times, that
  is after the Nth wave was written; an SMTP gate is armed with it, so the apply cannot end
  before the kill.
- A random delay (benchmarks/crash.py) kills wherever the apply happens to be.

After each kill, `recover` applies until a plan says there is nothing to do and `check` counts
what a demanding admin would: duplicate accounts, welcome mail lost or twice, initial passwords
lost without a word, files that no longer parse, locks left behind, and any form of a secret
in any output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reconciler.mail.ledger import Ledger
from tests.cli_inprocess import run_in
from tests.emulators.common.httpd import Answer
from tests.secret_scan import files_under, find_secrets
from tests.smtp_support import SMTP_SECRET, Inbox, Received

RECONCILER = Path(sys.executable).parent / "reconciler"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
# A batch is a POST whatever it holds: it writes when one of its inner requests does (Google's
# multipart lines, Graph's JSON `method`).
_INNER_WRITE = re.compile(rb'(?:^|\n)(?:POST|PATCH|PUT|DELETE) /|"method"\s*:\s*"(?:POST|PATCH|PUT|DELETE)"')
_SIGN_IN = re.compile(r"token|oauth|login", re.IGNORECASE)
PASSWORD_LINE = re.compile(r"^    (\S{20})$", flags=re.MULTILINE)

GIVEN = ("Olivia", "Liam", "Noah", "Emma", "Ava", "Mia", "Lucas", "Ethan", "Grace", "Henry", "Isla", "Jack",
         "Leo", "Ruby", "Oscar", "Chloe", "Felix", "Alice", "Hugo", "Daisy")
FAMILY = ("Walker", "Turner", "Parker", "Hughes", "Carter", "Morgan", "Bennett", "Foster", "Griffin", "Harper",
          "Ingram", "Jensen", "Keller", "Lawson", "Mercer", "Nolan")
DEPARTMENTS = ("hr", "marketing", "finance", "logistics", "sales-east", "procurement")


# --- who is added in each round -------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    user_id: str
    given: str
    family: str
    department: str
    personal_email: str
    locale: str

    @property
    def address(self) -> str:  # naming.yaml's latin_pattern {given}{family}
        return f"{self.given}{self.family}@acme.com".lower()

    def yaml(self) -> str:
        return (f"id: {self.user_id}\ngiven_name: {self.given}\nfamily_name: {self.family}\n"
                f"department: {self.department}\ntitle: Analyst\nmanager: E1000\n"
                f"personal_email: {self.personal_email}\nlocale: {self.locale}\n")


def people(first: int, count: int) -> list[Person]:
    """`count` new people numbered from `first` (each number gives a distinct name and address)."""
    out = []
    for n in range(first, first + count):
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n // len(GIVEN)) % len(FAMILY)]
        out.append(Person(f"E{3000 + n}", given, family, DEPARTMENTS[n % len(DEPARTMENTS)],
                          f"{given}.{family}.{n}@example.org".lower(), ("zh-CN", "en-US")[n % 2]))
    return out


def add_people(org_dir: Path, persons: list[Person]) -> None:
    for person in persons:
        (org_dir / "users" / f"{person.user_id.lower()}.yaml").write_text(person.yaml(), encoding="utf-8")


def with_onboarding(org_dir: Path, port: int, ca_file: Path) -> None:
    """Onboarding mail through the loopback server: STARTTLS, signed in with SMTP_SECRET."""
    with (org_dir / "org.yaml").open("a", encoding="utf-8") as out:
        out.write("\nonboarding:\n"
                  f"  smtp: {{host: 127.0.0.1, port: {port}, starttls: true, user: mailer@acme.com, "
                  f"ca_file: {ca_file}, attempts: 2, retry_seconds: 0}}\n"
                  '  sender: "IT 部门 <it@acme.com>"\n')


# --- where the apply is stopped -------------------------------------------------------------------


class Trigger(Protocol):
    reached: threading.Event

    def release(self) -> None: ...


class RequestGate:
    """Installed on an emulator instance (its `handle_http`): holds the `n`th write request, before
    it is served or after; every other request, and every one once released, passes."""

    def __init__(self, emulator: Any, n: int, *, after: bool) -> None:
        self.emulator, self.n, self.after = emulator, n, after
        self.inner: Callable[[str, str, dict[str, str], bytes], Answer] = type(emulator).handle_http.__get__(emulator)
        self.writes = 0
        self.reached = threading.Event()
        self._go = threading.Event()
        self._count = threading.Lock()
        emulator.handle_http = self

    @staticmethod
    def is_write(method: str, target: str, body: bytes) -> bool:
        path = target.partition("?")[0]
        if method not in WRITES or _SIGN_IN.search(path) or path.startswith("/_emulator/"):
            return False
        return "batch" not in path.lower() or bool(_INNER_WRITE.search(body))

    def __call__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        hold = False
        if self.is_write(method, target, body):
            with self._count:
                self.writes += 1
                hold = self.writes == self.n
        if not hold:
            return self.inner(method, target, headers, body)
        answer = self.inner(method, target, headers, body) if self.after else None
        self.reached.set()
        self._go.wait(60)
        if answer is None:  # the process that asked is dead, and nothing was made: nobody reads this
            return Answer(503, {"Content-Type": "text/plain"}, b"the client went away")
        return answer

    def release(self) -> None:
        self._go.set()

    def remove(self) -> None:
        self.release()
        del self.emulator.handle_http  # the class's own again


class SmtpGate:
    """The inbox's judge: holds the `n`th message, before it is accepted (then refused) or after
    (then kept as delivered: the server had it all, only its 250 never reached the apply)."""

    def __init__(self, inbox: Inbox, n: int, *, after: bool) -> None:
        self.inbox, self.n, self.after = inbox, n, after
        self.seen = 0
        self.reached = threading.Event()
        self._go = threading.Event()
        inbox.judge = self

    def __call__(self, got: Received) -> str | None:
        self.seen += 1
        if self.seen != self.n:
            return None
        self.reached.set()
        self._go.wait(60)
        return None if self.after else "451 4.3.0 the client went away"

    def release(self) -> None:
        self._go.set()

    def remove(self) -> None:
        self.release()
        self.inbox.judge = None


class FileWatch:
    """Set once `path` was replaced `n` times (an atomic write: a new inode each time)."""

    def __init__(self, path: Path, n: int) -> None:
        self.path, self.n = path, n
        self.seen = 0  # replacements so far
        self.reached = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _inode(self) -> int | None:
        try:
            return os.stat(self.path).st_ino
        except FileNotFoundError:
            return None

    def _watch(self) -> None:
        self.seen, last = 0, self._inode()
        while not self._stop.is_set():
            now = self._inode()
            if now != last:
                self.seen, last = self.seen + 1, now
                if self.seen >= self.n:
                    self.reached.set()
                    return
            time.sleep(0.0005)

    def release(self) -> None:
        self._stop.set()
        self._thread.join(5)


class Either:
    """Reached when the first of `triggers` is; releases and removes them all."""

    def __init__(self, *triggers: Trigger) -> None:
        self.triggers = triggers
        self.reached = threading.Event()
        for trigger in triggers:
            threading.Thread(target=self._follow, args=(trigger,), daemon=True).start()

    def _follow(self, trigger: Trigger) -> None:
        while not self.reached.is_set():
            if trigger.reached.wait(0.01):
                self.reached.set()

    def release(self) -> None:
        self.reached.set()  # ends the followers
        for trigger in self.triggers:
            trigger.release()

    def remove(self) -> None:
        self.release()
        for trigger in self.triggers:
            remove = getattr(trigger, "remove", None)
            if remove is not None:
                remove()


class Delay:
    """Reached `seconds` after it is armed (benchmarks: a kill wherever the apply is then)."""

    def __init__(self, seconds: float) -> None:
        self.reached = threading.Event()
        self._timer = threading.Timer(seconds, self.reached.set)
        self._timer.start()

    def release(self) -> None:
        self._timer.cancel()


# --- the tenant, the runs, the checks -------------------------------------------------------------


@dataclass
class Tenant:
    kind: str  # local, google, microsoft, exmail, alimail
    repo: Path
    env: dict[str, str]
    accounts: Callable[[], list[str]]  # the address of every user account at the provider
    emulator: Any = None
    outputs: dict[str, str] = field(default_factory=dict)  # every stdout and stderr, for the secret scan
    # The runs that are not killed through the CLI's entry point in this process (the killed apply
    # is always a process of its own): what they read and write is on disk, as for a process.
    in_process: bool = False

    def environ(self) -> dict[str, str]:
        # The tests' language stays (RECONCILER_LANG: en-US): the example org.yaml says zh-CN.
        environ = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_") or k == "RECONCILER_LANG"}
        environ.update(NO_COLOR="1", COLUMNS="250", RECONCILER_SMTP_PASSWORD=SMTP_SECRET, **self.env)
        return environ

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if self.in_process:
            ours = [name for name in os.environ if name.startswith("RECONCILER_") and name != "RECONCILER_LANG"]
            done = run_in(self.repo, {"RECONCILER_SMTP_PASSWORD": SMTP_SECRET, **self.env}, *args, unset=ours)
            result = subprocess.CompletedProcess([str(RECONCILER), *args], done.code, done.stdout, done.stderr)
        else:
            result = subprocess.run([str(RECONCILER), *args], cwd=self.repo, env=self.environ(),
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
        self._keep(" ".join(args), result.stdout, result.stderr)
        return result

    def _keep(self, what: str, stdout: str, stderr: str) -> None:
        n = len(self.outputs) // 2
        self.outputs[f"run {n} ({what}) stdout"] = stdout
        self.outputs[f"run {n} ({what}) stderr"] = stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr

    def apply_killed(self, trigger: Trigger, summary: str) -> bool:
        """Start `apply --yes`, kill it with SIGKILL once `trigger` is reached; False if it ended first."""
        process = subprocess.Popen([str(RECONCILER), "apply", "--yes", "--summary", summary], cwd=self.repo,
                                   env=self.environ(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            while not trigger.reached.wait(0.01):
                if process.poll() is not None:
                    break
            killed = process.poll() is None
            if killed:
                process.send_signal(signal.SIGKILL)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            trigger.release()
            if process.poll() is None:
                process.kill()
                process.wait()
        self._keep("apply --yes, killed" if killed else "apply --yes", stdout, stderr)
        return killed


@dataclass
class Round:
    """What one kill point gave."""

    label: str
    killed: bool
    applies: int = 0  # applies after the kill until a plan said no change
    converged: bool = False
    duplicates: int = 0  # accounts beyond the people added
    missing: int = 0  # people added who have no account
    welcomes_lost: int = 0
    welcomes_twice: int = 0  # two different welcome mails for one person
    welcome_copies: int = 0  # a second copy of the same welcome (same Message-ID): the at-least-once window
    passwords_mailed: int = 0
    passwords_reported: int = 0  # not mailed, and the ledger and output say to reset them
    passwords_silently_lost: int = 0
    passwords_twice: int = 0
    unreadable: list[str] = field(default_factory=list)  # files that no longer parse, locks held, temp copies
    secret_hits: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.converged and not self.duplicates and not self.missing and not self.welcomes_lost
                and not self.welcomes_twice and not self.passwords_silently_lost and not self.passwords_twice
                and not self.unreadable and not self.secret_hits)


def recover(tenant: Tenant, round_: Round, limit: int = 4) -> None:
    """Apply until a plan has nothing to do (at most `limit` applies): every apply delivers the mail
    earlier ones owe, so one apply runs even when the plan is already empty."""
    for n in range(limit):
        tenant.run("apply", "--yes", "--summary", f"summary-{round_.label}-{n}.md")
        round_.applies = n + 1
        plan = tenant.run("plan", "--format", "json")
        assert plan.returncode in (0, 1), plan.stderr
        document = json.loads(plan.stdout)
        if not document["changes"]:
            round_.converged = True
            return


def _kind_of(message: Received) -> str:
    found = re.search(r"\.(welcome|password|reset)@", str(message.message["Message-ID"]))
    assert found is not None, message.message["Message-ID"]
    return found.group(1)


def check(tenant: Tenant, round_: Round, added: list[Person], before: set[str], mail: list[Received]) -> None:
    """Count what the kill and the recovery did to accounts, mail, files and secrets."""
    after = set(tenant.accounts())
    wanted = {p.address for p in added}
    round_.missing = len(wanted - after)
    round_.duplicates = len(after - before - wanted)
    ledger_path = tenant.repo / ".reconciler" / "mail-ledger.jsonl"
    ledger = _read_ledger(ledger_path, round_)
    by_recipient: dict[str, list[Received]] = {}
    for message in mail:
        by_recipient.setdefault(message.recipients[0], []).append(message)
    for person in added:
        got = by_recipient.get(person.personal_email, [])
        welcomes = Counter(str(m.message["Message-ID"]) for m in got if _kind_of(m) == "welcome")
        passwords = [m for m in got if _kind_of(m) == "password"]
        round_.welcomes_lost += not welcomes
        round_.welcomes_twice += len(welcomes) > 1
        round_.welcome_copies += sum(welcomes.values()) - len(welcomes)
        round_.passwords_twice += len(passwords) > 1
        if passwords:
            round_.passwords_mailed += 1
            continue
        states = [e["messages"].get("password", {}).get("state") for e in ledger.values()
                  if e["user_id"] == person.user_id and e["address"] == person.address]
        told = any(f"initial password of {person.address} ({person.user_id})" in text
                   for where, text in tenant.outputs.items() if where.endswith("stderr"))
        if "needs_reset" in states and told:
            round_.passwords_reported += 1
        else:
            round_.passwords_silently_lost += 1
    # Locks and temp copies: a fresh apply took both locks above; nothing half-written is left.
    round_.unreadable += [f"temp copy left: {p.name}" for p in (tenant.repo / ".reconciler").glob("*.tmp")]
    directory = tenant.repo / ".reconciler" / "directory.json"
    if tenant.kind == "local":
        try:
            json.loads(directory.read_text(encoding="utf-8"))
        except ValueError as problem:
            round_.unreadable.append(f"directory.json: {problem}")


def scan_outputs(tenant: Tenant, round_: Round, mail: list[Received]) -> None:
    """Every output so far: each run's stdout and stderr, the summaries, a plan in every format and
    a saved one, the directory file, the ledger, the whole repo (.reconciler/ included), searched
    for every form of every password the SMTP server received and of the SMTP password."""
    for form in ("markdown", "text"):  # recover() kept the json of each round's last plan
        tenant.run("plan", "--format", form, "--out", f"saved-{round_.label}-{form}.json")
    secrets = [SMTP_SECRET] + [m for message in mail if _kind_of(message) == "password"
                               for m in PASSWORD_LINE.findall(message.body)]
    assert len(secrets) > 1, "no password was mailed: nothing to look for"
    round_.secret_hits = find_secrets(secrets, {**tenant.outputs, **files_under(tenant.repo)})


def _read_ledger(path: Path, round_: Round) -> dict[str, dict[str, Any]]:
    """The ledger as reconciler reads it (which also proves its lock is free), each entry's last line."""
    ledger = Ledger(path, path.name)
    try:
        ledger.open()
    except Exception as problem:  # a damaged ledger or a held lock is a finding, not a crash
        round_.unreadable.append(f"{path.name}: {problem}")
        return {}
    finally:
        ledger.close()
    return {key: entry.model_dump(mode="json") for key, entry in ledger.entries.items()}


def kill_round(tenant: Tenant, label: str, added: list[Person], arm: Callable[[], Trigger],
               inbox: Inbox) -> Round:
    """One kill point: add `added` to org/, apply until `arm()`'s trigger, kill, recover, check."""
    add_people(tenant.repo / "org", added)
    before = set(tenant.accounts())
    first = len(inbox.received)
    trigger = arm()
    try:
        round_ = Round(label, tenant.apply_killed(trigger, f"summary-{label}-killed.md"))
    finally:
        remove = getattr(trigger, "remove", None)
        if remove is not None:
            remove()
    recover(tenant, round_)
    check(tenant, round_, added, before, inbox.received[first:])
    return round_


def accounts_of(kind: str, emulator: Any, repo: Path) -> Callable[[], list[str]]:
    """How to list every user account's address at this tenant (deleted ones left out)."""
    def local() -> list[str]:
        data = json.loads((repo / ".reconciler" / "directory.json").read_text(encoding="utf-8"))
        return [r["user"]["email"] for r in data["users"].values()]

    def google() -> list[str]:
        with emulator._lock:
            return [u["primaryEmail"] for u in emulator.store.users.values() if "deletionTime" not in u]

    def microsoft() -> list[str]:
        with emulator._lock:
            return [u["userPrincipalName"] for u in emulator.store.users.values()]

    def keyed() -> list[str]:
        with emulator._lock:
            return list(emulator.users)

    return {"local": local, "google": google, "microsoft": microsoft, "exmail": keyed, "alimail": keyed}[kind]


def summarise(rounds: list[Round]) -> Mapping[str, int]:
    """The figures of a set of rounds, as the README reports them."""
    return {
        "kill points": len(rounds), "killed": sum(r.killed for r in rounds),
        "converged": sum(r.converged for r in rounds), "duplicates": sum(r.duplicates for r in rounds),
        "missing": sum(r.missing for r in rounds), "welcomes lost": sum(r.welcomes_lost for r in rounds),
        "welcomes twice": sum(r.welcomes_twice for r in rounds),
        "welcome copies (same Message-ID)": sum(r.welcome_copies for r in rounds),
        "passwords mailed": sum(r.passwords_mailed for r in rounds),
        "passwords reported for a reset": sum(r.passwords_reported for r in rounds),
        "passwords silently lost": sum(r.passwords_silently_lost for r in rounds),
        "passwords twice": sum(r.passwords_twice for r in rounds),
        "unreadable files or locks": sum(len(r.unreadable) for r in rounds),
        "secret hits": sum(len(r.secret_hits) for r in rounds),
    }
