"""The tenant's users as org/ people: which are described, their ids and their names.

Identity is the employee id. Where the provider holds one it is used as is. A user without
one gets a generated id, `U-` and the address's local part (`U-zhang.wei`; `U-bob.sub` for
bob@sub.example outside the primary domain), which the first apply writes to the provider:
the only change the first plan after an import shows. The `U-` prefix keeps it apart from
group keys (lower-case) and from the company's own numbering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.i18n import T_, Text
from reconciler.importer.report import Notes
from reconciler.model.files import UserEntry
from reconciler.model.types import EMAIL_PATTERN, USER_ID_PATTERN
from reconciler.state import User

MAX_ID = 64


def representable(value: str | None, limit: int = 256) -> bool:
    """Whether org/ can hold the value exactly (its text fields are stripped, 1 to 256 characters)."""
    return value is not None and value == value.strip() and 0 < len(value) <= limit


@dataclass
class Person:
    user: User  # as the provider holds it
    id: str  # the id in the file
    generated: bool  # True: not at the provider yet
    given: str
    family: str

    @property
    def address(self) -> str:
        return self.user.email

    @property
    def entry(self) -> UserEntry:
        """Just enough of a user file for naming.local_base."""
        return UserEntry.model_construct(id=self.id, given_name=self.given, family_name=self.family)


def described_users(users: list[User], plain_domains: set[str], notes: Notes) -> list[User]:
    """Users org/ can describe: their address is in a managed, non-alias domain and valid."""
    kept = []
    for user in users:
        domain = user.email.rsplit("@", 1)[-1]
        if domain not in plain_domains:
            notes.add(T_("primary address in a domain alias (or a domain not imported), which org/ cannot give a "
                      "user; left out (a plan reports it or, if it has an id, suspends it)"), user.email)
        elif not re.fullmatch(EMAIL_PATTERN, user.email):
            notes.add(T_("address org/ cannot write (characters outside a-z 0-9 . _ + -); left out"), user.email)
        else:
            kept.append(user)
    return kept


def _usable_ids(users: list[User], notes: Notes) -> dict[str, str]:
    """address -> provider id, for ids org/ can use. Of accounts sharing an id only the one a plan
    matches (the last read) is kept: the others would be suspended by any plan until fixed."""
    holder: dict[str, str] = {}
    for user in users:
        if user.id is None:
            continue
        if not re.fullmatch(USER_ID_PATTERN, user.id):
            notes.add(T_("employee id is not a valid org/ id ({pattern}); left out: a plan would suspend it until "
                         "the id is fixed at the provider and the import re-run", pattern=USER_ID_PATTERN), user.email)
            continue
        if user.id in holder:
            notes.add(T_("employee id shared with another account; left out: a plan would suspend it until "
                      "the ids are fixed at the provider and the import re-run"), holder[user.id])
        holder[user.id] = user.email
    return {address: uid for uid, address in holder.items()}


def _generated_id(user: User, primary: str, taken: set[str]) -> str:
    local, domain = user.email.split("@", 1)
    text = local if domain == primary else f"{local}.{domain.split('.')[0]}"
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    base = f"U-{text}"[:MAX_ID].rstrip("._-")
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f"-{n}"
        candidate, n = base[: MAX_ID - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _name(value: str | None, fallback: str, topic: Text, address: str, notes: Notes) -> str:
    if representable(value):
        return value  # type: ignore[return-value]
    notes.add(topic, address)
    cleaned = (value or "").strip()[:256]
    return cleaned or fallback


def people_of(users: list[User], primary: str, notes: Notes) -> list[Person]:
    ids = _usable_ids(users, notes)
    taken = {i.lower() for i in ids.values()}
    people = []
    for user in sorted(users, key=lambda u: u.email):
        if user.id is not None and user.email not in ids:
            continue  # reported by _usable_ids
        uid = ids.get(user.email) or _generated_id(user, primary, taken)
        local = user.email.split("@", 1)[0]
        topic = T_("given or family name missing at the provider or not as org/ writes it; the first plan sets it")
        given = _name(user.given_name, local, topic, user.email, notes)
        family = _name(user.family_name, local, topic, user.email, notes)
        people.append(Person(user, uid, user.email not in ids, given, family))
    return people


def file_names(people: list[Person]) -> dict[str, str]:
    """id -> file name under users/: the id in lower case, numbered where two ids differ only in case."""
    used: set[str] = set()
    names = {}
    for person in sorted(people, key=lambda p: (p.id.lower() in used, p.id)):
        stem = person.id.lower()
        name, n = f"{stem}.yaml", 2
        while name in used:
            name, n = f"{stem}-{n}.yaml", n + 1
        used.add(name)
        names[person.id] = name
    return names
