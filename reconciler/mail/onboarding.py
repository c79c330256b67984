"""Onboarding mail for the accounts an apply creates: recorded first, then sent, never twice.

The apply hands each created user and its initial password to `created()`
while it still has the password in memory. The account goes into the ledger
at once (its messages `pending`); the password stays in memory only.
`deliver()` then sends every pending message, including those left over from
earlier applies, and writes each outcome to the ledger as it happens.

An apply can be killed at any moment (kill -9, a cancelled CI job, a lost
runner). So each account a wave is about to create is written to the ledger
before the provider is asked (`creating()`, `outcome_unknown`), and the next
apply settles what a killed one left (`settle()`): if its plan creates the
account again, the earlier create never happened and that entry is cancelled;
if not, the account exists, its welcome mail goes out, and its password
message is reported as lost (reset the password and hand it over). What this
gives, honestly:
- welcome mail: at least once. The one window for a second copy is between
  the server accepting it and the ledger line saying so; the copy carries the
  same Message-ID, which mail systems use to drop duplicates.
- password messages: at most once. The password is never on disk, so an
  apply killed before sending it cannot send it later; the next apply says
  whose password to reset.

A welcome mail that cannot be sent stays pending and is tried again on the
next apply. A password message cannot wait for the next apply: the password
exists nowhere else, and keeping it would put it on disk. So it is tried a few
times now; if it still fails, the ledger marks it `needs_reset` and the report
says which account needs a new password from an admin. The welcome mail does
not depend on it and is sent (or retried) either way.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

from reconciler.changes import Change
from reconciler.errors import InputIssue, display_path
from reconciler.i18n import N_, T_, Text, _, say
from reconciler.mail.compose import Recipient, build_message, links_for, message_id, values_for
from reconciler.mail.ledger import (
    MESSAGE_KINDS,
    SECRET_MESSAGES,
    Entry,
    Ledger,
    MessageKind,
    MessageRecord,
    MessageState,
    entry_key,
    reset_key,
)
from reconciler.mail.smtp import SendFailure, SmtpSender
from reconciler.mail.templates import MailTemplate, TemplateError, TemplateKind, load_templates
from reconciler.model.files import UserEntry
from reconciler.model.onboarding import MailSettings
from reconciler.model.org import Org, Sourced
from reconciler.romanize import display_name

# What happened to a message in one delivery: its new ledger state, or `waiting` (still pending,
# but for org/ to name a recipient, not for the server: no error, nothing an apply could fix).
DeliveryOutcome = Literal["sent", "pending", "waiting", "needs_reset", "cancelled"]
OUTCOMES: tuple[DeliveryOutcome, ...] = ("sent", "pending", "waiting", "needs_reset", "cancelled")
# A message's kind as the delivery lines say it ("welcome mail for ...").
MESSAGE_WORDS: dict[str, str] = {"welcome": N_("welcome"), "password": N_("password"), "reset": N_("reset")}


@dataclass(frozen=True)
class Delivery:
    """What happened to one message in this delivery (no recipient address, no secret)."""

    user_id: str
    address: str  # the new account's address
    message: MessageKind
    outcome: DeliveryOutcome
    detail: str | None = None

    def __str__(self) -> str:
        """The line in English (logs); `said()` says it in the reader's language."""
        return str(self.line())

    def said(self) -> str:
        return say(self.line())

    def line(self) -> Text:
        kind = Text(MESSAGE_WORDS.get(self.message, self.message))  # a Text: said in the reader's language
        values = {"kind": kind, "address": self.address, "user": self.user_id, "detail": self.detail or ""}
        if self.outcome == "sent" and self.detail:
            return T_("sent {kind} mail for {address} ({user}) to the {detail}", **values)
        if self.outcome == "sent":
            return T_("sent {kind} mail for {address} ({user})", **values)
        if self.outcome == "pending":
            return T_("not sent: {kind} mail for {address} ({user}): {detail}; it is sent on the next apply", **values)
        if self.outcome == "waiting":
            return T_("waiting: {kind} mail for {address} ({user}): {detail}; it is sent on the first apply after the "
                      "file names one", **values)
        if self.outcome == "needs_reset" and self.message == "reset":
            return T_("not sent: the new password of {address} ({user}): {detail}. It is kept nowhere: set a later "
                      "password_reset date in their file to reset it again", **values)
        if self.outcome == "needs_reset":
            return T_("not sent: the initial password of {address} ({user}): {detail}. It is kept nowhere: reset the "
                      "password at the provider and hand it over in person", **values)
        return T_("cancelled {kind} mail for {address} ({user}): {detail}", **values)


