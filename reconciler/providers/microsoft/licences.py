"""Profile services <-> a licence's service plans, with the plans' dependencies respected.

A plan carries a service only when it is the service itself: Exchange Online (Plan 1/2 and
Kiosk) carries mail and calendar, SharePoint Online carries drive (OneDrive lives in it), Teams
carries chat and meet, Skype for Business Online meet. The names are matched exactly, never
by prefix: `EXCHANGE_S_FOUNDATION` starts like a mailbox but holds none, and Teams and other
plans of licences without a full Exchange plan need it, so switching it off with "mail"
makes Graph refuse the whole assignment.

Plans depend on others (Office for the web needs SharePoint), and Graph refuses an assignment
that leaves a plan on whose prerequisite is off ("License assignment failed because service
plan X depends on the service plan(s) Y"). Graph does not publish these dependencies (no API
lists them), so the ones the reconciler knows are written down here; a plan needs *one* of its
prerequisites, and a prerequisite none of whose plans the licence carries does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXCHANGE = ("mail", "calendar")
# servicePlanName -> the profile services it carries.
PLAN_SERVICES: dict[str, tuple[str, ...]] = {
    "EXCHANGE_S_STANDARD": EXCHANGE, "EXCHANGE_S_ENTERPRISE": EXCHANGE, "EXCHANGE_S_DESKLESS": EXCHANGE,
    "EXCHANGE_S_ESSENTIALS": EXCHANGE,
    "SHAREPOINTSTANDARD": ("drive",), "SHAREPOINTENTERPRISE": ("drive",), "SHAREPOINTDESKLESS": ("drive",),
    "ONEDRIVE_BASIC": ("drive",), "ONEDRIVE_BASIC_P2": ("drive",), "ONEDRIVESTANDARD": ("drive",),
    "TEAMS1": ("chat", "meet"),
    "MCOSTANDARD": ("meet",), "MCOIMP": ("meet",),
}
SHAREPOINT = ("SHAREPOINTSTANDARD", "SHAREPOINTENTERPRISE", "SHAREPOINTDESKLESS")
# servicePlanName -> the plans (any one of them) it cannot work without.
PLAN_NEEDS: dict[str, tuple[str, ...]] = {
    "SHAREPOINTWAC": SHAREPOINT,  # Office for the web
    "TEAMS1": ("EXCHANGE_S_FOUNDATION",),  # in licences that carry Exchange Foundation instead of a mailbox
}


def plan_services(plan_name: str) -> set[str]:
    return set(PLAN_SERVICES.get(plan_name, ()))


def _plans(sku: Mapping[str, Any]) -> dict[str, str]:
    """servicePlanName -> servicePlanId of a subscribedSku."""
    return {str(p.get("servicePlanName", "")): str(p["servicePlanId"]) for p in sku.get("servicePlans") or []}


def services_of(user: Mapping[str, Any], skus: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """Services whose plans are enabled in any of the user's licences."""
    found: set[str] = set()
    for assigned in user.get("assignedLicenses") or []:
        sku = skus.get(str(assigned.get("skuId")))
        if sku is None:
            continue
        disabled = {str(p).lower() for p in assigned.get("disabledPlans") or []}
        for name, plan_id in _plans(sku).items():
            if plan_id.lower() not in disabled:
                found |= plan_services(name)
    return tuple(sorted(found))


def disabled_plans(sku: Mapping[str, Any], services: tuple[str, ...] | None) -> list[str]:
    """The plans of a licence to switch off so that only the wanted services are on, with every
    plan that stays on keeping one of its prerequisites, and every plan whose prerequisites are
    all off switched off too (Graph refuses the assignment otherwise)."""
    if services is None:
        return []
    wanted = set(services)
    plans = _plans(sku)
    off = {name for name in plans if (offers := plan_services(name)) and not offers & wanted}
    # A plan kept for a wanted service keeps its prerequisite, even one that offers an unwanted service.
    for name in [n for n in plans if n not in off and plan_services(n) & wanted]:
        needs = [n for n in PLAN_NEEDS.get(name, ()) if n in plans]
        if needs and all(n in off for n in needs):
            off.discard(needs[0])
    # What is left without any prerequisite cannot stay on.
    changed = True
    while changed:
        changed = False
        for name in plans:
            needs = [n for n in PLAN_NEEDS.get(name, ()) if n in plans]
            if name not in off and needs and all(n in off for n in needs):
                off.add(name)
                changed = True
    return sorted(plans[name] for name in off)
