"""Directory API: the OAuth tokens and app passwords (ASPs) a user issued, listed and revoked by an admin.

As at Google: the scope is admin.directory.user.security (the discovery document's, checked by
the server); `userKey` is an address, alias or id of an existing user; a token is found by its
`clientId` and an app password by its `codeId` (an int32), and one the user does not hold is
404 "Resource Not Found: clientId" (or codeId). A list holds `items` only when there are some.
Neither resource carries the token or the password itself. Tests plant them with
`GoogleEmulator.set_app_grants`.
"""

from __future__ import annotations

from typing import Any

from .common import Call, Result, handles, ok
from .errors import invalid, not_found
from .users import active_user


def _grants(call: Call) -> dict[str, list[dict[str, Any]]]:
    user = active_user(call, call.params["userKey"])
    return call.store.app_grants.setdefault(user["id"], {"tokens": [], "asps": []})


def _listed(kind: str, items: list[dict[str, Any]]) -> Result:
    return Result(200, {"kind": kind, "items": list(items)} if items else {"kind": kind})


@handles("directory.tokens.list")
def list_tokens(call: Call) -> Result:
    return _listed("admin#directory#tokenList", _grants(call)["tokens"])


def _token(call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    tokens = _grants(call)["tokens"]
    found = next((t for t in tokens if t.get("clientId") == call.params["clientId"]), None)
    if found is None:
        raise not_found("clientId")
    return tokens, found


@handles("directory.tokens.get")
def get_token(call: Call) -> Result:
    return Result(200, _token(call)[1])


@handles("directory.tokens.delete")
def delete_token(call: Call) -> Result:
    tokens, found = _token(call)
    tokens.remove(found)
    return ok()


@handles("directory.asps.list")
def list_asps(call: Call) -> Result:
    return _listed("admin#directory#aspList", _grants(call)["asps"])


def _asp(call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    try:
        code = int(call.params["codeId"])
    except ValueError:
        raise invalid("Invalid value for: codeId") from None
    asps = _grants(call)["asps"]
    found = next((a for a in asps if int(a.get("codeId", -1)) == code), None)
    if found is None:
        raise not_found("codeId")
    return asps, found


@handles("directory.asps.get")
def get_asp(call: Call) -> Result:
    return Result(200, _asp(call)[1])


@handles("directory.asps.delete")
def delete_asp(call: Call) -> Result:
    asps, found = _asp(call)
    asps.remove(found)
    return ok()
