"""What a frozen account left behind, planned for removal: the freeze's second half.

`status: frozen` suspends the account, signs it out and resets its password (diff.py, frozen.py).
An intruder who held the account keeps getting its mail through what they set up in it: external
auto-forwarding, a filter or inbox rule that forwards, redirects or deletes, a delegate who reads
the mailbox, an OAuth token or an app password that signs in without the password. For each
frozen account that exists, the plan reads its mailbox (`mailbox_health`) and, where the provider
lists them, its app grants (`app_grants`): one read each per frozen account, never for anyone
else, so a plan of 5,000 people costs nothing more. Each thing found becomes a change of kind
`access` (security=True: it counts under max_freezes, never max_deletes) that the provider's
apply removes; what the provider cannot remove, and a mailbox it cannot read, become high
warnings naming the console page, never a silent nothing.

org/ cannot declare forwarding, filters, delegates or tokens, so nothing found is kept because
org/ asked for it. Auto-forwarding to an address of the tenant's own domains is listed (the
evidence shows it) but not removed: a colleague covering the person's mail is common, and the
colleague's account is not the intruder's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.activity import ActivityReport
from reconciler.changes import Change, PlanWarning
from reconciler.i18n import T_, Text
from reconciler.mailbox import AppGrants, MailboxHealth
from reconciler.providers.base import IncidentSource
from reconciler.providers.facts import facts_of
from reconciler.state import Access, State

REASON = T_("frozen: security incident")
MAILBOX_PARTS = ("forwarding", "rules", "delegates")
PART_WORDS = {"forwarding": T_("forwarding"), "rules": T_("rules"), "delegates": T_("delegates")}
# A MailRule's `source`, as the providers name it, to what an Access is.
RULE_KINDS = {"auto-forwarding": "forwarding", "filter": "filter", "inbox rule": "inbox-rule"}


@dataclass
class Found:
    """What one frozen account holds, as read before anything is removed (the evidence's "found")."""

    address: str
    health: MailboxHealth
    grants: AppGrants | None  # None: the provider has no app grants to list
    accesses: list[Access]  # what the plan removes or asks the admin to remove
    kept: list[Access]  # found but left (forwarding inside the tenant)
    two_step: bool | None = None  # enrolled in 2-step verification (None: the provider did not say)
    two_step_unknown: str | None = None  # why the provider could not say


def read_frozen(address: str, provider: IncidentSource, domains: Iterable[str]) -> Found:
    """One frozen account's mailbox and app grants, and what of them goes: one read of each."""
    health = provider.mailbox_health(address)
    grants = provider.app_grants(address) if facts_of(provider.name).incident.lists_app_grants else None
    own = {d.lower() for d in domains}
    accesses: list[Access] = []
    kept: list[Access] = []
    for rule in health.rules:
        what = RULE_KINDS.get(rule.source, "inbox-rule")
        access = Access(owner=address, what=what, id=rule.id, name=rule.name or None,
                        forwards_to=rule.forwards_to, deletes=rule.deletes, redirects=rule.redirects)
        inside = all(t.rpartition("@")[2].lower() in own for t in rule.forwards_to)
        if what == "forwarding" and rule.forwards_to and inside and not rule.deletes:
            kept.append(access)
        else:
            accesses.append(access)
    accesses += [Access(owner=address, what="delegate", id=d, name=d) for d in health.delegates]
    for grant in grants.grants if grants is not None else ():
        accesses.append(Access(owner=address, what=grant.kind, id=grant.id, name=grant.name))
    return Found(address, health, grants, accesses, kept)


def describe(access: Access) -> Text:
    """What one access is, in a sentence: the reason a removal carries, and the evidence's line."""
    targets = ", ".join(access.forwards_to)
    if access.what == "forwarding":
        return T_("auto-forwarding to {targets}", targets=targets)
    if access.what == "delegate":
        return T_("delegate {address} may read and send as this mailbox", address=access.id)
    if access.what == "oauth-token":
        return T_("OAuth token of {app} (client {client})", app=access.name or "?", client=access.id)
    if access.what == "app-password":
        return T_("app password {name}", name=access.name or access.id)
    rule = T_("filter {name}", name=access.name or access.id) if access.what == "filter" else T_(
        "inbox rule {name}", name=access.name or access.id)
    if access.forwards_to and access.redirects:
        return T_("{rule} redirects mail to {targets}", rule=rule, targets=targets)
    if access.forwards_to:
        return T_("{rule} forwards mail to {targets}", rule=rule, targets=targets)
    if access.deletes:
        return T_("{rule} deletes mail", rule=rule)
    return T_("{rule} moves mail away", rule=rule)


def removal(access: Access) -> Change:
    before = access.model_dump(mode="json", exclude_defaults=True)
    before.update(owner=access.owner, what=access.what)
    return Change(action="delete", kind="access", key=access.key, before=before, security=True,
                  reason=T_("{reason}: {what}", reason=REASON, what=describe(access)))


def plan_incident(frozen: Iterable[str], actual: State, provider: IncidentSource, domains: Iterable[str],
                  protected: frozenset[str] = frozenset(), two_step: ActivityReport | None = None
                  ) -> tuple[list[Change], list[PlanWarning], dict[str, Found]]:
    """The removals owed to each frozen account that exists, what the plan cannot do about it, and
    what each one held (`domains`: the company's own, where auto-forwarding stays; `two_step`: the
    2SV report frozen.py read, kept for the evidence)."""
    domains = list(domains)
    present = sorted(a for a in frozen if a in actual.users() and a not in protected)
    incident = facts_of(provider.name).incident
    changes: list[Change] = []
    warnings: list[PlanWarning] = []
    held: dict[str, Found] = {}
    for address in present:
        found = held[address] = read_frozen(address, provider, domains)
        if two_step is not None:
            found.two_step = two_step.of(address).two_step
            found.two_step_unknown = two_step.unavailable.get("two_step")
        warnings += unread_warnings(found, provider.name)
        for access in found.accesses:
            if access.what in incident.removes and (access.id or access.what == "forwarding"):
                changes.append(removal(access))
            else:
                warnings.append(PlanWarning(
                    code="frozen-access-manual", severity="high", subject=access.key,
                    message=T_("{address} is frozen and has {what}; the {provider} provider cannot remove it: "
                               "remove it by hand ({console})", address=address, what=describe(access),
                               provider=provider.name, console=_console(provider.name))))
    return changes, warnings, held


def _listed(words: list[Text]) -> Text:
    """Words joined with commas, each said in the reader's language (a template of placeholders only)."""
    template = ", ".join(f"{{w{i}}}" for i in range(len(words)))  # nothing to translate but the words
    return Text(template, **{f"w{i}": w for i, w in enumerate(words)})


def _console(provider: str) -> str:
    """Where an admin acts by hand at this provider (every provider names its page)."""
    return facts_of(provider).incident.console or "the admin console"


def _grant_then_check(console: str) -> Text:
    return T_("grant what is named, then plan again; until then check the mailbox by hand ({console})",
              console=console)


def unread_warnings(found: Found, provider: str) -> list[PlanWarning]:
    """A frozen account whose mailbox or app grants could not be read: said, never a silent nothing."""
    if not facts_of(provider).incident.holds_mail:
        return []
    # No mailbox at all (no mail licence): nothing in it can forward or delete; the evidence says so.
    missing = {part: found.health.unavailable[part] for part in MAILBOX_PARTS
               if part in found.health.unavailable and found.health.mailbox_ready is not False}
    console = _console(provider)
    warnings = []
    if missing:
        parts = _listed([PART_WORDS[p] for p in missing])
        why = "; ".join(dict.fromkeys(missing.values()))
        if found.health.dormant:
            # What a suspended mailbox holds does nothing until it is active again, so this is not
            # the alarm of a live mailbox nobody can see into; the admin still looks before reactivating.
            warnings.append(PlanWarning(
                code="frozen-mailbox-unread", severity="medium", subject=found.address,
                message=T_("{address} is frozen and suspended, so its {parts} cannot be read now: {why}",
                           address=found.address, parts=parts, why=why),
                action=T_("before setting it active again, check them by hand ({console})", console=console)))
        else:
            warnings.append(PlanWarning(
                code="frozen-mailbox-unread", severity="high", subject=found.address,
                message=T_("{address} is frozen, but its {parts} could not be read, so nothing there is planned "
                           "for removal: {why}", address=found.address, parts=parts, why=why),
                action=_grant_then_check(console)))
    if found.grants is not None and found.grants.unavailable:
        warnings.append(PlanWarning(
            code="frozen-tokens-unread", severity="high", subject=found.address,
            message=T_("{address} is frozen, but its OAuth tokens and app passwords could not be listed, so none is "
                       "planned for revocation: {why}", address=found.address, why=found.grants.unavailable),
            action=_grant_then_check(console)))
    return warnings
