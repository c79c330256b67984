"""The doctor's reads of one Google Workspace mailbox.

- Directory API `users.get`: suspended, changePasswordAtNextLogin, isMailboxSetup ("only
  applicable if the user has been assigned a Gmail license": false means no Gmail mailbox);
  for a deleted user, `users.list(showDeleted=true)` gives its deletionTime.
- Gmail API, acting as the person (domain-wide delegation to that user, scope
  gmail.settings.basic): `users.settings.getAutoForwarding` (enabled, emailAddress,
  disposition), `users.settings.filters.list` (action.forward; addLabelIds TRASH deletes),
  `users.settings.delegates.list` (delegateEmail, verificationStatus).
- Groups Settings API `groups.get` (scope apps.groups.settings): a group's whoCanPostMessage.
- Not read: recent sign-ins (the Reports API's login events give addresses, not places): said
  unavailable.

A refused token or call leaves its parts unavailable, naming the scope; it never fails.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from reconciler.i18n import T_, Text
from reconciler.mailbox import MailboxHealth, MailRule
from reconciler.providers.google.client import SCOPE_GMAIL_SETTINGS, SCOPE_GROUPS_SETTINGS, Clients
from reconciler.providers.google.fetch import RETRIES, list_all

USER_FIELDS = "primaryEmail,suspended,changePasswordAtNextLogin,isMailboxSetup"
DELEGATION_PAGE = "Admin console > Security > Access and data control > API controls > Manage domain-wide delegation"


def needs(scope: str) -> Text:
    """What a refused call needs: `scope` in the domain-wide delegation, and where that is set."""
    return T_("it needs {scope} in the service account's domain-wide delegation ({place})", scope=scope,
              place=DELEGATION_PAGE)


GMAIL_NEEDS = needs(SCOPE_GMAIL_SETTINGS)
SIGN_INS = T_("Google's login audit gives sign-in addresses but no places; see {place}",
              place="Admin console > Reporting > Audit and investigation > User log events")
POSTING_NEEDS = needs(SCOPE_GROUPS_SETTINGS)
# whoCanPostMessage, in the words of the Admin console's "Who can post".
WHO_CAN_POST = {
    "ANYONE_CAN_POST": T_("anyone, also outside the company"), "ALL_IN_DOMAIN_CAN_POST": T_("anyone in the company"),
    "ALL_MEMBERS_CAN_POST": T_("the group's members"), "ALL_MANAGERS_CAN_POST": T_("the group's managers and owners"),
    "ALL_OWNERS_CAN_POST": T_("the group's owners"), "NONE_CAN_POST": T_("nobody (the group is archived)"),
}
NO_GMAIL = T_("no Gmail mailbox: the account holds no licence that includes Gmail, or Gmail is off for its "
              "organisational unit ({place})", place="Admin console > Apps > Google Workspace > Gmail > Service status")
GMAIL_PARTS = ("forwarding", "rules", "delegates")
# Google mints no token to act as a suspended user (invalid_grant "Invalid email or User ID"), and a
# suspended account receives no new mail: its Gmail settings are neither readable nor in use.
SUSPENDED = T_("Google lets no one act as a suspended account, so its Gmail settings cannot be read; a suspended "
               "account receives no mail, so they do nothing while it stays suspended")


def read_mailbox(clients: Clients, customer: str, address: str, group: bool) -> MailboxHealth:
    if group:
        return _group(clients, address)
    health = MailboxHealth(unavailable={"sign_ins": SIGN_INS})
    try:
        user = dict(clients.directory.users().get(userKey=address, fields=USER_FIELDS).execute(num_retries=RETRIES))
    except HttpError as exc:
        if int(exc.resp.status) != 404:
            raise
        return _deleted(clients, customer, address, health)
    health.password_change_required = bool(user.get("changePasswordAtNextLogin"))
    health.mailbox_ready = bool(user.get("isMailboxSetup", True))
    health.mail_service = health.mailbox_ready
    health.mail_service_detail = "Gmail" if health.mailbox_ready else NO_GMAIL
    if health.mailbox_ready and user.get("suspended"):
        health.dormant = True
        health.unavailable.update({p: SUSPENDED for p in GMAIL_PARTS})
    elif health.mailbox_ready:
        _gmail(clients, address, health)
    else:
        health.unavailable.update({p: T_("there is no Gmail mailbox to read") for p in GMAIL_PARTS})
    return health


def _group(clients: Clients, address: str) -> MailboxHealth:
    if clients.groups_settings is None:
        return MailboxHealth(unavailable={"posting": T_("no Groups Settings client was built")})
    try:
        settings = clients.groups_settings.groups().get(groupUniqueId=address, alt="json").execute(num_retries=RETRIES)
    except RefreshError as exc:
        return MailboxHealth(unavailable={"posting": T_("Google refused a Groups Settings token ({error}): {needs}",
                                                        error=first_line(exc), needs=POSTING_NEEDS)})
    except HttpError as exc:
        if int(exc.resp.status) not in (401, 403, 404):
            raise
        answer = f"{int(exc.resp.status)} {_reason(exc)}"
        return MailboxHealth(unavailable={"posting": T_("the Groups Settings API refused ({error}): {needs}",
                                                        error=answer, needs=POSTING_NEEDS)})
    who = str(settings.get("whoCanPostMessage") or "")
    return MailboxHealth(who_can_post=WHO_CAN_POST.get(who, who) or None)


def _deleted(clients: Clients, customer: str, address: str, health: MailboxHealth) -> MailboxHealth:
    for user in list_all(clients.directory.users(), "users", customer=customer, maxResults=500, showDeleted="true",
                         fields="nextPageToken,users(primaryEmail,deletionTime)"):
        if str(user.get("primaryEmail", "")).lower() == address and user.get("deletionTime"):
            health.deleted_on = dt.datetime.fromisoformat(str(user["deletionTime"]).replace("Z", "+00:00"))
            return health
    health.unavailable["deleted"] = T_("Google lists no deleted user {address}", address=address)
    return health


def _gmail(clients: Clients, address: str, health: MailboxHealth) -> None:
    if clients.gmail_as is None:
        health.unavailable.update({p: T_("no Gmail client was built") for p in GMAIL_PARTS})
        return
    gmail = clients.gmail_as(address)
    settings = gmail.users().settings()
    try:
        forwarding: dict[str, Any] = settings.getAutoForwarding(userId=address).execute(num_retries=RETRIES)
        filters = settings.filters().list(userId=address).execute(num_retries=RETRIES).get("filter", [])
        delegates = settings.delegates().list(userId=address).execute(num_retries=RETRIES).get("delegates", [])
    except RefreshError as exc:
        why = T_("Google refused a Gmail token ({error}): {needs}", error=first_line(exc), needs=GMAIL_NEEDS)
        health.unavailable.update({p: why for p in GMAIL_PARTS})
        return
    except HttpError as exc:
        if int(exc.resp.status) not in (400, 401, 403):
            raise
        answer = f"{int(exc.resp.status)} {_reason(exc)}"
        why = T_("Gmail refused ({error}): {needs}", error=answer, needs=GMAIL_NEEDS)
        health.unavailable.update({p: why for p in GMAIL_PARTS})
        return
    finally:
        gmail.close()
    rules: list[MailRule] = []
    if forwarding.get("enabled") and forwarding.get("emailAddress"):
        disposition = str(forwarding.get("disposition", "leaveInInbox"))
        rules.append(MailRule(source="auto-forwarding", name="", forwards_to=(str(forwarding["emailAddress"]).lower(),),
                              deletes=disposition == "trash", redirects=disposition in ("trash", "archive")))
    for item in filters:
        action = item.get("action", {})
        target = action.get("forward")
        deletes = "TRASH" in action.get("addLabelIds", [])
        if target or deletes:
            rules.append(MailRule(source="filter", name=str(item.get("id", "")), id=str(item.get("id", "")),
                                  forwards_to=(str(target).lower(),) if target else (), deletes=deletes))
    health.rules = tuple(rules)
    health.delegates = tuple(str(d["delegateEmail"]).lower() for d in delegates
                             if d.get("delegateEmail") and d.get("verificationStatus", "accepted") == "accepted")


def _reason(exc: HttpError) -> str:
    try:
        return str(exc.error_details[0].get("message")) if exc.error_details else str(exc.reason)
    except (AttributeError, IndexError, TypeError):
        return str(exc.reason)


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
