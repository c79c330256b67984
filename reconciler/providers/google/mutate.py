"""Each planned change as one or more steps of Google API calls.

A step's calls are built when the step runs, so a later step can use what an
earlier one returned (the id of a user just created). All changes' first
steps go out together in batches, then all second steps, and so on.

A failed step ends its change, so calls that must not wait on each other share a step: a
user's offboarding effects (sign-out, password reset, hand-over) are one step, so a sign-out
Google refuses (its scope not granted) still leaves the password reset done, and the change
reports the sign-out's error.

Every create that Google refuses with 409 when its object is already there carries a `ReadBack`
(`checks`, by the call): after a lost answer or a 409, the batch runner reads the object by its
key, and the create succeeded if what is there is what it asked for (batch.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.changes import Change
from reconciler.i18n import T_
from reconciler.passwords import generate_password
from reconciler.providers.google.batch import ReadBack
from reconciler.providers.google.client import Clients
from reconciler.providers.google.fetch import Lookup
from reconciler.providers.google.translate import (
    group_body,
    group_from_google,
    orgunit_body,
    orgunit_from_google,
    user_body,
    user_from_google,
)
from reconciler.providers.steps import Step as StepOf
from reconciler.providers.steps import Unsupported
from reconciler.state import Alias, Domain, Group, License, Membership, OrgUnit, Role, User, changed_fields

Step = StepOf[Any]  # builds the HttpRequests of one step
# Data Transfer API application ids (admin.datatransfer applications.list): Drive and Calendar.
DRIVE_APP, CALENDAR_APP = "55656082996", "435070579839"


class Mutations:
    def __init__(self, clients: Clients, customer: str, lookup: Lookup, service_groups: Mapping[str, str]) -> None:
        # Resource objects are built once: the client makes each one from the discovery
        # document, which costs milliseconds, times every change of a 10,000-person apply.
        d = clients.directory
        self.users, self.groups, self.members = d.users(), d.groups(), d.members()
        # users.signOut takes only the user.security scope: its own token (client.py).
        self.sessions = clients.security.users() if clients.security is not None else self.users
        self.user_aliases, self.group_aliases = self.users.aliases(), self.groups.aliases()
        self.orgunits, self.domains, self.domain_aliases = d.orgunits(), d.domains(), d.domainAliases()
        self.role_assignments = d.roleAssignments()
        self.license_assignments = clients.licensing.licenseAssignments()
        self.transfers = clients.datatransfer.transfers() if clients.datatransfer is not None else None
        self.customer = customer
        self.lookup = lookup
        self.service_groups = service_groups
        # Why a change could not do all it should, found while its step was built (the other calls of
        # that step still go out): by change label, for the provider to report.
        self.shortfalls: dict[str, str] = {}
        # How to read back each create call of the round being built, by id() of the call: the
        # provider hands them to the batch runner with the calls, and clears them after the round.
        self.checks: dict[int, ReadBack] = {}

    def _checked(self, call: Any, read: Callable[[], Any], judge: Callable[[dict[str, Any]], bool | None],
                 *, patient: bool = True) -> Any:
        """`call`, a create, with how to tell after a lost answer or a 409 whether it was made."""
        self.checks[id(call)] = ReadBack(read, judge, patient)
        return call

    def steps(self, change: Change, password: str | None) -> list[Step]:
        handler = getattr(self, f"_{change.kind}", None)
        if handler is None:
            raise Unsupported(T_("the {provider} provider cannot manage {kind}s", provider="Google", kind=change.kind))
        steps: list[Step] = handler(change, password)
        return steps

    # --- domains and org units --------------------------------------------------------

    def _domain(self, change: Change, _: str | None) -> list[Step]:
        if change.action == "create":
            domain = Domain.model_validate(change.after)
            if domain.alias_of:
                body = {"domainAliasName": domain.name, "parentDomainName": domain.alias_of}
                return [lambda: [self.domain_aliases.insert(customer=self.customer, body=body)]]
            return [lambda: [self.domains.insert(customer=self.customer, body={"domainName": domain.name})]]
        if change.action == "delete" and (change.before or {}).get("alias_of"):
            return [lambda: [self.domain_aliases.delete(customer=self.customer, domainAliasName=change.key)]]
        raise Unsupported(T_("Google does not let a domain's primary or alias role change; do it in the Admin "
                             "console"))

    def _orgunit(self, change: Change, _: str | None) -> list[Step]:
        path = change.key.lstrip("/")
        if change.action == "create":
            wanted = OrgUnit.model_validate(change.after)
            body = orgunit_body(wanted)
            return [lambda: [self._checked(
                self.orgunits.insert(customerId=self.customer, body=body),
                lambda: self.orgunits.get(customerId=self.customer, orgUnitPath=path),
                lambda found: not changed_fields(wanted.model_copy(update={"description": None}),
                                                 orgunit_from_google(found)))]]
        if change.action == "delete":
            return [lambda: [self.orgunits.delete(customerId=self.customer, orgUnitPath=path)]]
        ou = OrgUnit.model_validate(change.after)
        return [lambda: [self.orgunits.patch(customerId=self.customer, orgUnitPath=path,
                                                 body={"description": ou.name or ""})]]

    # --- users ----------------------------------------------------------------------------

    def _user(self, change: Change, password: str | None) -> list[Step]:
        users = self.users
        if change.action == "delete":
            return [lambda: [users.delete(userKey=change.before_key)]]
        user = User.model_validate(change.after)
        if change.action == "create":
            initial = password or generate_password()  # never sent anywhere else, never logged
            body = {**user_body(user), "password": initial, "changePasswordAtNextLogin": True}
            steps: list[Step] = [lambda: [self._checked(
                users.insert(body=body), lambda: users.get(userKey=user.email),
                lambda found: not changed_fields(user, user_from_google(found, user.services)))]]
            return steps + self._service_steps(user.email, (), user.services)
        before = User.model_validate(change.before)
        steps = []
        if before.deleted:
            deleted_id = self.lookup.deleted_ids.get(before.email, "")
            steps.append(lambda: [users.undelete(userKey=deleted_id, body={"orgUnitPath": user.orgunit or "/"})])
        fields = [f for f in change.changed if f not in ("services", "deleted")]
        if fields:
            body = user_body(user, fields)
            steps.append(lambda: [users.patch(userKey=change.before_key, body=body)])
        steps += self._service_steps(user.email, before.services or (), user.services)
        return steps + self._effect_steps(change, user, password)

    def _effect_steps(self, change: Change, user: User, password: str | None = None) -> list[Step]:
        """Every effect in one step: none waits for another, and one refused leaves the others done."""
        if not change.effects:
            return []
        users, effects = self.users, change.effects

        def build() -> list[Any]:
            calls: list[Any] = []
            if "sign_out" in effects:
                calls.append(self.sessions.signOut(userKey=user.email))
            if "reset_password" in effects:
                # The apply's password when org/ asked for this reset (mailed to the person), else one nobody knows.
                reset = {"password": password or generate_password(), "changePasswordAtNextLogin": True}
                calls.append(users.patch(userKey=user.email, body=reset))
            elif "require_password_change" in effects:
                calls.append(users.patch(userKey=user.email, body={"changePasswordAtNextLogin": True}))
            if "transfer_data" in effects and change.transfer_to and self.transfers is not None:
                transfer = self._transfer(user.email, change.transfer_to)
                if transfer is None:
                    self.shortfalls[change.label] = (f"cannot hand data over: {change.transfer_to} is not a user "
                                                     "of this tenant")
                else:
                    calls.append(transfer)
            return calls

        return [build]

    def _transfer(self, address: str, recipient: str) -> Any | None:
        assert self.transfers is not None
        old, new = self.lookup.user_ids.get(address), self.lookup.user_ids.get(recipient)
        if old is None or new is None:
            return None
        return self.transfers.insert(body={
            "oldOwnerUserId": old, "newOwnerUserId": new,
            "applicationDataTransfers": [
                {"applicationId": DRIVE_APP, "applicationTransferParams": [
                    {"key": "PRIVACY_LEVEL", "value": ["PRIVATE", "SHARED"]}]},
                {"applicationId": CALENDAR_APP, "applicationTransferParams": [
                    {"key": "RELEASE_RESOURCES", "value": ["TRUE"]}]},
            ]})

    def _service_steps(self, address: str, before: tuple[str, ...], after: tuple[str, ...] | None) -> list[Step]:
        if after is None or not self.service_groups:
            return []
        add = sorted(set(after) - set(before))
        remove = sorted(set(before) - set(after))
        members = self.members

        def build() -> list[Any]:
            calls = [self._member_insert(self.service_groups[s], address, "MEMBER")
                     for s in add if s in self.service_groups]
            calls += [members.delete(groupKey=self.service_groups[s], memberKey=address)
                      for s in remove if s in self.service_groups]
            return calls

        return [build] if add or remove else []

    # --- groups and what hangs off users and groups ------------------------------------------

    def _group(self, change: Change, _: str | None) -> list[Step]:
        groups = self.groups
        if change.action == "delete":
            return [lambda: [groups.delete(groupKey=change.before_key)]]
        wanted = Group.model_validate(change.after)
        body = group_body(wanted)
        if change.action == "create":
            return [lambda: [self._checked(
                groups.insert(body=body), lambda: groups.get(groupKey=change.key),
                lambda found: not changed_fields(wanted.model_copy(update={"type": None}), group_from_google(found)))]]
        return [lambda: [groups.patch(groupKey=change.before_key, body=body)]]

    def _alias(self, change: Change, _: str | None) -> list[Step]:
        alias = Alias.model_validate(change.after if change.after is not None else change.before)
        aliases = self.user_aliases if alias.target_kind == "user" else self.group_aliases
        key = "userKey" if alias.target_kind == "user" else "groupKey"
        if change.action == "delete":
            return [lambda: [aliases.delete(**{key: alias.target, "alias": alias.address})]]
        owners = self.users if alias.target_kind == "user" else self.groups
        owner_field = "primaryEmail" if alias.target_kind == "user" else "email"
        # A 404 here says nothing about when the 409 came (the address may be another object's alias).
        return [lambda: [self._checked(
            aliases.insert(**{key: alias.target, "body": {"alias": alias.address}}),
            lambda: owners.get(**{key: alias.address, "fields": owner_field}),
            lambda found: str(found.get(owner_field, "")).lower() == alias.target, patient=False)]]

    def _membership(self, change: Change, _: str | None) -> list[Step]:
        m = Membership.model_validate(change.after if change.after is not None else change.before)
        members = self.members
        if change.action == "delete":
            return [lambda: [members.delete(groupKey=m.group, memberKey=m.member)]]
        if change.action == "create":
            return [lambda: [self._member_insert(m.group, m.member, m.role)]]
        return [lambda: [members.patch(groupKey=m.group, memberKey=m.member, body={"role": m.role})]]

    def _license(self, change: Change, _: str | None) -> list[Step]:
        lic = License.model_validate(change.after if change.after is not None else change.before)
        product, _, sku = lic.sku.partition("/")
        if not sku:
            raise Unsupported(T_("licence {sku} is not PRODUCT/SKU (like Google-Apps/1010020028)", sku=repr(lic.sku)))
        assignments = self.license_assignments
        if change.action == "delete":
            return [lambda: [assignments.delete(productId=product, skuId=sku, userId=lic.user)]]
        if change.action == "update":  # another SKU of the product (licences.py): moved, never unlicensed
            held = License.model_validate(change.before).sku.partition("/")[2]
            return [lambda: [assignments.patch(productId=product, skuId=held, userId=lic.user, body={"skuId": sku})]]
        # After a 409, a 404 here means the user holds another SKU of the product (licences.py moves it).
        return [lambda: [self._checked(
            assignments.insert(productId=product, skuId=sku, body={"userId": lic.user}),
            lambda: assignments.get(productId=product, skuId=sku, userId=lic.user),
            lambda found: True, patient=False)]]

    def _role(self, change: Change, _: str | None) -> list[Step]:
        role = Role.model_validate(change.after if change.after is not None else change.before)
        assignments = self.role_assignments
        if change.action == "delete":
            assignment = self.lookup.assignments.get((role.role, role.user))
            if assignment is None:
                raise Unsupported(T_("no role assignment of {role} to {user} was read", role=role.role,
                                     user=role.user))
            return [lambda: [assignments.delete(customer=self.customer, roleAssignmentId=assignment)]]
        role_id = self.lookup.role_ids.get(role.role)
        if role_id is None:
            raise Unsupported(T_("the tenant has no Google admin role for {role}", role=repr(role.role)))

        def insert() -> list[Any]:
            user_id = self.lookup.user_ids.get(role.user)
            if user_id is None:
                raise Unsupported(T_("the id of {user} could not be read", user=role.user))
            body = {"roleId": role_id, "assignedTo": user_id, "scopeType": "CUSTOMER"}

            def held(found: dict[str, Any]) -> bool | None:
                return any((a.get("roleId"), a.get("assignedTo"), a.get("scopeType")) == (role_id, user_id, "CUSTOMER")
                           for a in found.get("items") or []) or None

            return [self._checked(assignments.insert(customer=self.customer, body=body),
                                  lambda: assignments.list(customer=self.customer, userKey=user_id, roleId=role_id),
                                  held)]

        if role.user in self.lookup.user_ids:
            return [insert]
        # Created by this apply with its answer lost, say: its id is read first (the provider keeps it).
        return [lambda: [self.users.get(userKey=role.user, fields="kind,id,primaryEmail")], insert]

    def _member_insert(self, group: str, member: str, role: str) -> Any:
        return self._checked(self.members.insert(groupKey=group, body={"email": member, "role": role}),
                             lambda: self.members.get(groupKey=group, memberKey=member),
                             lambda found: found.get("role", "MEMBER") == role)
