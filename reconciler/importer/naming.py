"""Infer naming.yaml from the addresses the tenant has, and tell which addresses it explains.

A user's address is explained, and their file needs no `email:`, when a plan would give them
that very address: for a user with an id at the provider, when it is in the primary domain
and fits the pattern with the collision rule (`zhangwei2` fits `zhangwei`); for a user being
adopted (no id yet), only the bare pattern (`naming.assign_user_addresses`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from reconciler.importer.people import Person
from reconciler.model.files import NamingFile, UserNaming
from reconciler.naming import fits_base, local_base, written_family_first
from reconciler.romanize import clean_local_part, romanize_family, romanize_given

# Tried in this order; on a tie the earlier wins.
CANDIDATES = (
    "{family}{given}",
    "{given}.{family}",
    "{given}{family}",
    "{given_initial}{family}",
    "{family}.{given}",
    "{given_initial}.{family}",
    "{given}_{family}",
    "{given}-{family}",
    "{given}{family_initial}",
    "{family}{given_initial}",
    "{family}_{given}",
    "{id}",
)
TRANSLITERATE: Final = "pinyin"  # reads Han as pinyin and every other script through anyascii
RESERVED = ("admin", "postmaster", "abuse", "hostmaster", "webmaster", "noreply", "root")


def explains(person: Person, base: str, primary: str) -> bool:
    local, _, domain = person.address.partition("@")
    if not base or domain != primary:
        return False
    return local == base if person.generated else fits_base(local, base)


def _values(person: Person) -> dict[str, str]:
    given = romanize_given(person.given, TRANSLITERATE)
    family = romanize_family(person.family, TRANSLITERATE)
    return {"given": given, "family": family, "given_initial": given[:1], "family_initial": family[:1],
            "id": clean_local_part(person.id.lower())}


def _base(values: dict[str, str], pattern: str) -> str:
    """naming.local_base for already romanized names (it romanizes on every call: too slow for
    trying a dozen patterns on 100,000 people). Only the choice of pattern rests on this."""
    raw = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], pattern)
    return clean_local_part(raw)[:64].strip("._-")


def _best(people: list[tuple[Person, dict[str, str]]], primary: str) -> tuple[str, int]:
    scores = {p: sum(explains(person, _base(v, p), primary) for person, v in people) for p in CANDIDATES}
    best = max(CANDIDATES, key=lambda p: (scores[p], -CANDIDATES.index(p)))
    return best, scores[best]


@dataclass(frozen=True)
class NamingChoice:
    pattern: str
    latin_pattern: str | None

    def naming_file(self, reserved: list[str]) -> NamingFile:
        users = UserNaming(pattern=self.pattern, latin_pattern=self.latin_pattern, transliterate=TRANSLITERATE,
                           collision="number")
        return NamingFile(users=users, reserved=reserved)


def infer_naming(people: list[Person], primary: str) -> NamingChoice:
    """The pattern that explains most addresses; names written given-name-first (José Núñez) get
    their own `latin_pattern` when another pattern explains more of them."""
    eastern: list[tuple[Person, dict[str, str]]] = []
    latin: list[tuple[Person, dict[str, str]]] = []
    for person in people:
        if person.address.endswith("@" + primary):
            (eastern if written_family_first(person.entry) else latin).append((person, _values(person)))
    if not eastern:
        return NamingChoice(_best(latin, primary)[0] if latin else CANDIDATES[0], None)
    pattern, _ = _best(eastern, primary)
    if not latin:
        return NamingChoice(pattern, None)
    latin_pattern, score = _best(latin, primary)
    same = sum(explains(person, _base(v, pattern), primary) for person, v in latin)
    return NamingChoice(pattern, latin_pattern if score > same else None)


def explicit_email(person: Person, naming: NamingFile, primary: str) -> bool:
    """Whether the file must say `email:` (the pattern does not give this address)."""
    return not explains(person, local_base(person.entry, naming), primary)


def reserved_names(in_use: set[str]) -> list[str]:
    """The usual role names, less those the tenant already gives someone as an alias or a group
    (org/ refuses a reserved name there)."""
    return [name for name in RESERVED if name not in in_use]
