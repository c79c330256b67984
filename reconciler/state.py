"""The canonical resources both sides speak, and `State`: kind -> key -> resource.

Providers translate their API objects to and from these; diffing, ordering,
safety and rendering only ever see these. A field left as None in a *desired*
resource means "org/ does not manage it": it is never compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticUndefined

Kind = Literal["domain", "orgunit", "user", "group", "alias", "membership", "license", "role", "access"]
# "access" is not in KIND_ORDER: no State holds it and no diff makes it. It is what keeps a frozen
# account's mail or sign-in reachable by someone else (forwarding, a rule, a delegate, an OAuth
# token, an app password), planned for removal by plan/incident.py from what the provider reads.
# Creation order: what later kinds refer to comes first. Deletion runs in reverse.
KIND_ORDER: tuple[Kind, ...] = (
    "domain",
    "orgunit",
    "user",
    "group",
    "alias",
    "membership",
    "license",
    "role",
)
# Every kind a plan may hold, in the order reports show them: "access" (a frozen account's
# forwarding, rules, delegates, tokens) is planned from what the provider reads, never diffed.
PLAN_KINDS: tuple[Kind, ...] = (*KIND_ORDER, "access")
# Kinds that are sets hanging off an owner: only owners org/ manages are diffed.
COLLECTION_KINDS: frozenset[Kind] = frozenset({"alias", "membership", "license", "role"})


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[Kind]

    @property
    def key(self) -> str:
        raise NotImplementedError

    @property
    def scope(self) -> str:
        """For collection kinds: the owner whose whole collection org/ manages."""
        return self.key

    @property
    def anchor(self) -> str:
        """The address whose domain this resource belongs to (providers fetch by domain)."""
        return self.key

    def refs(self) -> list[tuple[Kind, str]]:
        """Other resources this one needs to exist first (for apply ordering and skips)."""
        return []

    def managed_fields(self) -> dict[str, Any]:
        """The fields a desired resource sets; None means unmanaged. Read from the instance's own
        values, which is what model_dump() gives for these flat models (no nested models), without
        serialising 630,000 resources in a plan of 100,000 people."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Domain(Resource):
    kind: ClassVar[Kind] = "domain"
    name: str
    primary: bool = False
    alias_of: str | None = None

    @property
    def key(self) -> str:
        return self.name

    def refs(self) -> list[tuple[Kind, str]]:
        return [("domain", self.alias_of)] if self.alias_of else []


class OrgUnit(Resource):
    kind: ClassVar[Kind] = "orgunit"
    path: str  # "/sales/sales-east"
    name: str | None = None
    description: str | None = None

    @property
    def key(self) -> str:
        return self.path

    @property
    def parent(self) -> str | None:
        head = self.path.rsplit("/", 1)[0]
        return head or None

    def refs(self) -> list[tuple[Kind, str]]:
        return [("orgunit", self.parent)] if self.parent else []


class User(Resource):
    kind: ClassVar[Kind] = "user"
    email: str
    id: str | None = None  # the employee id: our identity for the person
    given_name: str | None = None
    family_name: str | None = None
    display_name: str | None = None
    orgunit: str | None = None
    department: str | None = None
    title: str | None = None
    manager: str | None = None  # the manager's address
    phone: str | None = None
    services: tuple[str, ...] | None = None
    suspended: bool | None = None
    deleted: bool | None = None  # only on users read from the provider's restorable deleted items

    @property
    def key(self) -> str:
        return self.email

    def refs(self) -> list[tuple[Kind, str]]:
        refs: list[tuple[Kind, str]] = [("domain", self.email.split("@", 1)[1])]
        if self.orgunit and self.orgunit != "/":
            refs.append(("orgunit", self.orgunit))
        # The manager is no hard dependency: providers keep it as an address (Google) or set
        # it after creation (Microsoft), and a batch of new users may name each other.
        return refs


class Group(Resource):
    kind: ClassVar[Kind] = "group"
    email: str
    name: str | None = None
    description: str | None = None
    type: str | None = None

    @property
    def key(self) -> str:
        return self.email

    def refs(self) -> list[tuple[Kind, str]]:
        return [("domain", self.email.split("@", 1)[1])]


class Alias(Resource):
    kind: ClassVar[Kind] = "alias"
    address: str
    target: str
    target_kind: Literal["user", "group"] = "user"

    @property
    def key(self) -> str:
        return self.address

    @property
    def scope(self) -> str:
        return self.target

    def refs(self) -> list[tuple[Kind, str]]:
        return [(self.target_kind, self.target)]


class Membership(Resource):
    kind: ClassVar[Kind] = "membership"
    group: str
    member: str
    role: Literal["MEMBER", "OWNER"] = "MEMBER"
    member_type: Literal["user", "group", "external"] = "user"

    @property
    def key(self) -> str:
        return f"{self.group}/{self.member}"

    @property
    def scope(self) -> str:
        return self.group

    @property
    def anchor(self) -> str:
        return self.group

    def refs(self) -> list[tuple[Kind, str]]:
        refs: list[tuple[Kind, str]] = [("group", self.group)]
        if self.member_type != "external":
            refs.append((self.member_type, self.member))
        return refs


class License(Resource):
    kind: ClassVar[Kind] = "license"
    user: str
    sku: str

    @property
    def key(self) -> str:
        return f"{self.user}/{self.sku}"

    @property
    def scope(self) -> str:
        return self.sku

    @property
    def anchor(self) -> str:
        return self.user

    def refs(self) -> list[tuple[Kind, str]]:
        return [("user", self.user)]


class Role(Resource):
    kind: ClassVar[Kind] = "role"
    role: str
    user: str

    @property
    def key(self) -> str:
        return f"{self.role}/{self.user}"

    @property
    def scope(self) -> str:
        return self.role

    @property
    def anchor(self) -> str:
        return self.user

    def refs(self) -> list[tuple[Kind, str]]:
        return [("user", self.user)]


