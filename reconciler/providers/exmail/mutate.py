"""Carrying out one wave of changes at Exmail, one call at a time (Exmail has no batch call).

What Tencent forces on us:
- `user/update` leaves out what it is not given, so only the fields a change changes are sent
  (never empty defaults that would clear aliases or the first-sign-in flag);
- a user's aliases (`slaves`, at most 5) and a group's member lists are replaced whole, so the
  alias and membership changes of a wave are gathered per owner into one call carrying the
  full new list;
- `group/create` needs at least one member, so a new group is created with the members org/
  gives it that already exist (its membership changes then find them there);
- a create whose answer is lost may have been made: it is looked up by its key (the address, or
  the department's name under its parent) before it is sent again (providers/retrying.py).
"""

from __future__ import annotations

import functools
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.changes import Change, ChangeResult
from reconciler.i18n import T_
from reconciler.providers.exmail.client import ExmailClient, ExmailError
from reconciler.providers.exmail.directory import NO_GROUP, NO_USER, ROOT, Directory, GroupLists
from reconciler.providers.retrying import create_once
from reconciler.providers.steps import Unsupported, attempt, result_of
from reconciler.state import Kind

# Canonical user field -> user/create|update field.
USER_FIELDS = {"display_name": "name", "title": "position", "phone": "mobile", "id": "extid"}
ALLOW_COMPANY, ALLOW_ANYONE = 0, 1
# useroption types (功能设置, doc#10020): 1 force secure login (微信动态码), 2 IMAP/SMTP, 3 POP/SMTP.
LOCKED_DOWN = [{"type": 1, "value": "1"}, {"type": 2, "value": "0"}, {"type": 3, "value": "0"}]
ORDER: tuple[Kind, ...] = ("orgunit", "user", "group", "alias", "membership")
# What a create meets when the object is there already (WeCom's codes: see the emulator).
USER_EXISTS, NAME_EXISTS = 60102, 60008


