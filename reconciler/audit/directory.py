"""Checks of the provider against org/: accounts nobody describes, people outside the
company in groups, licences that are not what the profile gives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reconciler.audit.accounts import Tenant
from reconciler.audit.model import AuditFinding
from reconciler.i18n import T_, Text
from reconciler.naming import group_address
from reconciler.state import License, Membership, Resource


def unmanaged(tenant: Tenant) -> Iterator[AuditFinding]:
    """Accounts without an id that no file describes. An account *with* an id lost its file:
    the plan suspends it as a leaver, and a long suspension is `suspended-too-long`'s concern."""
    for account in tenant.accounts:
        if account.described is not None or account.user.id:
            continue
        if account.suspended:
            message = T_("{address} is a suspended account at the {provider} provider that no file in org/users "
                         "describes.", address=account.address, provider=tenant.provider)
        else:
            message = T_("{address} is an active account at the {provider} provider that no file in org/users "
                         "describes.", address=account.address, provider=tenant.provider)
        yield AuditFinding(code="unmanaged", severity="low" if account.suspended else "medium",
                      subject=account.address, message=message,
                      action=T_("If it is needed, describe it in org/users (`reconciler import` writes a file to "
                                "copy); if not, delete it at the provider."))


def external_members(tenant: Tenant) -> Iterator[AuditFinding]:
    """One finding per group with members from outside the company. Those org/ lists in the
    group's external_members were reviewed in a pull request: info, listed for security;
    any other is medium (added at the provider, past review)."""
    declared = {m.key for m in tenant.resolved.desired.of("membership").values()
                if isinstance(m, Membership) and m.member_type == "external"}
    outside: dict[str, list[str]] = {}
    for m in tenant.actual.of("membership").values():
        if isinstance(m, Membership) and m.member_type == "external":
            outside.setdefault(m.group, []).append(m.member)
    for group, members in sorted(outside.items()):
        listed = sorted(m for m in members if f"{group}/{m}" in declared)
        unlisted = sorted(m for m in members if f"{group}/{m}" not in declared)
        parts = [part for part in (_unlisted(unlisted), _listed(listed)) if part is not None]
        if len(parts) == 2:
            message = T_("{group} has members from outside the company: {unlisted}; {listed}.", group=group,
                         unlisted=parts[0], listed=parts[1])
        else:
            message = T_("{group} has members from outside the company: {members}.", group=group,
                         members=parts[0])
        yield AuditFinding(code="external-members", severity="medium" if unlisted else "info", subject=group,
                      message=message, action=_external_action(tenant, group, bool(unlisted)))


# A count that changes the words, kept as a Text: one template per English form (Chinese has one).
def _unlisted(members: list[str]) -> Text | None:
    if not members:
        return None
    if len(members) == 1:
        return T_("{count} external member that org/ does not list: {members}", count=1, members=members[0])
    return T_("{count} external members that org/ does not list: {members}", count=len(members),
              members=", ".join(members))


def _listed(members: list[str]) -> Text | None:
    if not members:
        return None
    if len(members) == 1:
        return T_("{count} external member listed in org/: {members}", count=1, members=members[0])
    return T_("{count} external members listed in org/: {members}", count=len(members), members=", ".join(members))


def _external_action(tenant: Tenant, group: str, unlisted: bool) -> Text:
    file = _group_files(tenant).get(group)
    if not unlisted:
        return T_("Check with the group's owners that each still needs to be in it; remove those who do not from "
                  "external_members in {file}.", file=str(file))
    if file is None:
        return T_("Remove the ones who should not be there at the provider, or describe the group in org/groups "
                  "and list the others in its external_members.")
    return T_("Add the ones who should be there to external_members in {file}; the next apply removes the "
              "others.", file=file)


def _group_files(tenant: Tenant) -> dict[str, str]:
    domain = tenant.org.primary_domain
    if domain is None:
        return {}
    return {group_address(g.value, tenant.org.naming, domain): g.locate().path for g in tenant.org.groups}


def licence_mismatch(tenant: Tenant) -> Iterator[AuditFinding]:
    """Accounts org/ describes whose licences differ from what their profile gives. Only the
    licences profiles hand out are compared: others (add-ons) are not org/'s to judge."""
    managed = tenant.resolved.desired.scopes["license"]
    wanted = _skus(tenant.resolved.desired.of("license").values(), managed)
    held = _skus(tenant.actual.of("license").values(), managed)
    for account in tenant.accounts:
        if account.described is None:
            continue
        want = wanted.get(account.described.email, [])
        have = held.get(account.address, [])
        if want == have:
            continue
        profile = _profile(tenant, account.described.id)
        yield AuditFinding(code="license-mismatch", severity="low", subject=account.address,
                      message=T_("{address} holds {held} but its profile ({profile}) gives {wanted}.",
                                 address=account.address, held=_skus_text(have), profile=profile,
                                 wanted=_skus_text(want)),
                      action=T_("Run `reconciler apply` to give it the profile's licence, or change its profile "
                                "in {file} if the licence it holds is the right one.",
                                file=tenant.user_file(account)))


def _skus(licences: Iterable[Resource], managed: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for lic in licences:
        if isinstance(lic, License) and lic.sku in managed:
            found.setdefault(lic.user, []).append(lic.sku)
    return {user: sorted(skus) for user, skus in found.items()}


def _skus_text(skus: list[str]) -> str:
    return ", ".join(skus) if skus else T_("no licence")


def _profile(tenant: Tenant, user_id: str | None) -> str:
    entry = tenant.org.users_by_id().get(user_id or "")
    name = (entry.value.profile if entry is not None else None) or tenant.org.default_profile()
    return name or T_("none")
