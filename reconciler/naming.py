"""Address derivation: patterns, transliteration, reserved names and collisions.

Identity is the user's id, not the name: a user who already has an address at
the provider keeps it while it still fits their name, so a newcomer with the
same name never takes it over; newcomers are numbered in ascending id order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.errors import InputIssue
from reconciler.i18n import _
from reconciler.model.files import GroupEntry, NamingFile, UserEntry
from reconciler.model.org import Sourced
from reconciler.romanize import (
    Mode,
    clean_local_part,
    contains_han,
    romanize_family,
    romanize_given,
)

MAX_LOCAL_PART = 64
_EAST_ASIAN = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\uac00-\ud7af]")
_DIGIT_RUNS = re.compile(r"(\d+)")
_LETTERS_THEN_DIGITS = re.compile(r"([A-Za-z]*)([0-9]+)")
# Lower-case ASCII letters and digits, single separators between them: what clean_local_part gives.
_CLEAN_LOCAL = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort E999 before E1000: digits compare as numbers."""
    if (usual := _LETTERS_THEN_DIGITS.fullmatch(text)) is not None:  # E1001: the same key, sooner
        letters, digits = usual.groups()
        return ((1, letters), (0, int(digits))) if letters else ((0, int(digits)),)
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in _DIGIT_RUNS.split(text) if part
    )


def in_id_order(users: Iterable[Sourced[UserEntry]]) -> list[Sourced[UserEntry]]:
    """The people sorted by natural_key of their ids. Where every id is letters then digits (E1001),
    as in most companies, one flat key (the letters, the number) orders them as natural_key does
    (no letters, '', sorts first there too), in a third of the tuples (and of the collector's work)."""
    entries = list(users)
    usual = _LETTERS_THEN_DIGITS.fullmatch
    keys: list[tuple[str, int]] = []
    for entry in entries:
        if (match := usual(entry.value.id)) is None:
            return sorted(entries, key=lambda e: natural_key(e.value.id))
        letters, digits = match.groups()
        keys.append((letters, int(digits)))
    return [entries[i] for i in sorted(range(len(entries)), key=keys.__getitem__)]


def written_family_first(user: UserEntry) -> bool:
    names = user.given_name + user.family_name
    return contains_han(names) or bool(_EAST_ASIAN.search(names))


def local_base(user: UserEntry, naming: NamingFile) -> str:
    """The local part the pattern gives, before any collision numbering ('' if none)."""
    rule = naming.users
    pattern = rule.pattern
    if rule.latin_pattern and not written_family_first(user):
        pattern = rule.latin_pattern
    raw = []
    for literal, placeholder in _pattern_parts(pattern):
        raw.append(literal)
        if placeholder is not None:
            raw.append(_placeholder_value(user, placeholder, rule.transliterate))
    local = "".join(raw)
    if not _CLEAN_LOCAL.fullmatch(local):  # clean_local_part leaves such a part as it is: not called
        local = clean_local_part(local)
    return local[:MAX_LOCAL_PART].strip("._-")


@functools.lru_cache(maxsize=64)
def _pattern_parts(pattern: str) -> tuple[tuple[str, str | None], ...]:
    """A pattern as (text, placeholder) pairs, read once, not per person ("{family}.{given}" ->
    ("", "family"), (".", "given")); the last pair's placeholder may be None."""
    pieces = _PLACEHOLDER.split(pattern)  # text, name, text, name, ..., text
    return (*zip(pieces[0:-1:2], pieces[1::2], strict=True), (pieces[-1], None))


def _placeholder_value(user: UserEntry, placeholder: str, mode: Mode) -> str:
    # Only the placeholders the pattern names are worked out (romanizing is the costly part).
    if placeholder in ("given", "given_initial"):
        given = romanize_given(user.given_name, mode)
        return given if placeholder == "given" else given[:1]
    if placeholder in ("family", "family_initial"):
        family = romanize_family(user.family_name, mode)
        return family if placeholder == "family" else family[:1]
    if placeholder == "id":
        return clean_local_part(user.id.lower())
    raise KeyError(placeholder)


def fits_base(local: str, base: str) -> bool:
    """Whether `local` is what the collision rule could have given for `base`."""
    if local == base:
        return True
    suffix = local[len(base):] if local.startswith(base) else ""
    return suffix.isdigit() and int(suffix) >= 2 and not suffix.startswith("0")


@dataclass
class Assignment:
    addresses: dict[str, str]  # user id -> address
    issues: list[InputIssue]