def random_password() -> str:
    """Letters and digits only (the reference asks for 英文和数字), 20 of them: for resets."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


class Mutations:
    def __init__(self, client: ExmailClient, found: Directory, desired_members: Mapping[str, list[tuple[str, str]]],
                 group_kinds: Mapping[str, str | None]) -> None:
        self.client = client
        self.found = found
        self.desired_members = desired_members  # group -> [(member, "user" | "group")], from org/
        self.group_kinds = group_kinds  # group -> org/'s type (mailbox groups take mail from anyone)

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        results: dict[int, ChangeResult] = {}
        indexed = list(enumerate(wave))
        for kind in ORDER:
            mine = [(i, c) for i, c in indexed if c.kind == kind]
            if kind == "alias":
                results.update(self._aliases(mine))
                continue
            if kind == "membership":
                by_group: dict[str, list[tuple[int, Change]]] = {}
                for i, change in mine:
                    by_group.setdefault(_owner(change), []).append((i, change))
                for group, changes in by_group.items():
                    replace = functools.partial(self._replace_members, group, [c for _, c in changes])
                    outcome = attempt(replace, ExmailError)
                    for i, change in changes:
                        results[i] = result_of(change, outcome)
                continue
            for i, change in mine:
                step = functools.partial(self._one, change, passwords.get(change.key))
                results[i] = result_of(change, attempt(step, ExmailError))
        for i, change in indexed:  # kinds Exmail has no place for never reach here (supports)
            results.setdefault(i, ChangeResult(change, "failed", f"Exmail cannot manage {change.kind}s",
                                               code="unsupported"))
        return [results[i] for i in range(len(wave))]


    def _one(self, change: Change, password: str | None) -> None:
        if change.kind == "orgunit":
            self._orgunit(change)
        elif change.kind == "user":
            self._user(change, password)
        elif change.kind == "group":
            self._group(change)

    # ------------------------------------------------------------------ departments

    def _orgunit(self, change: Change) -> None:
        found = self.found
        if change.action == "create":
            path = change.key
            parent = path.rsplit("/", 1)[0] or "/"
            parent_id = found.id_of.get(parent)
            if parent_id is None:
                raise ExmailError("department/create", -1, f"the parent department {parent} does not exist")
            name = path.rsplit("/", 1)[1]
            body = self._create(lambda: self.client.post("department/create", {"name": name, "parentid": parent_id}),
                                lambda: self._find_department(parent_id, name), f"department {path}", NAME_EXISTS)
            new_id = int(body["id"])
            found.id_of[path], found.path_of[new_id], found.parent_of[new_id] = new_id, path, parent_id
        elif change.action == "delete":
            dept_id = found.id_of.get(change.key)
            if dept_id is None or dept_id == ROOT:
                return  # gone already (a re-run after a crash)
            self.client.get("department/delete", id=dept_id)
            del found.id_of[change.key]
        elif change.action == "update" and change.after is not None and "name" in change.changed:
            dept_id = found.id_of[change.key]
            self.client.post("department/update", {"id": dept_id, "name": change.after["name"]})

    # ------------------------------------------------------------------ users

    def _user(self, change: Change, password: str | None) -> None:
        if change.action == "delete":
            self.client.get("user/delete", userid=change.key)
            self.found.users.discard(change.key)
            return
        assert change.after is not None
        after = change.after
        if change.action == "create":
            self._create_user(change, after, password)
            return
        if change.before_key != change.key:
            raise Unsupported(T_("{old} -> {new}: Exmail's API cannot change a member's address (userid); keep the "
                                 "old address in org/ (email:) and give the new one as an alias, or rename the "
                                 "account in the admin console first", old=change.before_key, new=change.key))
        update = self._update_body(change, change.after, password)
        if len(update) > 1:
            self.client.post("user/update", update)
            if "cpwd_login" in update:
                self.found.must_change[change.key] = True
        self._lock_down(change)

    def _update_body(self, change: Change, after: Mapping[str, Any], password: str | None = None) -> dict[str, Any]:
        """Only what the change changes: user/update leaves out what it is not given."""
        update: dict[str, Any] = {"userid": change.key}
        for name in change.changed:
            if name in USER_FIELDS and after.get(name) is not None:
                update[USER_FIELDS[name]] = after[name]
            elif name == "orgunit" and after.get("orgunit"):
                update["department"] = [self._department(after)]
        if change.action == "suspend" or (change.action == "update" and after.get("suspended") is True
                                          and "suspended" in change.changed):
            update["enable"] = 0
        elif change.action == "restore" or ("suspended" in change.changed and after.get("suspended") is False):
            update["enable"] = 1
        if "reset_password" in change.effects:
            # The apply's password when org/ asked for this reset (mailed to the person); else one sent
            # nowhere (the account is being closed or frozen).
            update["password"] = password or random_password()
            update["cpwd_login"] = 1  # and whoever opens it again chooses a new one (plan/frozen.py reads it)
        if "require_password_change" in change.effects:
            update["cpwd_login"] = 1
        return update

    def _lock_down(self, change: Change) -> None:
        """Frozen for an incident: mail clients off and secure login forced, so a leaked client
        password cannot read mail once the account is enabled again (needs the 功能设置 secret)."""
        freezing = change.security and (change.action == "suspend" or "reset_password" in change.effects)
        if freezing and self.client.has_secret("option"):
            self.client.post("useroption/update", {"userid": change.key, "option": LOCKED_DOWN})

    def _create_user(self, change: Change, after: Mapping[str, Any], password: str | None) -> None:
        if not password:
            raise Unsupported(T_("{address}: Exmail creates a member only with a password, and this apply has none "
                                 "for it", address=change.key))
        body: dict[str, Any] = {"userid": change.key, "name": after.get("display_name") or
                                change.key.split("@")[0], "department": [self._department(after)],
                                "password": password, "cpwd_login": 1}
        body.update({api: after[ours] for ours, api in USER_FIELDS.items()
                     if ours != "display_name" and after.get(ours)})
        self._create(lambda: self.client.post("user/create", body),
                     lambda: self._find("user/get", NO_USER, userid=change.key), change.key, USER_EXISTS)
        self.found.users.add(change.key)
        self.found.slaves[change.key] = []
        if after.get("suspended"):
            self.client.post("user/update", {"userid": change.key, "enable": 0})

    # ------------------------------------------------------------------ creates, once

    def _create(self, create: Callable[[], dict[str, Any]], find: Callable[[], dict[str, Any] | None], what: str,
                exists: int) -> dict[str, Any]:
        return create_once(create, find, exists=lambda e: isinstance(e, ExmailError) and e.errcode == exists,
                           what=f"Exmail: create {what}", sleep=self.client.sleep,
                           give_up=lambda reason: ExmailError(f"create {what}", -1, reason))

    def _find(self, path: str, missing: int, **key: Any) -> dict[str, Any] | None:
        try:
            return self.client.get(path, **key)
        except ExmailError as refused:
            if refused.errcode == missing:
                return None
            raise

    def _find_department(self, parent_id: int, name: str) -> dict[str, Any] | None:
        below = self.client.get("department/list", id=parent_id).get("department", [])
        return next((d for d in below if d.get("parentid") == parent_id and d.get("name") == name), None)

    def _department(self, after: Mapping[str, Any]) -> int:
        path = after.get("orgunit") or "/"
        dept_id = self.found.id_of.get(path)
        if dept_id is None:
            raise ExmailError("user", -1, f"department {path} does not exist at Exmail")
        return dept_id

    # ------------------------------------------------------------------ groups

    def _group(self, change: Change) -> None:
        found = self.found
        if change.action == "delete":
            self.client.get("group/delete", groupid=change.key)
            found.groups.pop(change.key, None)
            return
        assert change.after is not None
        name = change.after.get("name") or change.key.split("@")[0]
        if change.action == "update":
            if "name" in change.changed:
                self.client.post("group/update", {"groupid": change.key, "groupname": name})
                found.groups[change.key].name = name
            return
        members = self.desired_members.get(change.key, [])
        lists = GroupLists(name=name,
                           users=[m for m, t in members if t == "user" and m in found.users],
                           groups=[m for m, t in members if t == "group" and m in found.groups],
                           allow_type=ALLOW_ANYONE if self.group_kinds.get(change.key) == "mailbox" else ALLOW_COMPANY)
        if not lists.users and not lists.groups:
            raise Unsupported(T_("{address}: Exmail creates a mail group only with at least one member, and none of "
                                 "its members exists at Exmail yet; give it a member, or run apply again once they "
                                 "exist", address=change.key))
        body: dict[str, Any] = {"groupid": change.key, "groupname": name, "allow_type": lists.allow_type}
        if lists.users:
            body["userlist"] = lists.users
        if lists.groups:
            body["grouplist"] = lists.groups
        self._create(lambda: self.client.post("group/create", body),
                     lambda: self._find("group/get", NO_GROUP, groupid=change.key), change.key, USER_EXISTS)
        found.groups[change.key] = lists

    # ------------------------------------------------------------------ whole lists

    def _aliases(self, mine: list[tuple[int, Change]]) -> dict[int, ChangeResult]:
        """Each person's aliases in one whole-list call. An alias moving from one person to another
        first leaves its old owner (one call without it), since Exmail refuses an address in use."""
        removals: dict[str, list[str]] = {}
        additions: dict[str, list[str]] = {}
        involved: dict[str, list[int]] = {}
        for i, change in mine:
            if change.before is not None and change.action in ("delete", "update"):
                owner = str(change.before["target"])
                removals.setdefault(owner, []).append(str(change.before["address"]))
                involved.setdefault(owner, []).append(i)
            if change.after is not None and change.action in ("create", "update"):
                owner = str(change.after["target"])
                additions.setdefault(owner, []).append(str(change.after["address"]))
                involved.setdefault(owner, []).append(i)
        moving = {a for owner, gone in removals.items() for a in gone
                  if any(a in added for other, added in additions.items() if other != owner)}
        failed: dict[int, tuple[str, str | None]] = {}

        def send(owner: str, wanted: list[str]) -> None:
            if wanted == self.found.slaves.get(owner, []):
                return
            outcome = attempt(functools.partial(self._set_slaves, owner, wanted), ExmailError)
            if outcome[0] != "applied":
                for i in involved[owner]:
                    failed.setdefault(i, outcome)

        for owner, gone in removals.items():
            if moving & set(gone):
                send(owner, [a for a in self.found.slaves.get(owner, []) if a not in gone])
        for owner in involved:
            held = [a for a in self.found.slaves.get(owner, []) if a not in removals.get(owner, [])]
            send(owner, held + [a for a in additions.get(owner, []) if a not in held])
        return {i: result_of(change, failed.get(i, ("applied", None))) for i, change in mine}

    def _set_slaves(self, user: str, wanted: list[str]) -> None:
        self.client.post("user/update", {"userid": user, "slaves": wanted})
        self.found.slaves[user] = wanted

    def _replace_members(self, group: str, changes: list[Change]) -> None:
        lists = self.found.groups.get(group)
        if lists is None:
            raise ExmailError("group/update", -1, f"the mail group {group} does not exist at Exmail")
        users, groups = list(lists.users), list(lists.groups)
        for change in changes:
            if change.before is not None and change.action in ("delete", "update"):
                member = str(change.before["member"])
                for held in (users, groups):
                    if member in held:
                        held.remove(member)
            if change.after is not None and change.action in ("create", "update"):
                member, member_type = str(change.after["member"]), change.after.get("member_type", "user")
                held = groups if member_type == "group" else users
                if member not in held:
                    held.append(member)
        body: dict[str, Any] = {"groupid": group}
        if users != lists.users:
            body["userlist"] = users
        if groups != lists.groups:
            body["grouplist"] = groups
        if len(body) == 1:
            return  # already as wanted (a new group was created with these members)
        if not users and not groups and not lists.departments:
            raise Unsupported(T_("{group}: Exmail keeps at least one member in a mail group; delete the group "
                                 "instead of removing its last member", group=group))
        self.client.post("group/update", body)
        lists.users, lists.groups = users, groups


def _owner(change: Change) -> str:
    data = change.after if change.after is not None else change.before
    assert data is not None
    return str(data["target"] if change.kind == "alias" else data["group"])

