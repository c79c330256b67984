"""The doctor's reads of the embedded directory: it holds no mail of its own, so a mailbox's state
is what trials and tests plant under a record's "mailbox" (like "activity"):

    {"sign_in_blocked": false, "mail_service": true, "mail_service_detail": "...", "mailbox_ready": true,
     "rules": [{"source": "filter", "name": "...", "forwards_to": ["..."], "deletes": false,
                "redirects": false, "enabled": true}],
     "delegates": ["..."], "sign_ins": [{"at": "ISO 8601", "ip": "...", "place": "...", "how": "..."}],
     "app_grants": [{"kind": "oauth-token" | "app-password", "id": "...", "name": "...", "scopes": ["..."]}]}

and a group record's "who_can_post". A part not planted is not available (the directory cannot
say), never "fine". A deleted user's deletion time is the directory's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reconciler.errors import ProviderError
from reconciler.i18n import T_
from reconciler.mailbox import PARTS, AppGrant, AppGrants, MailboxHealth, MailRule, SignIn
from reconciler.providers.said import said


def _not_planted(key: str) -> str:
    return T_("the local directory keeps no mailboxes; nothing was planted under {key} for this address", key=key)


NOT_PLANTED = _not_planted('"mailbox"')
# A part of MailboxHealth -> the planted keys it is read from.
PLANTED_KEYS = {"account": ("sign_in_blocked",), "mail_service": ("mail_service", "mailbox_ready"),
                "forwarding": ("rules",), "rules": ("rules",), "delegates": ("delegates",),
                "sign_ins": ("sign_ins",)}


def read_mailbox(data: dict[str, Any], address: str, group: bool, path: object) -> MailboxHealth:
    address = address.lower()
    try:
        if group:
            return _group(data, address)
        for record in data["users"].values():
            if str(record["user"]["email"]).lower() == address:
                return _user(record, address)
        for record in data["deleted_users"].values():
            if str(record["user"]["email"]).lower() == address:
                return MailboxHealth(deleted_on=dt.datetime.fromisoformat(record["deleted"]),
                                     unavailable={p: NOT_PLANTED for p in PARTS if p != "deleted"})
    except (TypeError, ValueError, KeyError) as exc:
        raise said(ProviderError(), T_("{path}: the mailbox of {address} is damaged ({error})", path=str(path),
                                       address=address, error=str(exc))) from None
    return MailboxHealth.nothing(T_("{address} is not in the local directory", address=address))


def _user(record: dict[str, Any], address: str) -> MailboxHealth:
    planted = record.get("mailbox")
    planted = planted if isinstance(planted, dict) else {}
    unavailable = {part: NOT_PLANTED for part, keys in PLANTED_KEYS.items() if not any(k in planted for k in keys)}
    unavailable["posting"] = T_("only groups have who may post")
    unavailable["deleted"] = T_("{address} is not deleted", address=address)
    return MailboxHealth(
        sign_in_blocked=_flag(planted.get("sign_in_blocked")),
        password_change_required=_flag(record.get("must_change_password")),
        mail_service=_flag(planted.get("mail_service")),
        mail_service_detail=planted.get("mail_service_detail"),
        mailbox_ready=_flag(planted.get("mailbox_ready")),
        rules=tuple(MailRule(source=str(r.get("source", "rule")), name=str(r.get("name", "")),
                             id=str(r.get("id", r.get("name", ""))),
                             forwards_to=tuple(str(a).lower() for a in r.get("forwards_to", ())),
                             deletes=bool(r.get("deletes")), redirects=bool(r.get("redirects")),
                             enabled=bool(r.get("enabled", True))) for r in planted.get("rules", ())),
        delegates=tuple(str(a).lower() for a in planted.get("delegates", ())),
        sign_ins=tuple(sorted((SignIn(at=dt.datetime.fromisoformat(s["at"]), ip=s.get("ip"), place=s.get("place"),
                                      how=s.get("how")) for s in planted.get("sign_ins", ())),
                              key=lambda s: s.at, reverse=True)),
        unavailable=unavailable)


def read_app_grants(data: dict[str, Any], address: str, path: object) -> AppGrants:
    """The OAuth tokens and app passwords planted under a record's "mailbox" (none planted: none)."""
    address = address.lower()
    for record in data["users"].values():
        if str(record["user"]["email"]).lower() != address:
            continue
        planted = record.get("mailbox")
        try:
            return AppGrants(grants=tuple(
                AppGrant(kind=str(g["kind"]), id=str(g["id"]), name=str(g.get("name") or g["id"]),
                         scopes=tuple(str(s) for s in g.get("scopes", ())))
                for g in (planted.get("app_grants", ()) if isinstance(planted, dict) else ())))
        except (TypeError, KeyError, AttributeError) as exc:
            raise said(ProviderError(), T_("{path}: the mailbox of {address} is damaged ({error})", path=str(path),
                                           address=address, error=str(exc))) from None
    return AppGrants()


def remove_planted(record: dict[str, Any], what: str, key: str) -> None:
    """Take one planted access out of a user record (a freeze's removal); gone already is done."""
    planted = record.get("mailbox")
    if not isinstance(planted, dict):
        return
    if what == "delegate":
        planted["delegates"] = [d for d in planted.get("delegates", ()) if str(d).lower() != key]
    elif what in ("oauth-token", "app-password"):
        planted["app_grants"] = [g for g in planted.get("app_grants", ())
                                 if not (g.get("kind") == what and str(g.get("id")) == key)]
    elif what == "forwarding":
        planted["rules"] = [r for r in planted.get("rules", ()) if r.get("source") != "auto-forwarding"]
    else:
        planted["rules"] = [r for r in planted.get("rules", ()) if str(r.get("id", r.get("name", ""))) != key]


def _group(data: dict[str, Any], address: str) -> MailboxHealth:
    for record in data["groups"].values():
        if str(record["group"]["email"]).lower() == address:
            who = record.get("who_can_post")
            return MailboxHealth(who_can_post=str(who) if who else None,
                                 unavailable={} if who else {"posting": _not_planted('"who_can_post"')})
    return MailboxHealth.nothing(T_("{address} is not a group of the local directory", address=address))


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)
