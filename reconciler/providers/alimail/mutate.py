"""Carrying out one wave of changes at Alibaba Mail, one call at a time (no batch call exists).

- `PATCH /v2/users/{email}` is sent only the fields a change changes;
- aliases are added and removed one by one (`POST|DELETE /v2/users/{email}/emailAliases
  {alias}`): a wave's removals go first, so an alias moving between people leaves its old owner
  before the new one asks for it (the service refuses an address in use: 409);
- suspending is `status: FREEZE`, restoring `status: NORMAL`;
- a manager is no hard dependency (people of one plan name each other, and the service refuses
  a `managerEmail` that is no account yet): it is set once its account exists, at the end of
  the wave that creates it;
- what the open platform's pages do not confirm (resetting a password, ending sessions) is never
  guessed at: the plan says it is left out (provider.review_changes), and a change that asks for
  nothing else is reported unsupported;
- a create (an account, a department, an alias) whose answer is lost may have been made: it is
  looked up by its key before it is sent again (providers/retrying.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.changes import Change, ChangeResult
from reconciler.i18n import T_
from reconciler.providers.alimail.client import AlimailClient, AlimailError
from reconciler.providers.alimail.directory import FROZEN, NORMAL, ROOT, Directory, paged
from reconciler.providers.retrying import create_once
from reconciler.providers.steps import Unsupported, attempt, result_of
from reconciler.state import Kind

# Canonical user field -> the account's field.
USER_FIELDS = {"display_name": "name", "title": "jobTitle", "phone": "phone", "id": "employeeNo",
               "manager": "managerEmail"}
# Effects the open platform has no confirmed call for (see the README's Alibaba Mail section).
UNCONFIRMED_EFFECTS = ("reset_password", "require_password_change", "sign_out")
ORDER: tuple[Kind, ...] = ("orgunit", "user", "alias")


class Mutations:
    def __init__(self, client: AlimailClient, found: Directory, pending_managers: dict[str, str]) -> None:
        self.client = client
        self.found = found
        self.pending_managers = pending_managers  # account -> manager not yet an account (kept across waves)

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        results: dict[int, ChangeResult] = {}
        indexed = list(enumerate(wave))
        for kind in ORDER:
            mine = [(i, c) for i, c in indexed if c.kind == kind]
            if kind == "alias":  # removals first: a moving alias leaves its old owner before it is added
                mine.sort(key=lambda ic: 0 if ic[1].action == "delete" else 1)
            for i, change in mine:
                step = functools.partial(self._one, change, passwords.get(change.key))
                results[i] = result_of(change, attempt(step, AlimailError))
        self._set_pending_managers()
        for i, change in indexed:  # kinds Alibaba Mail has no place for never reach here (supports)
            results.setdefault(i, ChangeResult(change, "failed", f"Alibaba Mail cannot manage {change.kind}s here",
                                               code="unsupported"))
        return [results[i] for i in range(len(wave))]


    def _one(self, change: Change, password: str | None) -> None:
        if change.kind == "orgunit":
            self._orgunit(change)
        elif change.kind == "user":
            self._user(change, password)
        elif change.kind == "alias":
            self._alias(change)

    # ------------------------------------------------------------------ departments

    def _orgunit(self, change: Change) -> None:
        found = self.found
        if change.action == "create":
            path = change.key
            parent_id = found.id_of.get(path.rsplit("/", 1)[0] or "/")
            if parent_id is None:
                raise AlimailError("POST", "departments", 404, "", f"the parent of {path} does not exist")
            name = path.rsplit("/", 1)[1]
            body = self._create(lambda: self.client.call("POST", "departments", body={"name": name,
                                                                                      "parentId": parent_id}),
                                lambda: self._find_department(parent_id, name), f"department {path}")
            new_id = str(body["id"])
            found.id_of[path], found.path_of[new_id] = new_id, path
        elif change.action == "delete":
            dept_id = found.id_of.get(change.key)
            if dept_id is None or dept_id == ROOT:
                return  # gone already (a re-run after a crash)
            self.client.call("DELETE", f"departments/{dept_id}")
            del found.id_of[change.key]
        elif change.action == "update" and change.after is not None and "name" in change.changed:
            dept_id = found.id_of[change.key]
            self.client.call("PATCH", f"departments/{dept_id}", body={"name": change.after["name"]})

    # ------------------------------------------------------------------ users

    def _user(self, change: Change, password: str | None) -> None:
        if change.action == "delete":
            self.client.call("DELETE", f"users/{change.key}")
            self.found.accounts.pop(change.key, None)
            self.found.aliases.pop(change.key, None)  # they went with the account: their deletes are done
            return
        assert change.after is not None
        after = change.after
        if change.action == "create":
            self._create_user(change, after, password)
            return
        if change.before_key != change.key:
            raise Unsupported(T_("{old} -> {new}: Alibaba Mail's documented API cannot change an account's address; "
                                 "keep the old address in org/ (email:) and give the new one as an alias, or rename "
                                 "the account in the admin console first", old=change.before_key, new=change.key))
        patch: dict[str, Any] = {}
        for name in change.changed:
            if name == "manager" and after.get("manager") and after["manager"] not in self.found.accounts:
                self.pending_managers[change.key] = after["manager"]
            elif name in USER_FIELDS and name in after:
                patch[USER_FIELDS[name]] = after.get(name) or ""
            elif name == "orgunit" and after.get("orgunit"):
                patch["departmentIds"] = [self._department(after)]
        if change.action == "suspend" or ("suspended" in change.changed and after.get("suspended") is True):
            patch["status"] = FROZEN
        elif change.action == "restore" or ("suspended" in change.changed and after.get("suspended") is False):
            patch["status"] = NORMAL
        if patch:
            self.client.call("PATCH", f"users/{change.key}", body=patch)
        elif any(e in change.effects for e in UNCONFIRMED_EFFECTS):
            effects = " or ".join(e.replace("_", " ") for e in change.effects if e in UNCONFIRMED_EFFECTS)
            raise Unsupported(T_("{address}: Alibaba Mail's documented API cannot {effects}; do it in the admin "
                                 "console", address=change.key, effects=effects))

    def _create_user(self, change: Change, after: Mapping[str, Any], password: str | None) -> None:
        if not password:
            raise Unsupported(T_("{address}: Alibaba Mail creates an account only with a password, and this apply "
                                 "has none for it", address=change.key))
        body: dict[str, Any] = {"email": change.key, "password": password,
                                "name": after.get("display_name") or change.key.split("@")[0],
                                "departmentIds": [self._department(after)], "forceChangePasswordNextSignIn": True}
        body.update({api: after[ours] for ours, api in USER_FIELDS.items()
                     if ours != "display_name" and after.get(ours)})
        if after.get("manager") and after["manager"] not in self.found.accounts:
            self.pending_managers[change.key] = body.pop("managerEmail")
        if after.get("suspended"):
            body["status"] = FROZEN
        created = self._create(lambda: self.client.call("POST", "users", body=body),
                               lambda: self._find(f"users/{change.key}"), change.key)
        self.found.accounts[change.key] = created
        self.found.aliases[change.key] = []

    # ------------------------------------------------------------------ creates, once

    def _create(self, create: Callable[[], dict[str, Any]], find: Callable[[], dict[str, Any] | None],
                what: str) -> dict[str, Any]:
        return create_once(create, find, exists=lambda e: isinstance(e, AlimailError) and e.status == 409,
                           what=f"Alibaba Mail: create {what}", sleep=self.client.sleep,
                           give_up=lambda reason: AlimailError("POST", f"create {what}", 0, "", reason))

    def _find(self, path: str) -> dict[str, Any] | None:
        try:
            return self.client.get(path)
        except AlimailError as refused:
            if refused.status == 404:
                return None
            raise

    def _find_department(self, parent_id: str, name: str) -> dict[str, Any] | None:
        return next((d for d in paged(self.client, f"departments/{parent_id}/departments", "departments")
                     if d.get("name") == name), None)

    def _find_alias(self, owner: str, alias: str) -> dict[str, Any] | None:
        account = self._find(f"users/{owner}")
        return account if account is not None and alias in (account.get("emailAliases") or []) else None

    def _set_pending_managers(self) -> None:
        """Managers whose accounts exist now; one that still fails stays for the next plan to show."""
        for user, manager in list(self.pending_managers.items()):
            if user in self.found.accounts and manager in self.found.accounts:
                try:
                    self.client.call("PATCH", f"users/{user}", body={"managerEmail": manager})
                except AlimailError:
                    continue
                del self.pending_managers[user]

    def _department(self, after: Mapping[str, Any]) -> str:
        path = after.get("orgunit") or "/"
        dept_id = self.found.id_of.get(path)
        if dept_id is None:
            raise AlimailError("PATCH", "users", 404, "", f"department {path} does not exist at Alibaba Mail")
        return dept_id

    # ------------------------------------------------------------------ aliases

    def _alias(self, change: Change) -> None:
        if change.before is not None and change.action in ("delete", "update"):
            owner, alias = str(change.before["target"]), str(change.before["address"])
            if alias in self.found.aliases.get(owner, []):
                self.client.call("DELETE", f"users/{owner}/emailAliases", body={"alias": alias})
                self.found.aliases[owner].remove(alias)
        if change.after is not None and change.action in ("create", "update"):
            owner, alias = str(change.after["target"]), str(change.after["address"])
            if alias not in self.found.aliases.get(owner, []):
                self._create(lambda: self.client.call("POST", f"users/{owner}/emailAliases",
                                                      body={"alias": alias, "asDefault": False}),
                             lambda: self._find_alias(owner, alias), f"alias {alias} of {owner}")
                self.found.aliases.setdefault(owner, []).append(alias)

