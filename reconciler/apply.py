"""Carry out a plan through a provider: in waves, skipping what depends on a failure.

`changes_to_apply` is where every apply starts: a fresh plan from org/, which a saved plan
must match (stale or edited plans refused; the fresh plan is what is applied). A wave is a
run of changes of one kind and phase in which none refers to another, so a provider may
batch it. Initial passwords for new users are generated here with `secrets`, handed to the
provider, and dropped.

A provider reports each change's failure in its result; when it fails as a whole instead (it
raises: the network, the server, the disk, or a bug), the apply stops there, and what it did
up to then stands: the wave it was making is reported as failed (each change may or may not be
made), every later change as not attempted, and `ApplyReport.stopped` says why, so that the
caller still writes its summary and sends the mail owed for the people already created.
"""

from __future__ import annotations

import datetime as dt
import http.client
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.changes import Change, ChangeResult, Plan
from reconciler.errors import InputIssue, ProviderError, UserError
from reconciler.i18n import T_, _
from reconciler.model.org import Org
from reconciler.passwords import generate_password
from reconciler.plan.build import build_plan
from reconciler.plan.incident import Found
from reconciler.plan.order import wave_key
from reconciler.plan.saved import load_plan, matching_fresh, pending_changes
from reconciler.providers.base import BaseProvider, Writer
from reconciler.state import Kind

Progress = Callable[[ChangeResult], None]
# Told of each user the provider created, or whose password it reset for org/ (mail_password), with
# the password, before the password is dropped.
OnCreated = Callable[[Change, str], None]
# Told of the changes of a wave that will get a password, before the provider is asked to make them:
# an apply killed while the provider makes them leaves a record that the accounts may exist.
OnCreating = Callable[[Sequence[Change]], None]


# Libraries the providers talk through. An exception of theirs that a provider let through is a
# failure of the service or the network it reached, not of reconciler's own logic.
CLIENT_LIBRARIES = frozenset({"httplib2", "googleapiclient", "google", "httpx", "httpcore", "kiota_abstractions",
                              "kiota_http", "msgraph", "msgraph_core", "azure", "aiohttp", "urllib3", "requests"})


@dataclass(frozen=True)
class Stopped:
    """Why an apply stopped before its end: its provider failed as a whole."""

    message: str  # one line: what failed, as an admin can act on it (a Text where reconciler words it)
    bug: bool  # True: an error in reconciler itself (`error`'s traceback is worth reporting)
    error: BaseException


def stopped_by(error: Exception) -> Stopped:
    """What a provider's exception says about why the apply stopped."""
    text = str(error) or type(error).__name__
    if isinstance(error, ProviderError | UserError):
        return Stopped(text, False, error)
    if isinstance(error, OSError | http.client.HTTPException):  # the network or the disk
        return Stopped(f"{type(error).__name__}: {text}", False, error)
    if type(error).__module__.partition(".")[0] in CLIENT_LIBRARIES:
        return Stopped(T_("the provider's service or network failed ({kind}: {error})", kind=type(error).__name__,
                          error=text), False, error)
    return Stopped(T_("internal error: {kind}: {error}", kind=type(error).__name__, error=text), True, error)


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    stopped: Stopped | None = None  # set when the provider failed as a whole and the apply stopped

    @property
    def failed(self) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome != "applied"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        out = {"applied": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            out[r.outcome] += 1
        return out


def refs_of(change: Change) -> set[tuple[Kind, str]]:
    if change.after is None:
        return set()
    return set(change.resource_after().refs())


def waves(changes: Sequence[Change]) -> list[list[Change]]:
    """Split ordered changes where phase, kind or tree depth changes, or a change needs an earlier one."""
    result: list[list[Change]] = []
    current: list[Change] = []
    keys: set[tuple[Kind, str]] = set()
    for change in changes:
        if current and (wave_key(change) != wave_key(current[0]) or refs_of(change) & keys):
            result.append(current)
            current, keys = [], set()
        current.append(change)
        keys.add((change.kind, change.key))
    if current:
        result.append(current)
    return result


def changes_to_apply(org: Org, load_issues: list[InputIssue], provider: BaseProvider, plan_file: Path | None,
                     today: dt.date | None = None) -> tuple[Plan, list[Change], dict[str, Found]]:
    """The plan to apply and the changes of it still to do: always a fresh plan (its safety checks
    are the ones that count); with a saved plan (`plan_file`), only if the fresh plan is what the
    saved one still has to do, so a stale or edited file never reaches the provider. The third
    value is what each frozen account held when read, before anything is removed (the evidence)."""
    saved = None if plan_file is None else load_plan(plan_file)
    if saved is not None and saved.provider != provider.name:
        raise UserError(_("{file} was made for provider {saved}, not {provider}").format(
            file=plan_file, saved=saved.provider, provider=provider.name))
    fresh = build_plan(org, load_issues, provider, today)
    if saved is None:
        return fresh.plan, list(fresh.plan.changes), fresh.frozen
    accesses = frozenset(a.key for found in fresh.frozen.values() for a in found.accesses)
    todo = pending_changes(saved, fresh.actual, org.digest, accesses)
    return fresh.plan, matching_fresh(todo, fresh.plan), fresh.frozen


def _new_passwords(wave: Sequence[Change], on_creating: OnCreating | None) -> dict[str, str]:
    """New people's first passwords, and the new ones of resets org/ asked for (mail_password), by
    user key; `on_creating` is told of those changes before the provider is asked to make them."""
    passwords = {c.key: generate_password() for c in wave
                 if c.kind == "user" and (c.action == "create" or "mail_password" in c.effects)}
    if on_creating is not None and passwords:
        on_creating([c for c in wave if c.key in passwords])
    return passwords


def apply_changes(changes: Sequence[Change], provider: Writer,
                  progress: Progress | None = None, on_created: OnCreated | None = None,
                  on_creating: OnCreating | None = None) -> ApplyReport:
    """Apply `changes` wave by wave; the caller closes the provider (`open_provider` does)."""
    report = ApplyReport()
    broken: dict[tuple[Kind, str], str] = {}  # what failed or was skipped, and why

    def record(result: ChangeResult) -> None:
        report.results.append(result)
        if progress:
            progress(result)

    for wave in waves(changes):
        if report.stopped is not None:
            for change in wave:
                record(ChangeResult(change, "skipped", T_("the apply stopped before it"), code="not-attempted"))
            continue
        runnable = []
        for change in wave:
            blocker = next(((k, key) for k, key in sorted(refs_of(change)) if (k, key) in broken), None)
            if blocker is None:
                runnable.append(change)
                continue
            broken[(change.kind, change.key)] = "skipped"
            record(ChangeResult(change, "skipped", T_("skipped: {kind} {key} was not applied", kind=blocker[0],
                                                      key=blocker[1]), code="dependency-failed"))
        passwords = _new_passwords(runnable, on_creating)
        try:
            results = provider.apply(runnable, passwords)
        except Exception as error:  # the provider failed as a whole: stop here, keep what was done
            report.stopped = stopped_by(error)
            results = [ChangeResult(change, "failed", T_("the apply stopped while making it (it may or may not be "
                                                         "made): {reason}", reason=report.stopped.message),
                                    code="apply-stopped") for change in runnable]
        for result in results:
            if not result.ok:
                broken[(result.change.kind, result.change.key)] = result.outcome
            elif on_created is not None and result.change.key in passwords:
                on_created(result.change, passwords[result.change.key])
            record(result)
        passwords.clear()
    return report
