"""Departments told apart by name (Exmail, Alibaba Mail): org/'s key paths become name paths."""

from __future__ import annotations

import pytest

from reconciler.errors import UserError
from reconciler.providers.departments import departments_by_name
from reconciler.state import OrgUnit, State, User


def tree(*units: OrgUnit) -> State:
    state = State()
    for unit in units:
        state.add(unit)
    return state


def no_problem(_: str) -> str | None:
    return None


def test_key_paths_become_name_paths_and_people_follow() -> None:
    desired = tree(OrgUnit(path="/sales", name="销售部"), OrgUnit(path="/sales/east", name="华东销售"))
    desired.add(User(email="a@acme.com", id="E1", orgunit="/sales/east"))
    departments_by_name(desired, "Exmail", no_problem)
    assert sorted(desired.of("orgunit")) == ["/销售部", "/销售部/华东销售"]
    assert desired.users()["a@acme.com"].orgunit == "/销售部/华东销售"


def test_two_siblings_of_one_name_and_names_the_service_refuses_are_said_together() -> None:
    desired = tree(OrgUnit(path="/a", name="市场"), OrgUnit(path="/b", name="市场"), OrgUnit(path="/c", name="x/y"))
    with pytest.raises(UserError) as refused:
        departments_by_name(desired, "Exmail", lambda name: "no / in a name" if "/" in name else None)
    assert str(refused.value).splitlines() == [
        "departments Exmail cannot hold:",
        "  /c ('x/y'): no / in a name",
        "  /市场: two departments with one name under one parent; Exmail tells departments apart by name"]
