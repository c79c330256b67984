"""What a provider can tell about one mailbox beyond the directory, read for `reconciler
doctor ADDRESS`: whether the account may sign in, whether mail is switched on for it, what
it does with incoming mail (forwarding, rules, delegates), where it signed in from, and for a
group who may post to it. Read for one address at a time, by the doctor, and by a plan for each
account org/ sets `status: frozen` (plan/incident.py), which plans the removal of what it finds.

Each part a provider cannot read is named in `unavailable` (part -> why, one line), so the
doctor says "not available" instead of guessing; a part it read and found empty is not there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The parts of a MailboxHealth a provider may be unable to read (keys of `unavailable`).
PARTS = ("account", "mail_service", "forwarding", "rules", "delegates", "sign_ins", "deleted", "posting")


@dataclass(frozen=True)
class MailRule:
    """Something in the mailbox that sends incoming mail elsewhere or throws it away."""

    source: str  # where it is set, as the console names it: "auto-forwarding", "filter", "inbox rule"
    name: str  # the rule's name or id, so the admin can find it
    forwards_to: tuple[str, ...] = ()  # addresses a copy (or the message itself) goes to
    deletes: bool = False  # the message is deleted or moved to the trash
    redirects: bool = False  # the message goes elsewhere without staying in this mailbox
    enabled: bool = True
    id: str = ""  # what the provider removes it by (a filter's or rule's id); "" for auto-forwarding


@dataclass(frozen=True)
class AppGrant:
    """An app the person let into the account without a password prompt next time: an OAuth token
    (listed by client id and app name, never the token itself) or an app password (by its id and
    name, never the password)."""

    kind: str  # "oauth-token" or "app-password"
    id: str  # the client id or the app password's code id: what the provider revokes it by
    name: str  # the app's name as the person saw it (displayText, the app password's label)
    scopes: tuple[str, ...] = ()  # what an OAuth token may do
    created: dt.datetime | None = None
    last_used: dt.datetime | None = None


@dataclass
class AppGrants:
    """One account's OAuth tokens and app passwords, or why they could not be listed."""

    grants: tuple[AppGrant, ...] = ()
    unavailable: str | None = None  # why they could not be read (a refused grant names the grant)


@dataclass(frozen=True)
class SignIn:
    """One sign-in the provider logged."""

    at: dt.datetime  # aware, UTC
    ip: str | None = None
    place: str | None = None  # country (or city) as the provider gives it; None: it gives none
    how: str | None = None  # web, client, mobile... as the provider says


@dataclass
class MailboxHealth:
    """One address's mailbox as the provider sees it; None means the provider did not say."""

    sign_in_blocked: bool | None = None  # the account may not sign in (beyond suspension)
    password_change_required: bool | None = None  # a new password must be chosen at the next sign-in
    mail_service: bool | None = None  # a licence or service plan that carries mail is on
    mail_service_detail: str | None = None  # which one, or why not, as the console names it
    mailbox_ready: bool | None = None  # the mailbox has been provisioned (new accounts take a while)
    rules: tuple[MailRule, ...] = ()
    delegates: tuple[str, ...] = ()  # addresses that may read and send as this mailbox
    sign_ins: tuple[SignIn, ...] = ()  # recent sign-ins, newest first
    deleted_on: dt.datetime | None = None  # for a deleted account: when it was deleted
    who_can_post: str | None = None  # for a group: "anyone", "organisation", "members", "owners", or as given
    unavailable: dict[str, str] = field(default_factory=dict)  # part (PARTS) -> why, one line

    @staticmethod
    def nothing(why: str) -> MailboxHealth:
        """A provider that reads none of it."""
        return MailboxHealth(unavailable={part: why for part in PARTS})
