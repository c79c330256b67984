"""What org/ asks of domains and groups, as Microsoft 365 can hold it (adapt_desired's part).

- The tenant's default domain is the admin center's choice: the provider does not change it,
  so org/'s `primary:` is matched to the tenant's and a difference is said once, instead of an
  update that fails and takes every user of the domain down with it.
- Graph gives a new group its address itself: the mail nickname at the default domain (`mail`
  is read-only), and a security group has no address at all. So groups are matched by mail
  nickname, and a group org/ puts elsewhere is planned under the address Graph gives it, with
  a warning; one whose address would be on a domain org/ does not list cannot be managed.
- A group made without owners by an app is anonymous (no owner; a Microsoft 365 group gets no
  SharePoint site), so its creation binds its owners, and members up to Graph's 20 references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.changes import PlanWarning
from reconciler.i18n import T_
from reconciler.providers.microsoft.fetch import Lookup
from reconciler.providers.microsoft.translate import SECURITY
from reconciler.state import Alias, Domain, Group, Membership, State

MAX_BINDS = 20  # relationships (owners and members) one group creation may add


def fit_default_domain(desired: State, default_domain: str) -> list[PlanWarning]:
    """org/'s primary domain follows the tenant's default; a difference is a note, not a change."""
    if not default_domain:
        return []
    wanted = next((name for name, d in desired.of("domain").items() if getattr(d, "primary", False)), None)
    for name, domain in list(desired.of("domain").items()):
        assert isinstance(domain, Domain)
        if domain.primary != (name == default_domain):
            desired.add(domain.model_copy(update={"primary": name == default_domain}))
    if wanted is None or wanted == default_domain:
        return []
    place = f"Settings > Domains > {wanted} > Set as default"
    return [PlanWarning(
        code="default-domain", severity="medium", subject=wanted,
        message=T_("org/ makes {wanted} the primary domain but the tenant's default domain is {default}; the "
                   "reconciler does not change the default (new groups get their address there)", wanted=wanted,
                   default=default_domain),
        action=T_("make {wanted} the default in the Microsoft 365 admin center ({place}), or mark the default "
                  "primary in domains.yaml", wanted=wanted, place=place))]


def fit_group_addresses(desired: State, lookup: Lookup) -> list[PlanWarning]:
    """Each group under the address Graph gives (or gave) it, matched by mail nickname."""
    default = lookup.default_domain
    if not default:
        return []
    listed = set(desired.of("domain"))
    renames: dict[str, str] = {}
    dropped: set[str] = set()
    warnings = []
    for address, group in sorted(desired.of("group").items()):
        nickname = address.split("@", 1)[0].lower()
        given = lookup.group_nicknames.get(nickname) or f"{nickname}@{default}"
        if given == address:
            continue
        security = getattr(group, "type", None) == SECURITY
        if given.rsplit("@", 1)[-1] not in listed:
            dropped.add(address)
            warnings.append(PlanWarning(
                code="group-address", severity="high", subject=address,
                message=T_("Microsoft 365 gives the group {nickname} the address {given}, on a domain domains.yaml "
                           "does not list; the group is not managed here", nickname=nickname, given=given),
                action=T_("add {domain} to domains.yaml, or make one of its domains the tenant's default in the "
                          "Microsoft 365 admin center", domain=given.rsplit("@", 1)[-1])))
            continue
        renames[address] = given
        why = (T_("security groups have no address in Microsoft 365: it is matched by its mail nickname")
               if security else T_("Microsoft 365 chooses a group's address (its mail nickname at the default "
                                   "domain, {default}); org/ cannot set it", default=default))
        warnings.append(PlanWarning(
            code="group-address", severity="low" if security else "medium", subject=address,
            message=T_("{address} is planned as {given}: {why}", address=address, given=given, why=why),
            action=None if security else T_("to use {domain}, set the group's primary address in the Exchange admin "
                                            "center", domain=address.rsplit("@", 1)[-1])))
    _rename_groups(desired, renames, dropped)
    return warnings


def _rename_groups(desired: State, renames: Mapping[str, str], dropped: set[str]) -> None:
    for old in [*renames, *dropped]:
        group = desired.resources["group"].pop(old)
        if old in renames:
            assert isinstance(group, Group)
            desired.add(group.model_copy(update={"email": renames[old]}))
    for key, m in list(desired.of("membership").items()):
        assert isinstance(m, Membership)
        if m.group in dropped or (m.member_type == "group" and m.member in dropped):
            del desired.resources["membership"][key]
            continue
        update = {}
        if m.group in renames:
            update["group"] = renames[m.group]
        if m.member_type == "group" and m.member in renames:
            update["member"] = renames[m.member]
        if update:
            del desired.resources["membership"][key]
            desired.add(m.model_copy(update=update))
    for key, alias in list(desired.of("alias").items()):
        assert isinstance(alias, Alias)
        if alias.target_kind == "group" and alias.target in renames:
            desired.add(alias.model_copy(update={"target": renames[alias.target]}))
        elif alias.target_kind == "group" and alias.target in dropped:
            del desired.resources["alias"][key]
    for kind, scopes in desired.scopes.items():
        desired.scopes[kind] = {renames.get(s, s) for s in scopes if s not in dropped}


@dataclass
class Binds:
    """Who a new group is created with: its owners first, then members, 20 references in all."""

    owners: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # people
    groups: list[str] = field(default_factory=list)  # nested groups (security groups only hold them)


def group_binds(desired: State) -> dict[str, Binds]:
    binds: dict[str, Binds] = {}
    for m in sorted(desired.of("membership").values(), key=lambda r: r.key):
        assert isinstance(m, Membership)
        entry = binds.setdefault(m.group, Binds())
        if m.member_type == "user":
            entry.members.append(m.member)
            if m.role == "OWNER":
                entry.owners.append(m.member)
        elif m.member_type == "group":
            entry.groups.append(m.member)
    return binds
