"""The evidence report of a frozen account, written by `apply` when its freeze is applied.

An investigator needs what the intruder left, as it was before anything was removed: the plan's
read of the account (plan/incident.py `Found`: forwarding, rules, delegates, OAuth tokens, app
passwords, recent sign-ins with IP and country where the provider gives them, 2-step
verification), then what this apply removed and what failed. One JSON file (for tools; English,
like every machine output) and one markdown file (for people) per frozen account, named with the
address and the time, under `.reconciler/evidence/` beside org/.

Never a secret: OAuth tokens are listed by client id and app name, app passwords by id and name;
neither value is read from any provider. The files do hold IP addresses and places, personal
data: `.reconciler/` is git-ignored, and the README says to keep them out of git and where to
keep them instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyReport
from reconciler.atomicfile import atomic_write
from reconciler.changes import ChangeResult
from reconciler.plan.incident import Found, describe
from reconciler.providers.facts import facts_of
from reconciler.state import Access

EVIDENCE_DIR = Path(".reconciler") / "evidence"  # relative to the folder holding org/
FORMAT_VERSION = 1
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class Outcome:
    """What became of one change of the freeze."""

    change: str  # its label: "delete access alice@acme.com/filter/F1", "update user alice@acme.com"
    said: str  # the label in the reader's language (the markdown's)
    what: str  # what it did, in a sentence (its reason: a Text, said in the reader's language in markdown)
    outcome: str  # applied, failed, skipped
    error: str | None = None


@dataclass
class Evidence:
    """One frozen account's report."""

    address: str
    provider: str
    read_at: dt.datetime  # when the account was read, before anything was removed
    found: Found
    outcomes: list[Outcome] = field(default_factory=list)
    written_at: dt.datetime | None = None

    @property
    def stem(self) -> str:
        """The file name without extension: the address and the read time (UTC)."""
        return f"{self.address}-{self.read_at.strftime('%Y%m%dT%H%M%SZ')}"

    def notes(self) -> list[str]:
        return list(facts_of(self.provider).incident.notes)


def frozen_in(results_or_changes: Sequence[Any]) -> set[str]:
    """The frozen accounts a set of changes freezes or cleans (security changes)."""
    out = set()
    for item in results_or_changes:
        change = item.change if isinstance(item, ChangeResult) else item
        if change.security:
            out.add(change.key if change.kind == "user" else str((change.before or {}).get("owner", change.key)))
    return out


def start_evidence(found: dict[str, Found], changes: Sequence[Any], provider: str,
                   clock: Clock = utc_now) -> list[Evidence]:
    """An evidence record for each frozen account this apply touches, from what the plan read
    before anything was removed; `clock` stamps it."""
    now = clock()
    return [Evidence(address, provider, now, found[address]) for address in sorted(frozen_in(changes))
            if address in found]


def finish_evidence(records: list[Evidence], report: ApplyReport, clock: Clock = utc_now) -> None:
    """Add what the apply did to each record: every security change of its account, with its outcome."""
    now = clock()
    for record in records:
        record.outcomes = [
            Outcome(change=r.change.label, said=r.change.said_label(), what=r.change.reason or "", outcome=r.outcome,
                    error=r.error)
            for r in report.results if frozen_in([r]) == {record.address}]
        record.written_at = now


def _planned(access: Access, found: Found) -> str:
    return "kept" if access in found.kept else "remove"


def evidence_json(record: Evidence) -> dict[str, Any]:
    """The machine form (English, stable keys); no secret is in any of it."""
    found = record.found
    health = found.health
    sign_ins_why = health.unavailable.get("sign_ins")
    return {
        "format_version": FORMAT_VERSION,
        "address": record.address,
        "provider": record.provider,
        "read_at": record.read_at.isoformat(),
        "written_at": record.written_at.isoformat() if record.written_at else None,
        "account": {
            "two_step": found.two_step, "two_step_unknown": found.two_step_unknown,
            "sign_in_blocked": health.sign_in_blocked, "password_change_required": health.password_change_required,
        },
        "sign_ins": [{"at": s.at.isoformat(), "ip": s.ip, "place": s.place, "how": s.how} for s in health.sign_ins],
        "sign_ins_unavailable": sign_ins_why,
        "found": [{"what": a.what, "id": a.id, "name": a.name, "forwards_to": list(a.forwards_to),
                   "deletes": a.deletes, "redirects": a.redirects, "description": str(describe(a)),
                   "planned": _planned(a, found)} for a in [*found.accesses, *found.kept]],
        "unread": {part: str(why) for part, why in health.unavailable.items()
                   if part in ("forwarding", "rules", "delegates")},
        "app_grants_unread": None if found.grants is None else found.grants.unavailable,
        "app_grants_listed": found.grants is not None,
        "app_passwords": [{"id": g.id, "name": g.name,
                           "created": g.created.isoformat() if g.created else None,
                           "last_used": g.last_used.isoformat() if g.last_used else None}
                          for g in (found.grants.grants if found.grants else ()) if g.kind == "app-password"],
        "oauth_tokens": [{"client_id": g.id, "app": g.name, "scopes": list(g.scopes)}
                         for g in (found.grants.grants if found.grants else ()) if g.kind == "oauth-token"],
        "freeze": [{"change": o.change, "what": str(o.what), "outcome": o.outcome, "error": o.error}
                   for o in record.outcomes],
        "notes": record.notes(),
    }


def write_evidence(records: Sequence[Evidence], root: Path, markdown: Callable[[Evidence], str]) -> list[Path]:
    """Write each record as `<address>-<time>.json` and `.md` under root/.reconciler/evidence/ (made
    private to its owner: it holds IP addresses); the markdown paths, for the summary to link."""
    if not records:
        return []
    folder = root / EVIDENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    written = []
    for record in records:
        data = json.dumps(evidence_json(record), indent=2, ensure_ascii=False) + "\n"
        with atomic_write(folder / f"{record.stem}.json") as out:  # 0600, like every atomic write
            out.write(data)
        path = folder / f"{record.stem}.md"
        with atomic_write(path) as out:
            out.write(markdown(record))
        written.append(path)
    return written
