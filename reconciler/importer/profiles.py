"""Profiles from licences and services: people holding the same licence with the same
services share a profile. The most common one is `staff` (the default, left out of user
files); the others are named after their licence (`business-starter`), and after their
services too where one licence comes with several sets."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reconciler.i18n import T_
from reconciler.importer.people import Person
from reconciler.importer.report import Notes
from reconciler.model.types import SERVICES, ProviderKind
from reconciler.providers.facts import all_facts
from reconciler.state import License, State


def _sku_names() -> dict[str, str]:
    """Licence names admins know, by SKU (Google "product/sku", Microsoft skuPartNumber)."""
    return {sku: name for facts in all_facts().values() for sku, name in facts.sku_names.items()}


Combination = tuple[str | None, tuple[str, ...]]


@dataclass
class Profiles:
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # permissions.yaml profiles
    of_user: dict[str, str] = field(default_factory=dict)  # address -> profile
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def default(self) -> str | None:
        return next(iter(self.entries), None)


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower())).strip("-")[:64].strip("-") or "licence"


def _combination(person: Person, skus: list[str], kind: ProviderKind, notes: Notes) -> Combination:
    if len(skus) > 1:
        notes.add(T_("holds several licences; a profile gives one (the first), so the first plan removes the "
                  "others where another profile names them"), f"{person.address} ({', '.join(skus)})")
    sku = skus[0] if skus else None
    services = person.user.services
    if services is None:
        if kind == "local":
            notes.add(T_("no services recorded at the provider; the first plan sets the profile's"), person.address)
        # Not read from the provider (Google without service groups; unlicensed on Microsoft):
        # unmanaged there, so the profile says what the licence stands for.
        services = SERVICES if sku else ()
    known = tuple(s for s in SERVICES if s in services)
    if len(known) != len(services):
        notes.add(T_("services org/ does not know; the first plan removes them"), person.address)
    return sku, known


def _names(combinations: list[Combination]) -> dict[Combination, str]:
    """staff for the first (most common); then the licence's name, with the services added
    where one licence comes with several sets."""
    per_sku = Counter(sku for sku, _ in combinations)
    names: dict[Combination, str] = {}
    for i, (sku, services) in enumerate(combinations):
        if i == 0:
            name = "staff"
        else:
            name = _sku_names().get(sku, _slug(sku)) if sku else "unlicensed"
            if per_sku[sku] > 1:
                name = _slug(f"{name}-{'-'.join(services) or 'no-services'}")
        candidate, n = name, 2
        while candidate in names.values():
            candidate, n = f"{name}-{n}", n + 1
        names[(sku, services)] = candidate
    return names


def infer_profiles(people: list[Person], state: State, kind: ProviderKind, notes: Notes) -> Profiles:
    held: dict[str, list[str]] = {}
    for lic in state.of("license").values():
        assert isinstance(lic, License)
        held.setdefault(lic.user, []).append(lic.sku)
    chosen = {p.address: _combination(p, sorted(held.get(p.address, [])), kind, notes) for p in people}
    counts = Counter(chosen.values())
    order = sorted(counts, key=lambda c: (-counts[c], c[0] or "", c[1]))
    names = _names(order)
    result = Profiles()
    for combination in order:
        sku, services = combination
        entry: dict[str, Any] = {"services": list(services)}
        if sku:
            entry["licenses"] = {kind: sku}
        result.entries[names[combination]] = entry
        result.counts[names[combination]] = counts[combination]
    result.of_user = {address: names[c] for address, c in chosen.items()}
    return result
