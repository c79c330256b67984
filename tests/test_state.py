"""The fields a resource manages and the ones a diff finds changed are read from the resource's
own values (not a model_dump per resource, 630,000 of them in a plan of 100,000 people): they must
say what the dump says, for every kind."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.state import (
    RESOURCE_TYPES,
    Access,
    Alias,
    Domain,
    Group,
    License,
    Membership,
    OrgUnit,
    Resource,
    Role,
    State,
    User,
    changed_fields,
)

FULL: list[Resource] = [
    Domain(name="acme.cn", primary=False, alias_of="acme.com"),
    OrgUnit(path="/sales/east", name="华东", description="East"),
    User(email="a@acme.com", id="E1", given_name="三", family_name="张", display_name="张三", orgunit="/sales",
         department="sales", title="Staff", manager="b@acme.com", phone="+86 1", services=("mail", "drive"),
         suspended=False, deleted=False),
    Group(email="g@acme.com", name="G", description="D", type="mailbox"),
    Alias(address="x@acme.com", target="g@acme.com", target_kind="group"),
    Membership(group="g@acme.com", member="a@acme.com", role="OWNER", member_type="user"),
    License(user="a@acme.com", sku="standard"),
    Role(role="help-desk-admin", user="a@acme.com"),
    Access(owner="a@acme.com", what="inbox-rule", id="r1", name="fwd", forwards_to=("x@evil.example",),
           deletes=True, redirects=False),
]


def _dumped(resource: Resource) -> dict[str, Any]:
    return {k: v for k, v in resource.model_dump().items() if v is not None}


def test_every_kind_is_covered() -> None:
    assert {type(r) for r in FULL} == set(RESOURCE_TYPES.values())


@pytest.mark.parametrize("resource", FULL, ids=lambda r: r.kind)
def test_managed_fields_are_what_the_dump_sets(resource: Resource) -> None:
    assert resource.managed_fields() == _dumped(resource)
    assert list(resource.managed_fields()) == list(_dumped(resource))
    sparse = type(resource).model_validate({k: v for k, v in _dumped(resource).items()
                                            if k in type(resource).model_fields and
                                            type(resource).model_fields[k].is_required()})
    assert sparse.managed_fields() == _dumped(sparse)


def test_changed_fields_compare_only_what_the_desired_side_sets() -> None:
    have = FULL[2]
    assert changed_fields(have, have) == []
    assert changed_fields(User(email="a@acme.com"), have) == []  # sets nothing else: nothing to compare
    want = User(email="a@acme.com", title="Boss", services=("mail",), suspended=True)
    assert changed_fields(want, have) == ["services", "suspended", "title"]
    assert changed_fields(have, want) == ["deleted", "department", "display_name", "family_name", "given_name",
                                          "id", "manager", "orgunit", "phone", "services", "suspended", "title"]


def test_a_states_resources_share_their_fields_sets_and_a_copy_changes_only_its_own() -> None:
    """One set of given fields per distinct set (a plan of 100,000 people holds 630,000 resources);
    pydantic copies it before changing it, so an update of one resource never shows in another."""
    state = State()
    first, second = User(email="a@acme.com", title="Staff"), User(email="b@acme.com", title="Staff")
    assert first.model_fields_set is not second.model_fields_set
    state.add(first)
    state.add(second)
    assert first.model_fields_set is second.model_fields_set == {"email", "title"}
    renamed = first.model_copy(update={"display_name": "A"})
    state.add(renamed)
    assert renamed.model_fields_set == {"email", "title", "display_name"}
    assert first.model_fields_set == second.model_fields_set == {"email", "title"}
    assert first.model_dump(exclude_unset=True) == {"email": "a@acme.com", "title": "Staff"}
