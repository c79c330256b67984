"""Each planned change as steps of Graph calls; a step is built when it runs, so it can use
ids an earlier step returned (a user created in this apply becomes a group member)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from reconciler.changes import Change
from reconciler.i18n import T_
from reconciler.passwords import generate_password
from reconciler.providers.microsoft.fetch import Lookup
from reconciler.providers.microsoft.fit import MAX_BINDS, Binds
from reconciler.providers.microsoft.graph import Call
from reconciler.providers.microsoft.licences import disabled_plans
from reconciler.providers.microsoft.translate import ROLE_TEMPLATES, SECURITY, group_body, user_body
from reconciler.providers.steps import Step as StepOf
from reconciler.providers.steps import Unsupported
from reconciler.state import Access, Domain, Group, License, Membership, Role, User

Step = StepOf[Call]
GRAPH = "https://graph.microsoft.com/v1.0"


def _found_by(collection: str, key: str, value: str, select: str) -> str:
    """The list that holds the object whose `key` is `value` (at most one, unless duplicated):
    where a create that may have happened looks before it is sent again (graph.py)."""
    quoted = value.replace("'", "''")  # OData doubles a quote inside a string literal
    where = urllib.parse.quote(f"{key} eq '{quoted}'", safe="@'")
    return f"{collection}?$filter={where}&$select={select}"


class Mutations:
    def __init__(self, lookup: Lookup, usage_location: str, graph: str = GRAPH) -> None:
        self.lookup = lookup
        self.usage_location = usage_location
        self.graph = graph  # the service root references (@odata.id, @odata.bind) name objects under
        self.wanted_services: dict[str, tuple[str, ...]] = {}
        # Who each group org/ describes is created with (fit.group_binds, kept when the plan is made).
        self.binds: dict[str, Binds] = {}
        self.creating: set[str] = set()  # the people the wave being applied creates (their POST is round 0)

    def steps(self, change: Change, password: str | None) -> list[Step]:
        handler = getattr(self, f"_{change.kind}", None)
        if handler is None:
            raise Unsupported(T_("the {provider} provider cannot manage {kind}s", provider="Microsoft",
                                 kind=change.kind))
        steps: list[Step] = handler(change, password)
        return steps

    def oid(self, address: str) -> str:
        found = self.lookup.ids.get(address.lower())
        if found is None and address.lower() in self.creating:
            raise Unsupported(T_("{address} was to be created in this apply, and its creation failed",
                                 address=address))
        if found is None:
            raise Unsupported(T_("{address} does not exist in the tenant", address=address))
        return found

    def _access(self, change: Change, _: str | None) -> list[Step]:
        """A frozen account's inbox rule (the only access Graph can remove: mailbox forwarding and
        delegates are Exchange's, not Graph's; the plan warns of those instead)."""
        access = Access.model_validate(change.before)
        if access.what != "inbox-rule":
            raise Unsupported(T_("Microsoft Graph cannot remove {what}", what=access.what))
        rule = urllib.parse.quote(access.id, safe="")
        return [lambda: [Call("DELETE", f"/users/{self.oid(access.owner)}/mailFolders/inbox/messageRules/{rule}")]]

    def _domain(self, change: Change, _: str | None) -> list[Step]:
        if change.action == "create":
            domain = Domain.model_validate(change.after)
            return [lambda: [Call("POST", "/domains", {"id": domain.name})]]
        if change.action == "delete":
            return [lambda: [Call("DELETE", f"/domains/{change.key}")]]
        raise Unsupported(T_("the default domain is changed in the Microsoft 365 admin center, not by Graph"))

    def _user(self, change: Change, password: str | None) -> list[Step]:
        if change.action == "delete":
            return [lambda: [Call("DELETE", f"/users/{self.oid(change.before_key)}")]]
        user = User.model_validate(change.after)
        if user.services is not None:
            # The services as licences give them; a licence assigned later in this apply uses them.
            self.wanted_services[user.email] = user.services
        if change.action == "create":
            body = {**user_body(user, None, self.usage_location), "accountEnabled": not user.suspended,
                    "passwordProfile": {"password": password or generate_password(),
                                        "forceChangePasswordNextSignIn": True}}
            # A userPrincipalName is unique: after a lost answer the user is looked for by it.
            find = _found_by("/users", "userPrincipalName", user.email, "id,userPrincipalName")
            steps: list[Step] = [lambda: [Call("POST", "/users", body, find=find)]]
            if user.manager:
                steps.append(lambda: [self._manager_call(user.email, user.manager)])
            return steps
        return self._update_steps(change, user, password)

    def _update_steps(self, change: Change, user: User, password: str | None = None) -> list[Step]:
        before = User.model_validate(change.before)
        steps: list[Step] = []
        if before.deleted:
            deleted_id = self.lookup.deleted_ids.get(before.email, "")
            steps.append(lambda: [Call("POST", f"/directory/deletedItems/{deleted_id}/restore", {})])
            self.lookup.ids.setdefault(before.email, deleted_id)
        fields = [f for f in change.changed if f not in ("manager", "services", "deleted", "orgunit")]
        if fields:
            body = user_body(user, fields, self.usage_location)
            steps.append(lambda: [Call("PATCH", f"/users/{self.oid(change.before_key)}", body)])
            if "email" in fields:
                self.lookup.ids[user.email] = self.lookup.ids.get(change.before_key, "")
        if "manager" in change.changed:
            if user.manager in self.creating and not steps:
                steps.append(lambda: [])  # the manager is created in this wave's first round: wait for it
            steps.append(lambda: [self._manager_call(user.email, user.manager)])
        if "services" in change.changed and user.services is not None:
            steps.append(lambda: self._service_calls(user.email, user.services))
        if "sign_out" in change.effects:
            steps.append(lambda: [Call("POST", f"/users/{self.oid(user.email)}/revokeSignInSessions", {})])
        if "reset_password" in change.effects:
            # The apply's password when org/ asked for this reset (mailed to the person), else one nobody knows.
            reset = {"passwordProfile": {"password": password or generate_password(),
                                         "forceChangePasswordNextSignIn": True}}
            steps.append(lambda: [Call("PATCH", f"/users/{self.oid(user.email)}", reset)])
        # require_password_change: Graph takes the flag only with a new password, and the reset
        # done when the account was frozen or offboarded already forces a change at next sign-in.
        # transfer_data: Graph has no hand-over of OneDrive or mailbox; review_changes says so.
        return steps

    def _manager_call(self, address: str, manager: str | None) -> Call:
        if manager is None:
            return Call("DELETE", f"/users/{self.oid(address)}/manager/$ref")
        return Call("PUT", f"/users/{self.oid(address)}/manager/$ref",
                    {"@odata.id": f"{self.graph}/users/{self.oid(manager)}"})

    def _service_calls(self, address: str, services: tuple[str, ...] | None) -> list[Call]:
        """Re-assign each licence the user holds with the plans of unwanted services disabled."""
        adds = [{"skuId": sku_id, "disabledPlans": disabled_plans(self.lookup.skus.get(sku_id, {}), services)}
                for sku_id in sorted(self.lookup.user_skus.get(address, set()))]
        if not adds:
            return []
        return [Call("POST", f"/users/{self.oid(address)}/assignLicense", {"addLicenses": adds, "removeLicenses": []})]

    def _group(self, change: Change, _: str | None) -> list[Step]:
        if change.action == "delete":
            return [lambda: [Call("DELETE", f"/groups/{self.oid(change.before_key)}")]]
        group = Group.model_validate(change.after)
        if change.action == "create":
            # Groups are matched by mail nickname, which Graph does not keep unique for security
            # groups: look for the nickname before each try, so that a lost answer or another
            # apply running at once never leaves two groups (fetch refuses to plan with two).
            body = group_body(group)
            find = _found_by("/groups", "mailNickname", body["mailNickname"], "id,mail,mailNickname")
            return [lambda: [Call("POST", "/groups", {**body, **self._bind_body(group)}, find=find, look_first=True)]]
        if "email" in change.changed:
            raise Unsupported(T_("a group's address cannot be changed through Graph"))
        if "type" in change.changed:
            raise Unsupported(T_("Graph cannot turn a Microsoft 365 group into a security group or back; "
                                 "create a new group"))
        body = {k: v for k, v in group_body(group).items() if k in ("displayName", "description")}
        return [lambda: [Call("PATCH", f"/groups/{self.oid(change.before_key)}", body)]]

    def _bind_body(self, group: Group) -> dict[str, list[str]]:
        """owners@odata.bind and members@odata.bind for a new group: an app that creates a group
        without owners leaves it ownerless. Owners first, then members while Graph's 20 references
        last; whoever has no id yet (a group made in the same round) is added by its membership."""
        binds = self.binds.get(group.email, Binds())
        owners = [oid for a in binds.owners if (oid := self.lookup.ids.get(a))][:MAX_BINDS]
        room = MAX_BINDS - len(owners)
        nested = binds.groups if group.type == SECURITY else []  # only security groups hold groups
        members = [oid for a in [*binds.members, *nested] if (oid := self.lookup.ids.get(a))][:room]
        body = {}
        if owners:
            body["owners@odata.bind"] = [f"{self.graph}/directoryObjects/{oid}" for oid in owners]
        if members:
            body["members@odata.bind"] = [f"{self.graph}/directoryObjects/{oid}" for oid in members]
        return body

    def _membership(self, change: Change, _: str | None) -> list[Step]:
        m = Membership.model_validate(change.after if change.after is not None else change.before)
        if m.member_type == "external":
            raise Unsupported(T_("{address} is outside the tenant: Microsoft 365 groups hold directory objects "
                                 "only; invite the address as a guest user and list it as a member", address=m.member))

        def ref(relation: str) -> Call:
            return Call("POST", f"/groups/{self.oid(m.group)}/{relation}/$ref",
                        {"@odata.id": f"{self.graph}/directoryObjects/{self.oid(m.member)}"})

        def unref(relation: str) -> Call:
            return Call("DELETE", f"/groups/{self.oid(m.group)}/{relation}/{self.oid(m.member)}/$ref")

        if change.action == "create":
            return [lambda: [ref("members")] + ([ref("owners")] if m.role == "OWNER" else [])]
        if change.action == "delete":
            was_owner = (change.before or {}).get("role") == "OWNER"
            return [lambda: [unref("members")] + ([unref("owners")] if was_owner else [])]
        return [lambda: [ref("owners") if m.role == "OWNER" else unref("owners")]]

    def _sku_id(self, sku: str) -> str:
        sku_id = self.lookup.sku_ids.get(sku)
        if sku_id is None:
            raise Unsupported(T_("the tenant has no subscription for {sku} (GET /subscribedSkus)", sku=repr(sku)))
        return sku_id

    def _license(self, change: Change, _: str | None) -> list[Step]:
        lic = License.model_validate(change.after if change.after is not None else change.before)
        sku_id = self._sku_id(lic.sku)
        removed: list[str] = []
        if change.action == "update" and change.before is not None:
            # A swap (hold_changes paired a removal with an addition): one call, so that the user is
            # never without a licence (and a mailbox) between the two.
            removed = [self._sku_id(License.model_validate(change.before).sku)]
        if change.action == "delete":
            body: dict[str, Any] = {"addLicenses": [], "removeLicenses": [sku_id]}
            return [lambda: [Call("POST", f"/users/{self.oid(lic.user)}/assignLicense", body)]]
        steps: list[Step] = []
        if lic.user in self.lookup.usage_location and not self.lookup.usage_location[lic.user]:
            usage = {"usageLocation": self.usage_location}
            steps.append(lambda: [Call("PATCH", f"/users/{self.oid(lic.user)}", usage)])

        def assign() -> list[Call]:
            services = self.wanted_services.get(lic.user, self.lookup.services.get(lic.user))
            add = {"skuId": sku_id, "disabledPlans": disabled_plans(self.lookup.skus[sku_id], services)}
            return [Call("POST", f"/users/{self.oid(lic.user)}/assignLicense",
                         {"addLicenses": [add], "removeLicenses": removed})]

        return [*steps, assign]

    def _role(self, change: Change, _: str | None) -> list[Step]:
        role = Role.model_validate(change.after if change.after is not None else change.before)
        if change.action == "delete":
            assignment = self.lookup.assignments.get((role.role, role.user))
            if assignment is None:
                raise Unsupported(T_("no assignment of {role} to {user} was read", role=role.role, user=role.user))
            return [lambda: [Call("DELETE", f"/roleManagement/directory/roleAssignments/{assignment}")]]
        template = ROLE_TEMPLATES.get(role.role)
        if template is None:
            raise Unsupported(T_("no Entra ID role for {role}", role=repr(role.role)))
        def assign() -> list[Call]:
            principal = self.oid(role.user)
            where = urllib.parse.quote(f"principalId eq '{principal}'", safe="'")
            return [Call("POST", "/roleManagement/directory/roleAssignments",
                         {"principalId": principal, "roleDefinitionId": template, "directoryScopeId": "/"},
                         find=f"/roleManagement/directory/roleAssignments?$filter={where}",
                         find_where=(("roleDefinitionId", template), ("directoryScopeId", "/")))]

        return [assign]