@dataclass
class DeliveryReport:
    deliveries: list[Delivery] = field(default_factory=list)

    def counts(self) -> dict[DeliveryOutcome, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for d in self.deliveries:
            out[d.outcome] += 1
        return out

    @property
    def ok(self) -> bool:
        """Nothing failed to send and no password needs a reset (waiting for a recipient is not a failure)."""
        counts = self.counts()
        return not counts["pending"] and not counts["needs_reset"]

    def render(self) -> str:
        """The report in the reader's language, a line per message and the counts."""
        if not self.deliveries:
            return ""
        c = self.counts()
        lines = [d.said() for d in self.deliveries]
        lines.append(_("Onboarding mail: {sent} sent, {pending} to retry on the next apply, {waiting} waiting for a "
                       "recipient, {needs_reset} to reset the password, {cancelled} cancelled.").format(**c))
        return "\n".join(lines) + "\n"


def template_needs(settings: MailSettings, org: Org | None = None) -> list[TemplateKind]:
    """The templates an org needs: the new-password one only once someone's file asks for a reset."""
    kinds: list[TemplateKind] = ["welcome"]
    if settings.send_password == "separate":
        kinds.append("password")
        if org is not None and any(u.value.password_reset for u in org.users):
            kinds.append("reset")
    if settings.send_to == "manager":
        kinds.append("handover")
    return kinds


def locales_in_use(org: Org) -> set[str]:
    return {org.settings.defaults.locale} | {u.value.locale for u in org.users if u.value.locale}


def check_templates(org: Org, settings: MailSettings, provider_kind: str) -> list[InputIssue]:
    """Every problem with the templates this org needs (for `validate` and `plan`)."""
    _, issues = load_templates(org.org_dir, org.root, provider_kind, locales_in_use(org), template_needs(settings, org),
                               links_for(provider_kind, settings.links))
    return issues


class Onboarding:
    """Records created accounts and sends their mail. Use as a context manager (it holds a lock)."""

    def __init__(self, org: Org, settings: MailSettings, provider_kind: str, *,
                 environ: Mapping[str, str] | None = None, now: Callable[[], dt.datetime] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.org = org
        self.settings = settings
        self.provider_kind = provider_kind
        self._users = org.users_by_id()
        self._now = now or (lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
        self._templates, self.template_issues = load_templates(
            org.org_dir, org.root, provider_kind, locales_in_use(org), template_needs(settings, org),
            links_for(provider_kind, settings.links))
        extra = {"sleep": sleep} if sleep else {}
        self._sender = SmtpSender(settings.smtp, org.root, os.environ if environ is None else environ, **extra)
        path = org.root / settings.ledger
        self.ledger = Ledger(path, display_path(path, org.root))
        self.ledger.open()
        self._passwords: dict[str, str] = {}  # entry -> initial password; memory only
        self._creating: dict[str, str] = {}  # address -> entry, for the accounts this apply is creating

    def __enter__(self) -> Onboarding:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._passwords.clear()
        self._sender.close()
        self.ledger.close()

    def preflight(self, *, connect: bool = True) -> list[str]:
        """Why mail could not be sent, checked before the apply creates anyone ([] when it can)."""
        problems = [str(issue) for issue in self.template_issues]
        if missing := self._sender.missing_password():
            problems.append(missing)
        if not problems and connect and (reason := self._sender.probe()):
            problems.append(reason)
        return problems

    def created(self, change: Change, password: str | None) -> None:
        """Record a created account, or a password reset (the `on_created` callback of the apply);
        other changes are ignored."""
        if change.kind != "user" or change.after is None:
            return
        if "mail_password" in change.effects and change.action != "create":
            self._reset(change, password)
            return
        if change.action != "create":
            return
        key = self._creating.pop(change.key, None)
        entry = self.ledger.entries[key] if key is not None else self._created_entry(change)
        entry = entry.model_copy(update={"outcome_unknown": False})
        for kind in self._kinds():
            self._queue(entry, kind, password, "initial")
        self.ledger.put(entry)
        self._first_password_covers_a_reset(entry)

    def creating(self, changes: Sequence[Change]) -> None:
        """Record the accounts a wave is about to create, before the provider is asked (the
        `on_creating` callback of the apply): an apply killed while the provider makes them
        leaves their entries `outcome_unknown`, for the next apply to settle."""
        entries = []
        for change in changes:
            if change.kind == "user" and change.action == "create" and change.after is not None:
                entry = self._created_entry(change).model_copy(update={"outcome_unknown": True})
                for kind in self._kinds():  # pending: if the apply dies, the next one says what was lost
                    entry.messages[kind] = MessageRecord(
                        state="pending", updated=entry.created_at,
                        message_id=message_id(entry, kind, self.settings.sender_address))
                self._creating[change.key] = entry.entry
                entries.append(entry)
        self.ledger.put_all(entries)

    def settle(self, changes: Sequence[Change]) -> None:
        """Settle the entries an earlier apply left `outcome_unknown` (it was killed or stopped while
        the provider created those accounts), now that this apply's plan says what exists: an
        account the plan creates again was never made (its entry is cancelled; this apply's create
        makes a new one); one it does not create exists, and its messages go out as pending (its
        password message, whose password is gone, is reported for a reset)."""
        created = {c.key for c in changes if c.kind == "user" and c.action == "create"}
        created |= {str(c.after.get("id")) for c in changes
                    if c.kind == "user" and c.action == "create" and c.after is not None}
        settled = []
        for entry in self.ledger.entries.values():
            if not entry.outcome_unknown or entry.entry in self._creating.values():
                continue
            if entry.address in created or entry.user_id in created:
                why = T_("the apply that was to create the account stopped before it did; a later apply creates it")
                messages = {kind: record.model_copy(update={"state": "cancelled", "error": why,
                                                            "updated": self._now()})
                            for kind, record in entry.messages.items()}
                settled.append(entry.model_copy(update={"outcome_unknown": False, "messages": messages}))
            else:
                settled.append(entry.model_copy(update={"outcome_unknown": False}))
        self.ledger.put_all(settled)

    def _created_entry(self, change: Change) -> Entry:
        after, now = change.after or {}, self._now()
        given, family = str(after.get("given_name") or ""), str(after.get("family_name") or "")
        user_id = str(after.get("id") or "")
        return self._entry(change, entry_key(user_id, change.key, now), user_id, given, family, now)

    def _entry(self, change: Change, key: str, user_id: str, given: str, family: str, created_at: dt.datetime,
               reset_on: dt.date | None = None) -> Entry:
        after = change.after or {}
        return Entry(entry=key, user_id=user_id, address=change.key,
                     display_name=str(after.get("display_name") or display_name(given, family)),
                     given_name=given, family_name=family, manager=after.get("manager"),
                     provider=self.provider_kind, created_at=created_at, messages={}, reset_on=reset_on)

    def _queue(self, entry: Entry, kind: MessageKind, password: str | None, which: str) -> None:
        """`kind` pending for `entry`; a password message without its password needs a reset instead.
        The password stays in memory only."""
        missing = kind in SECRET_MESSAGES and not password
        state: MessageState = "needs_reset" if missing else "pending"
        error = (T_("the apply handed over no new password") if which == "new"
                 else T_("the apply handed over no initial password")) if missing else None
        entry.messages[kind] = MessageRecord(state=state, updated=entry.created_at, error=error,
                                             message_id=message_id(entry, kind, self.settings.sender_address))
        if password and kind in SECRET_MESSAGES:
            self._passwords[entry.entry] = password

    def _first_password_covers_a_reset(self, entry: Entry) -> None:
        """A person created while their file asks for a reset gets their first password: the
        reset is recorded as done, or the next plan would reset the password just mailed."""
        user = self._users.get(entry.user_id)
        day = user.value.password_reset if user is not None else None
        if day is not None:
            self.ledger.put(entry.model_copy(update={"entry": reset_key(entry.user_id, day), "reset_on": day,
                                                     "messages": {}}))

    def _reset(self, change: Change, password: str | None) -> None:
        """Record a reset carried out (so it is never done twice) and queue its new-password mail."""
        assert change.after is not None
        user_id = str(change.after.get("id") or "")
        user = self._users.get(user_id)
        if user is None or user.value.password_reset is None:
            return  # only a reset org/ asked for is mailed
        day = user.value.password_reset
        entry = self._entry(change, reset_key(user_id, day), user_id, user.value.given_name, user.value.family_name,
                            self._now(), reset_on=day)
        self._queue(entry, "reset", password, "new")
        self.ledger.put(entry)

    def _kinds(self) -> Iterable[MessageKind]:
        """A created account's messages (a reset has only its own)."""
        return [k for k in ("welcome", "password") if k == "welcome" or self.settings.send_password == "separate"]

    def deliver(self) -> DeliveryReport:
        """Send every pending message, this apply's and earlier ones'; the ledger is updated as it goes."""
        report = DeliveryReport()
        try:
            for entry in list(self.ledger.entries.values()):
                if entry.outcome_unknown:  # its create did not answer: the next apply settles it
                    continue
                for kind in MESSAGE_KINDS:
                    record = entry.messages.get(kind)
                    if record is not None and record.state == "pending":
                        report.deliveries.append(self._deliver(entry, kind))
        finally:
            self._passwords.clear()
            self._sender.close()
        return report

    def _deliver(self, entry: Entry, kind: MessageKind) -> Delivery:
        password = self._passwords.pop(entry.entry, None) if kind in SECRET_MESSAGES else None
        days = self.settings.give_up_after_days
        if kind == "welcome" and self._now() - entry.created_at > dt.timedelta(days=days):
            last = entry.messages[kind].error
            return self._record(entry, kind, "cancelled", T_("not sent within {days} days of the account's creation, "
                                                             "so no longer tried (last problem: {last})",
                                                             days=days, last=last))
        try:
            recipient, template, handover = self._prepare(entry, kind, password)
            values = values_for(entry, self.settings, self.org.settings.name, recipient, template.locale)
            if password is not None:
                values["password"] = password
            if entry.reset_on is not None:
                values["requested_on"] = entry.reset_on.isoformat()
            message = build_message(
                template, values, settings=self.settings, recipient=recipient, now=self._now(),
                message_id=entry.messages[kind].message_id, handover=handover, keep_subject=kind in SECRET_MESSAGES)
            attempts = self._sender.send(message, self.settings.sender_address, recipient.address, password)
        except _Cancel as cancel:
            return self._record(entry, kind, "cancelled", cancel.args[0])
        except SendFailure as failure:
            return self._record(entry, kind, "needs_reset" if kind in SECRET_MESSAGES else "pending", failure.reason,
                                failure.attempts)
        except _NoRecipient as missing:
            return self._record(entry, kind, "needs_reset" if kind in SECRET_MESSAGES else "pending", missing.args[0],
                                waiting=True)
        except _NotNow as failure:  # its Text kept (str() of an exception is a plain, English str)
            return self._record(entry, kind, "needs_reset" if kind in SECRET_MESSAGES else "pending", failure.args[0])
        except TemplateError as failure:
            return self._record(entry, kind, "needs_reset" if kind in SECRET_MESSAGES else "pending", str(failure))
        except Exception as bug:
            if password and password in repr(bug.args):  # a bug must not carry the password to the terminal
                raise RuntimeError(f"{type(bug).__name__} while sending the {kind} mail for {entry.address} "
                                   "(its text held the password and is hidden)") from None
            raise
        return self._record(entry, kind, "sent", None, attempts, detail=Text(ROLE_ADDRESSES[recipient.role]))

    def _prepare(self, entry: Entry, kind: MessageKind,
                 password: str | None) -> tuple[Recipient, MailTemplate, MailTemplate | None]:
        user = self._users.get(entry.user_id)
        if user is None:
            raise _Cancel(T_("the person is no longer in org/users/"))
        if user.value.status != "active":
            raise _Cancel(T_("the account is {status} now", status=user.value.status))
        if kind in SECRET_MESSAGES and password is None:
            if kind == "reset":
                raise _NotNow(T_("the apply that reset the password ended before this message was sent, "
                                 "and the password was not kept"))
            raise _NotNow(T_("the apply that created the account ended before this message was sent, "
                             "and the password was not kept"))
        locale = user.value.locale or self.org.settings.defaults.locale
        template = self._templates.get((kind, locale))
        handover = self._templates.get(("handover", locale)) if self.settings.send_to == "manager" else None
        if template is None or (self.settings.send_to == "manager" and handover is None):
            raise _NotNow(T_("the {locale} templates have problems (run reconciler validate)", locale=locale))
        return self._recipient(entry, user), template, handover

    def _recipient(self, entry: Entry, user: Sourced[UserEntry]) -> Recipient:
        file = user.where.document.display_path
        if self.settings.send_to == "personal":
            if not user.value.personal_email:
                raise _NoRecipient(T_("no personal_email in {file}", file=file))
            return Recipient(entry.display_name, user.value.personal_email, "personal")
        manager = self._users.get(user.value.manager or "")
        if manager is None or not entry.manager:
            raise _NoRecipient(T_("no manager in {file}", file=file))
        m = manager.value
        return Recipient(m.display_name or display_name(m.given_name, m.family_name), entry.manager, "manager")

    def _record(self, entry: Entry, kind: MessageKind, state: MessageState, error: str | None,
                attempts: int = 0, detail: str | None = None, waiting: bool = False) -> Delivery:
        record = entry.messages[kind]
        entry.messages[kind] = record.model_copy(update={
            "state": state, "error": error, "attempts": record.attempts + attempts, "updated": self._now()})
        self.ledger.put(entry)
        outcome: DeliveryOutcome = "waiting" if waiting and state == "pending" else state
        return Delivery(entry.user_id, entry.address, kind, outcome, detail if state == "sent" else error)


# Where a sent message went, as its delivery line says it ("... to the personal address").
ROLE_ADDRESSES = {"personal": N_("personal address"), "manager": N_("manager address")}


class _NotNow(Exception):
    """The message cannot be sent in this delivery (a welcome mail waits; a password is lost)."""


class _NoRecipient(_NotNow):
    """org/ names nobody to send it to (yet)."""


class _Cancel(Exception):
    """The message should no longer be sent at all."""
