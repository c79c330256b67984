"""What a domestic provider's plan of a local scenario is compared on: the changes it can make,
with the fields it has no place for left out, and department paths under the names it uses."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

Projected = tuple[str, str, str, tuple[str, ...]]


def project(changes: list[dict[str, Any]], named: Mapping[str, str], unsupported: Set[str],
            ignored: Mapping[str, Set[str]], external_members: bool = True) -> list[Projected]:
    """`unsupported`: kinds the provider does not manage; `ignored`: per kind, fields it does not
    hold; `named`: org unit path -> the path of names the provider shows; `external_members`:
    whether it holds members from outside the company."""
    out = []
    for c in changes:
        side = c.get("after") or c.get("before") or {}
        if c["kind"] in unsupported:
            continue
        if c["kind"] == "alias" and side.get("target_kind") == "group":
            continue
        if not external_members and c["kind"] == "membership" and side.get("member_type") == "external":
            continue
        changed = tuple(f for f in c.get("changed", []) if f not in ignored.get(c["kind"], set()))
        if c["action"] == "update" and c.get("changed") and not changed and not c.get("security"):
            continue
        key = named.get(c["key"], c["key"]) if c["kind"] == "orgunit" else c["key"]
        out.append((str(c["action"]), str(c["kind"]), key, changed))
    return sorted(out)
