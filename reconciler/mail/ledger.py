"""The delivery ledger: which onboarding messages were sent, and which wait for a retry.

One JSON object a line: a header, then the whole current record of an account
each time it changes; the last line of an entry wins. Appending one line (and
fsync) per step keeps a first apply of thousands of people linear, and a crash
can only cut the last line short, which is ignored. When superseded lines pile
up, the file is rewritten atomically (temp file, fsync, rename). An exclusive
lock keeps two applies from sending the same message.

Nothing secret is ever written here: the user's id and address, names, and per
message its state, tries, Message-ID and a one-line reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Literal, TextIO

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.atomicfile import atomic_write, remove_stale_temps, try_lock
from reconciler.errors import UserError

FORMAT = "reconciler-mail-ledger"
VERSION = 1
# reset: the new password after a reset asked for with a user's password_reset.
MessageKind = Literal["welcome", "password", "reset"]
MESSAGE_KINDS: tuple[MessageKind, ...] = ("welcome", "password", "reset")
SECRET_MESSAGES: frozenset[MessageKind] = frozenset({"password", "reset"})  # they carry a password
# pending: to be sent (again) on the next delivery; needs_reset: a password message that can no
# longer be sent because the password is gone; cancelled: the person left org/ or is not active.
MessageState = Literal["pending", "sent", "needs_reset", "cancelled"]


class MessageRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: MessageState
    message_id: str
    attempts: int = 0
    updated: dt.datetime
    error: str | None = None


class Entry(BaseModel):
    """One created account and its messages; `entry` is a hash of the id, address and creation time.

    An entry with `reset_on` is a password reset asked for with that date (`reset_key`): its
    existence says the reset was carried out, so a later plan does not ask for it again."""

    model_config = ConfigDict(extra="forbid")

    entry: str
    user_id: str
    address: str
    display_name: str
    given_name: str
    family_name: str
    manager: str | None = None
    provider: str
    created_at: dt.datetime
    messages: dict[MessageKind, MessageRecord]
    reset_on: dt.date | None = None
    # True from just before the provider is asked to create the account until the apply hears back:
    # left so by an apply killed (or stopped) in between, it is settled by the next apply, which
    # knows whether the account exists (`Onboarding.settle`). Written only when True.
    outcome_unknown: bool = False


# Before a password mail's failures were told as a status code only, a refusal kept the server's
# reply (`refused: 554 ...`), which may quote the message and the password in it: such a reply is
# cut to its code when the ledger is read, and the file rewritten without it.
_OLD_REPLY = re.compile(r"(?:recipient refused|sender \S* refused|refused): (\d{3})\b")


def forget_old_reply(entry: Entry) -> bool:
    """Drop a server's reply an older reconciler kept for a message with a secret (every kind
    but the welcome mail); True if it did."""
    dropped = False
    for kind, record in entry.messages.items():
        found = _OLD_REPLY.match(record.error or "") if kind != "welcome" else None
        if found is not None:
            entry.messages[kind] = record.model_copy(update={"error": (
                f"the server refused the message with SMTP status {found.group(1)} (its reply, kept by an older "
                "reconciler, was removed: it may quote the message)")})
            dropped = True
    return dropped


def entry_key(user_id: str, address: str, created_at: dt.datetime) -> str:
    return hashlib.sha256(f"{user_id}\0{address}\0{created_at.isoformat()}".encode()).hexdigest()[:24]


def reset_key(user_id: str, day: dt.date) -> str:
    """One entry per person and asked-for date, whatever the address: a reset is done once."""
    return hashlib.sha256(f"{user_id}\0password-reset\0{day.isoformat()}".encode()).hexdigest()[:24]


def resets_done(path: Path, shown: str) -> set[tuple[str, dt.date]]:
    """(user id, date) of every password reset the ledger records as carried out.

    Read without the lock (a plan changes nothing); a damaged ledger is said as the apply says it."""
    ledger = Ledger(path, shown)
    ledger._read()
    return {(e.user_id, e.reset_on) for e in ledger.entries.values() if e.reset_on is not None}


class Ledger:
    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self.shown = shown
        self.entries: dict[str, Entry] = {}
        self._lock: TextIO | None = None
        self._lines = 0

    def open(self) -> None:
        """Take the lock and read the file; compact it when it is mostly superseded lines."""
        lock = try_lock(self.path)
        if lock is None:
            raise UserError(f"{self.shown} is in use by another reconciler apply; "
                            "wait for it to finish, it sends the same messages")
        self._lock = lock
        try:
            remove_stale_temps(self.path)  # a rewrite a killed apply left half-done, now that the lock is ours
            torn = self._read()
            cleaned = [forget_old_reply(entry) for entry in self.entries.values()]
            if torn or any(cleaned) or self._lines > 2 * len(self.entries) + 64 or not self.path.exists():
                self._rewrite()
        except BaseException:
            self.close()
            raise

    def _read(self) -> bool:
        """Load every entry; True when the last line was cut short (by a crash)."""
        if not self.path.exists():
            return False
        text = self.path.read_text(encoding="utf-8", errors="replace")
        if not text:
            return True
        lines = text.split("\n")
        torn = lines[-1] != ""
        lines = lines[:-1]  # after the last newline: empty, or a line a crash cut short
        if not lines or self._header(lines[0]) is None:
            raise UserError(f"{self.shown}:1: not a reconciler mail ledger ({FORMAT} version {VERSION}); "
                            "move it aside if it is something else")
        for number, line in enumerate(lines[1:], start=2):
            try:
                entry = Entry.model_validate_json(line)
            except ValidationError as problem:
                first = problem.errors()[0]
                raise UserError(f"{self.shown}:{number}: damaged line ({first['msg']}); fix or remove that line, "
                                "then apply again") from None
            self.entries[entry.entry] = entry
        self._lines = len(lines)
        return torn

    @staticmethod
    def _header(line: str) -> dict[str, object] | None:
        try:
            header = json.loads(line)
        except ValueError:
            return None
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
            return None
        return header

    def put(self, entry: Entry) -> None:
        """Record an entry's new state on disk before anything relies on it."""
        self.put_all([entry])

    def put_all(self, entries: list[Entry]) -> None:
        """Record several entries with one write and one fsync (a wave of thousands of new people)."""
        assert self._lock is not None, "open() the ledger first"
        if not entries:
            return
        for entry in entries:
            self.entries[entry.entry] = entry
        with open(self.path, "a", encoding="utf-8") as out:
            out.write("".join(_line(entry) for entry in entries))
            out.flush()
            os.fsync(out.fileno())
        self._lines += len(entries)

    def _rewrite(self) -> None:
        with atomic_write(self.path) as out:
            out.write(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
            for entry in self.entries.values():
                out.write(_line(entry))
        self._lines = len(self.entries) + 1

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def _line(entry: Entry) -> str:
    record = entry.model_dump(mode="json")
    if not record["outcome_unknown"]:
        del record["outcome_unknown"]  # the usual case: lines stay as older reconcilers wrote and read them
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
