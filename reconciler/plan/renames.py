"""What a rename does to the old address, said in the plan.

People ask "does mail to the old address still arrive?" before they merge a rename. The answer
depends on the provider (its facts say), and, where the provider keeps the old address as an
alias, on org/: when the person's file lists their aliases, the old address is not among them, so
the plan after this one removes it.
"""

from __future__ import annotations

from reconciler.changes import Change, PlanWarning
from reconciler.i18n import T_, Text
from reconciler.providers.facts import ProviderFacts
from reconciler.state import State


def _kept_note(old: str, new: str, facts: ProviderFacts, desired: State) -> Text:
    note = facts.old_address_note
    if facts.old_address_on_rename == "keeps-unlisted" or new not in desired.scopes.get("alias", set()):
        return T_("{old} keeps receiving mail: {note}", old=old, note=note)
    if desired.get("alias", old) is not None:
        return T_("{old} keeps receiving mail: {note}, and org/ lists it among the aliases", old=old, note=note)
    return T_("{old} keeps receiving mail for now: {note}; but org/ lists this account's aliases without it, so the "
              "next plan removes it (add it to `aliases:` to keep it)", old=old, note=note)


def old_address_warnings(changes: list[Change], facts: ProviderFacts, desired: State) -> list[PlanWarning]:
    """One note per renamed user or group: what becomes of the address it leaves."""
    notes: list[PlanWarning] = []
    for change in changes:
        if change.action == "create" or change.kind not in ("user", "group") or "email" not in change.changed:
            continue
        if facts.old_address_on_rename == "cannot":
            continue  # the provider's own review says the rename cannot be made
        old, new = change.before_key, change.key
        if facts.old_address_on_rename in ("keeps", "keeps-unlisted"):
            message = _kept_note(old, new, facts, desired)
        else:
            message = T_("{old} is renamed to {new}; whether {provider} keeps the old address receiving mail is not "
                         "known: check at the provider, and add the old address to `aliases:` if it must keep "
                         "working", old=old, new=new, provider=facts.display_name)
        notes.append(PlanWarning(code="renamed-old-address", severity="info", subject=new, message=message))
    return notes



