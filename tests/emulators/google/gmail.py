"""What a doctor reads beyond the directory: Gmail's auto-forwarding, filters and delegates of one
mailbox, and a group's Groups Settings (who may post).

As at Google, the Gmail API acts as one user: a service account reaches a mailbox only through
domain-wide delegation *to that user* (the token's subject), with a Gmail scope the delegation
grants (gmail.settings.basic is the narrowest that reads settings). A token for another subject
(the admin's, say) is refused: 403 "Delegation denied for <subject>" (failedPrecondition is what
a mailbox not set up answers: "Mail service not enabled"). `userId` may be "me" or the subject's
address. Tests plant the settings with `GoogleEmulator.set_gmail`.
"""

from __future__ import annotations

from typing import Any

from .common import Call, Result, handles
from .errors import ApiError


def _mailbox(call: Call) -> dict[str, Any]:
    subject = str(call.param("_subject") or "")
    user_id = str(call.param("userId"))
    address = subject if user_id == "me" else user_id.lower()
    if address != subject:
        raise ApiError(403, "forbidden", f"Delegation denied for {subject or 'the caller'}")
    kind_id = call.store.addresses.get(address)
    user = call.store.users.get(kind_id[1]) if kind_id and kind_id[0] == "user" else None
    if user is None or "deletionTime" in user:
        raise ApiError(400, "failedPrecondition", "Precondition check failed.")
    if not user.get("isMailboxSetup", True):
        raise ApiError(400, "failedPrecondition", "Mail service not enabled")
    return call.store.gmail.setdefault(address, {})


@handles("gmail.users.settings.getAutoForwarding")
def get_auto_forwarding(call: Call) -> Result:
    settings = _mailbox(call)
    return Result(200, dict(settings.get("autoForwarding", {"enabled": False})))


@handles("gmail.users.settings.filters.list")
def list_filters(call: Call) -> Result:
    filters = _mailbox(call).get("filters", [])
    return Result(200, {"filter": list(filters)} if filters else {})


@handles("gmail.users.settings.delegates.list")
def list_delegates(call: Call) -> Result:
    delegates = _mailbox(call).get("delegates", [])
    return Result(200, {"delegates": list(delegates)} if delegates else {})


# Removals (a frozen account's): the scopes are the discovery document's, checked by the server:
# updateAutoForwarding and delegates.delete take only gmail.settings.sharing, filters.delete
# gmail.settings.basic. An id the mailbox does not hold is Gmail's 404 "Requested entity was not found."
NOT_FOUND = ("notFound", "Requested entity was not found.")


@handles("gmail.users.settings.updateAutoForwarding")
def update_auto_forwarding(call: Call) -> Result:
    settings = _mailbox(call)
    body = call.json()
    if body.get("enabled"):
        # Gmail forwards only to an address the person verified first (forwardingAddresses).
        target = str(body.get("emailAddress") or "").lower()
        verified = {str(a.get("forwardingEmail", "")).lower() for a in settings.get("forwardingAddresses", [])
                    if a.get("verificationStatus") == "accepted"}
        if target not in verified:
            raise ApiError(400, "failedPrecondition", "Unverified forwarding address")
        settings["autoForwarding"] = {"enabled": True, "emailAddress": target,
                                      "disposition": body.get("disposition", "leaveInInbox")}
    else:
        settings["autoForwarding"] = {"enabled": False}
    return Result(200, dict(settings["autoForwarding"]))


@handles("gmail.users.settings.filters.delete")
def delete_filter(call: Call) -> Result:
    filters = _mailbox(call).setdefault("filters", [])
    found = next((f for f in filters if f.get("id") == call.param("id")), None)
    if found is None:
        raise ApiError(404, *NOT_FOUND)
    filters.remove(found)
    return Result(204)


@handles("gmail.users.settings.delegates.delete")
def delete_delegate(call: Call) -> Result:
    delegates = _mailbox(call).setdefault("delegates", [])
    wanted = str(call.param("delegateEmail")).lower()
    found = next((d for d in delegates if str(d.get("delegateEmail", "")).lower() == wanted), None)
    if found is None:
        raise ApiError(404, *NOT_FOUND)
    delegates.remove(found)
    return Result(204)


# --------------------------------------------------------------------------- Groups Settings API
# A group made through the Directory API starts with "Who can post: Anyone on the web"
# (Google Workspace Admin Help, "Create and manage groups using APIs", API group defaults).
GROUP_DEFAULTS = {"whoCanPostMessage": "ANYONE_CAN_POST", "allowExternalMembers": "false",
                  "whoCanJoin": "CAN_REQUEST_TO_JOIN", "allowWebPosting": "true", "archiveOnly": "false",
                  "messageModerationLevel": "MODERATE_NONE"}


@handles("groupsSettings.groups.get")
def get_group_settings(call: Call) -> Result:
    if call.param("alt", "atom") != "json":  # the API's default is Atom; clients ask for JSON
        raise ApiError(501, "notImplemented", "The emulator serves the Groups Settings API as JSON only.")
    group = call.store.group_by_key(str(call.param("groupUniqueId")).lower())
    if group is None:
        raise ApiError(404, "notFound", "Resource Not Found: groupUniqueId")
    settings = call.store.group_settings.setdefault(group["id"], dict(GROUP_DEFAULTS))
    return Result(200, {"kind": "groupsSettings#groups", "email": group["email"], "name": group.get("name", ""),
                        "description": group.get("description", ""), **settings})