# What an Access is, as the plan and the evidence name it.
AccessWhat = Literal["forwarding", "filter", "inbox-rule", "delegate", "oauth-token", "app-password"]
ACCESS_WHATS: tuple[AccessWhat, ...] = ("forwarding", "filter", "inbox-rule", "delegate", "oauth-token",
                                        "app-password")


class Access(Resource):
    """Something of one account that lets mail or a sign-in reach someone else: removed when the
    account is frozen (a security incident), never compared with org/."""

    kind: ClassVar[Kind] = "access"
    owner: str  # the frozen account's address
    what: AccessWhat
    id: str = ""  # the provider's id for it (a filter id, a client id, a code id; "" for auto-forwarding)
    name: str | None = None  # what a person knows it by: the app's name, the rule's name, the delegate
    forwards_to: tuple[str, ...] = ()
    deletes: bool = False
    redirects: bool = False

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.what}" + (f"/{self.id}" if self.id else "")

    @property
    def anchor(self) -> str:
        return self.owner


RESOURCE_TYPES: dict[Kind, type[Resource]] = {
    cls.kind: cls for cls in (Domain, OrgUnit, User, Group, Alias, Membership, License, Role, Access)
}


def changed_fields(desired: Resource, actual: Resource) -> list[str]:
    """The fields `desired` manages (sets) whose value `actual` does not have."""
    if desired.__dict__ == actual.__dict__:  # the common case of a no-change plan, compared in C
        return []
    return sorted(k for k, v in desired.__dict__.items() if v is not None and getattr(actual, k) != v)


def resource_from_dict(kind: Kind, data: dict[str, Any]) -> Resource:
    return RESOURCE_TYPES[kind].model_validate(data)


# pydantic keeps with every instance the set of fields it was given (`model_fields_set`): 728 bytes
# for a user, more than its values (464), and a plan of 100,000 people holds 630,000 resources. The
# sets are few and alike, so a State's resources share one per distinct set: pydantic only reads
# it, and copies it before changing it (model_copy). Nothing here changes one in place.
_FIELDS_SETS: dict[tuple[str, ...], set[str]] = {}


# The ids of the shared sets (each kept in _FIELDS_SETS for good, so an id is never reused): a
# resource holding one already is recognised without building the tuple that finds it.
_SHARED_IDS: set[int] = set()


def _shared_fields_set(given: set[str]) -> set[str]:
    shared = _FIELDS_SETS.setdefault(tuple(given), given)
    _SHARED_IDS.add(id(shared))
    return shared


def _share_fields_set(resource: Resource) -> None:
    given = resource.__pydantic_fields_set__
    shared = _shared_fields_set(given)
    if shared is not given:
        object.__setattr__(resource, "__pydantic_fields_set__", shared)


R = TypeVar("R", bound=Resource)


# pydantic's own slots of every model instance, set directly (as pydantic does, without its checks).
_SET_DICT = object.__setattr__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[R], *given: str) -> Callable[..., R]:
    """A builder of `cls` resources, always from the `given` fields, out of values that are already
    what the fields hold: the strings of entries org/ validated, addresses and tuples this run made.
    Validating them again was most of building 300,000 resources for 100,000 people (a user's
    __init__ is 2.2 µs, this half of it; pydantic's model_construct is slower than either). What it
    builds is what `cls(**values)` gives (tests/test_resolve_scale.py holds them side by side);
    anything from a person's hand or a provider goes through `cls(...)`, never here."""
    fields = cls.model_fields
    unknown = set(given) - set(fields)
    missing = {name for name, info in fields.items() if info.is_required()} - set(given)
    if unknown or missing or any(info.default_factory is not None for info in fields.values()):
        raise TypeError(f"{cls.__name__} cannot be built from {given}")  # a programming error
    # Every field in declaration order, as pydantic fills __dict__, defaults in place.
    template = {name: None if info.default is PydanticUndefined else info.default for name, info in fields.items()}
    fields_set = _shared_fields_set(set(given))
    new = object.__new__

    def build(**values: Any) -> R:
        if values.keys() != fields_set:  # a field left out or misspelt would go unnoticed otherwise
            raise TypeError(f"{cls.__name__} is built from {sorted(fields_set)}, not {sorted(values)}")
        resource = new(cls)
        _SET_DICT(resource, "__dict__", {**template, **values})
        _SET_FIELDS_SET(resource, fields_set)
        _SET_EXTRA(resource, None)
        _SET_PRIVATE(resource, None)
        return resource

    return build


@dataclass
class State:
    """Resources by kind and key; `scopes` says which collections org/ manages."""

    resources: dict[Kind, dict[str, Resource]] = field(
        default_factory=lambda: {kind: {} for kind in KIND_ORDER}
    )
    scopes: dict[Kind, set[str]] = field(
        default_factory=lambda: {kind: set() for kind in COLLECTION_KINDS}
    )
    # Users deleted at the provider that can still be restored, by address.
    deleted: dict[str, User] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        if id(resource.__pydantic_fields_set__) not in _SHARED_IDS:  # most are shared already: no call
            _share_fields_set(resource)
        self.resources[resource.kind][resource.key] = resource

    def get(self, kind: Kind, key: str) -> Resource | None:
        return self.resources[kind].get(key)

    def of(self, kind: Kind) -> dict[str, Resource]:
        return self.resources[kind]

    def users(self) -> dict[str, User]:
        return self.resources["user"]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[Resource]:
        for kind in KIND_ORDER:
            yield from self.resources[kind].values()

    def count(self) -> int:
        return sum(len(v) for v in self.resources.values())
