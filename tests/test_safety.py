"""Safety limits: freezes are counted apart from removals, and every refusal says how to go on."""

from __future__ import annotations

from reconciler.changes import FREEZING, Change
from reconciler.model.files import Safety
from reconciler.plan.safety import check_safety
from reconciler.state import Role, State, User


def company(people: int) -> State:
    state = State()
    for n in range(people):
        state.add(User(email=f"p{n}@acme.com", id=f"E{n}"))
    state.add(Role(role="super-admin", user="p0@acme.com"))
    return state


def suspend(address: str, *, frozen: bool = False) -> Change:
    before = {"email": address, "suspended": False}
    return Change(action="suspend", kind="user", key=address, before=before, after={**before, "suspended": True},
                  changed=["suspended"], security=frozen, effects=FREEZING if frozen else [])


def test_freezing_three_of_fifty_compromised_accounts_is_not_a_mass_removal() -> None:
    frozen = [suspend(f"p{n}@acme.com", frozen=True) for n in (1, 2, 3)]
    assert check_safety(frozen, Safety(), company(50)) == []
    # The same three as leavers are 6% of the managed users: over the default 5%.
    [refused] = check_safety([suspend(f"p{n}@acme.com") for n in (1, 2, 3)], Safety(), company(50))
    assert (refused.code, refused.subject) == ("max-delete-percent", "safety.max_delete_percent")
    assert refused.action == ("if this is intended, raise safety.max_delete_percent in org.yaml in this same pull "
                              "request (the plan is checked again), or split the change into smaller pull requests")


def test_freezes_have_their_own_limit() -> None:
    frozen = [suspend(f"p{n}@acme.com", frozen=True) for n in range(1, 5)]
    [refused] = check_safety(frozen, Safety(max_freezes=3), company(50))
    assert (refused.code, refused.severity, refused.message) == (
        "max-freezes", "high", "the plan freezes 4 accounts, over safety.max_freezes = 3")
    assert refused.action is not None and "raise safety.max_freezes in org.yaml" in refused.action
    assert check_safety(frozen, Safety(max_freezes=4), company(50)) == []


def test_freezing_the_last_super_admin_is_still_refused() -> None:
    [refused] = check_safety([suspend("p0@acme.com", frozen=True)], Safety(), company(50))
    assert refused.code == "last-super-admin"
    assert refused.action == "keep at least one: give another person the super-admin role in permissions.yaml first"
