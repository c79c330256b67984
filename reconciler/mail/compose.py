"""Building the messages: who receives them, what the placeholders hold, and the headers."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from reconciler.mail.ledger import Entry, MessageKind
from reconciler.mail.templates import LINK_FIELDS, MailTemplate
from reconciler.model.onboarding import Links, MailSettings
from reconciler.providers.facts import facts_of


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    role: str  # "personal" or "manager"


def links_for(provider: str, overrides: Links) -> dict[str, str | None]:
    """Placeholder -> URL (None where neither the provider nor org.yaml has one)."""
    known = facts_of(provider).links
    return {field: getattr(overrides, key) or known.get(key) for field, key in LINK_FIELDS.items()}


def values_for(entry: Entry, settings: MailSettings, org_name: str, recipient: Recipient,
               locale: str) -> dict[str, str]:
    """What the placeholders hold for one account, in a mail of `locale`; never the password (added
    for its message only)."""
    values = {
        "org_name": org_name,
        "display_name": entry.display_name,
        "given_name": entry.given_name,
        "family_name": entry.family_name,
        "user_id": entry.user_id,
        "address": entry.address,
        "provider_name": facts_of(entry.provider).name_in(locale),
        "sender_address": settings.sender_address,
        "recipient_name": recipient.name,
    }
    values.update({k: v or "" for k, v in links_for(entry.provider, settings.links).items()})
    return values


def message_id(entry: Entry, kind: MessageKind, sender_address: str) -> str:
    """The same on every try: a receiving server that got a message already can drop the copy."""
    return f"<{entry.entry}.{kind}@{sender_address.rpartition('@')[2]}>"


def build_message(
    template: MailTemplate, values: dict[str, str], *, settings: MailSettings, recipient: Recipient,
    message_id: str, now: dt.datetime, handover: MailTemplate | None = None, keep_subject: bool = False,
) -> EmailMessage:
    """A UTF-8 text message. With `handover` (mail to the manager) its note comes first, and its
    subject replaces the template's unless `keep_subject`."""
    subject, body = template.render(values)
    if handover is not None:
        note_subject, note = handover.render(values)
        body = f"{note}\n{body}"
        subject = subject if keep_subject else note_subject
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _address(settings.sender_name, settings.sender_address)
    message["To"] = _address(recipient.name, recipient.address)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    message["X-Auto-Response-Suppress"] = "All"  # the same for Exchange
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = template.locale  # after set_content, which drops every Content-* header
    return message


def _address(name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    return Address(display_name=" ".join(name.split()), username=local, domain=domain)