@dataclass(frozen=True)
class Bases:
    """Everyone in ascending id order, each with the local part the pattern gives them: None for
    an explicit `email:`, '' where the name gives none. Worked out once per run: resolving assigns
    addresses twice (with and without the explicit claims), and romanizing and sorting 100,000
    people is most of assigning them."""

    entries: list[Sourced[UserEntry]]  # in ascending id order
    bases: list[str | None]  # each one's, side by side (not 100,000 pairs)


def derive_bases(users: Iterable[Sourced[UserEntry]], naming: NamingFile) -> Bases:
    rule = naming.users
    uses_id = any(placeholder == "id" for pattern in (rule.pattern, rule.latin_pattern) if pattern
                  for _text, placeholder in _pattern_parts(pattern))
    # Names repeat (张伟 is thousands of people in a large company): the same name gives the
    # same base, unless the pattern names the id.
    by_name: dict[tuple[str, str, str], str] = {}
    entries = in_id_order(users)
    bases: list[str | None] = []
    for entry in entries:
        user = entry.value
        if user.email:
            bases.append(None)
            continue
        name = (user.given_name, user.family_name, user.id if uses_id else "")
        base = by_name.get(name)
        if base is None:
            base = by_name[name] = local_base(user, naming)
        bases.append(base)
    return Bases(entries, bases)


def assign_user_addresses(
    users: Iterable[Sourced[UserEntry]] | Bases,
    naming: NamingFile,
    domain: str,
    taken: set[str],
    existing: dict[str, str],
    adoptable: frozenset[str] = frozenset(),
) -> Assignment:
    """Give every user an address.

    `users`: the people, or their `derive_bases` when the caller assigns more than once.
    `taken` holds addresses nobody new may get (explicit emails, aliases, groups,
    and everything at the provider); `existing` maps ids to their current
    address at the provider; `adoptable` holds addresses of provider accounts
    without an id yet: a user whose derived address is one of them takes it
    over (adopting a tenant) instead of being numbered around it.
    """
    derived = users if isinstance(users, Bases) else derive_bases(users, naming)
    reserved = {f"{r}@{domain}" for r in naming.reserved}
    used = set(taken) | reserved
    result: dict[str, str] = {}
    issues: list[InputIssue] = []
    pending: list[Sourced[UserEntry]] = []
    pending_bases: list[str] = []
    adopted: set[str] = set()
    for entry, base in zip(derived.entries, derived.bases, strict=True):
        user = entry.value
        if base is None:
            result[user.id] = user.email or ""
            continue
        if not base:
            issues.append(InputIssue(entry.locate("given_name"),
                _("cannot derive an address from {family} {given} with transliterate: {transliterate}; add an "
                  "explicit email").format(family=repr(user.family_name), given=repr(user.given_name),
                                           transliterate=naming.users.transliterate)))
            continue
        current = existing.get(user.id)
        if current and current.endswith("@" + domain) and fits_base(current.split("@")[0], base):
            result[user.id] = current  # still fits the name: never renumbered by a newcomer
            used.add(current)
            continue
        if current is None and adoptable and f"{base}@{domain}" in adoptable and f"{base}@{domain}" not in adopted:
            result[user.id] = f"{base}@{domain}"
            adopted.add(result[user.id])
            continue
        pending.append(entry)
        pending_bases.append(base)
    # Where the search for each base's next free number resumes: `used` only grows, so every
    # number below it is taken for good. Without it, 20,000 people of one name cost 200 million probes.
    next_number: dict[str, int] = {}
    fail = naming.users.collision == "fail"
    for entry, base in zip(pending, pending_bases, strict=True):  # in id order: the people were walked in it
        address, next_number[base] = _first_free(base, domain, used, next_number.get(base, 1))
        if fail and address != f"{base}@{domain}":
            issues.append(InputIssue(entry.locate("given_name"),
                _("the derived address {address} is already taken and naming.yaml says collision: fail; add an "
                  "explicit email").format(address=f"{base}@{domain}")))
            continue
        result[entry.value.id] = address
        used.add(address)
    return Assignment(result, issues)


def _first_free(base: str, domain: str, used: set[str], start: int = 1) -> tuple[str, int]:
    """The first free address of `base` from number `start` on (1 is the base itself), and its number."""
    n = start
    while (candidate := _numbered(base, n, domain)) in used:
        n += 1
    return candidate, n


def _numbered(base: str, n: int, domain: str) -> str:
    return f"{base}@{domain}" if n == 1 else f"{base}{n}@{domain}"


def group_address(group: GroupEntry, naming: NamingFile, domain: str) -> str:
    if group.email:
        return group.email
    local = naming.groups.pattern.replace("{key}", group.key)
    return f"{clean_local_part(local)}@{domain}"


def qualify(address: str, domain: str) -> str:
    """'san.zhang' -> 'san.zhang@acme.com'; full addresses stay as they are."""
    return address if "@" in address else f"{address}@{domain}"
