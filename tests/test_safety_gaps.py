"""Safety beyond removals: a mass rename is refused like a mass removal, and a protected account is
left untouched whichever of its addresses protects it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.changes import Change, Plan
from reconciler.model.files import Safety
from reconciler.model.loader import load_org
from reconciler.plan.build import build_plan
from reconciler.plan.safety import check_safety
from reconciler.providers.local import LocalProvider
from reconciler.state import State, User
from tests.applying import apply_all
from tests.test_cli import edit, reconciler

ADMIN = "admin@acme.com"


@pytest.fixture
def repo(org_copy: Path) -> Path:
    return org_copy.parent


def plan_of(repo: Path) -> Plan:
    org, issues = load_org(repo / "org")
    assert issues == []
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    try:
        return build_plan(org, issues, provider).plan
    finally:
        provider.close()


def applied(repo: Path) -> None:
    plan = plan_of(repo)
    assert plan.violations == []
    provider = LocalProvider(repo / ".reconciler" / "directory.json")
    assert apply_all(plan.changes, provider).ok
    assert plan_of(repo).changes == []


def mentions(change: Change, address: str) -> bool:
    return address in json.dumps([change.key, change.before, change.after])


# --- renames ---------------------------------------------------------------------------------

def test_a_naming_change_that_renames_most_mailboxes_is_refused(repo: Path) -> None:
    applied(repo)
    edit(repo, "naming.yaml", 'pattern: "{family}{given}"', 'pattern: "{given}.{family}"')
    plan = plan_of(repo)
    renames = [c for c in plan.changes if c.kind == "user" and c.before and c.after
               and c.before["email"] != c.after["email"]]
    assert len(renames) >= 40  # everyone whose address is derived
    managed = plan.managed_users
    [refused] = plan.violations
    assert (refused.code, refused.severity, refused.subject) == (
        "max-rename-percent", "high", "safety.max_rename_percent")
    assert refused.message == (
        f"the plan changes the address of {len(renames)} of {managed} managed users "
        f"({100 * len(renames) / managed:.1f}%), over safety.max_rename_percent = 10%")
    assert refused.action == (
        "if this is intended, raise safety.max_rename_percent in org.yaml in this same pull request (the plan is "
        "checked again), or split the change into smaller pull requests; an edit of naming.yaml renames everyone "
        "whose address it derives: to keep someone's address, set email: in their file")

    # The CLI refuses it like the other limits: plan exits 1, apply changes nothing.
    before = (repo / ".reconciler" / "directory.json").read_bytes()
    result = reconciler(repo, "plan")
    assert result.returncode == 1
    assert "over safety.max_rename_percent = 10%" in result.stdout + result.stderr
    assert reconciler(repo, "apply", "--yes").returncode == 1
    assert (repo / ".reconciler" / "directory.json").read_bytes() == before

    # Raised in the same pull request, the plan goes through.
    edit(repo, "org.yaml", "max_delete_percent: 5 ", "max_delete_percent: 5\n  max_rename_percent: 100 ")
    assert plan_of(repo).violations == []


def test_a_few_renames_pass_and_the_share_is_of_managed_users() -> None:
    state = State()
    for n in range(50):
        state.add(User(email=f"p{n}@acme.com", id=f"E{n}"))

    def rename(n: int) -> Change:
        return Change(action="update", kind="user", key=f"q{n}@acme.com", before={"email": f"p{n}@acme.com"},
                      after={"email": f"q{n}@acme.com"}, changed=["email"])

    title = Change(action="update", kind="user", key="p9@acme.com", before={"email": "p9@acme.com", "title": "a"},
                   after={"email": "p9@acme.com", "title": "b"}, changed=["title"])
    assert check_safety([rename(n) for n in range(5)] + [title], Safety(), state) == []  # 10%: at the limit
    [refused] = check_safety([rename(n) for n in range(6)], Safety(), state)
    assert refused.message == ("the plan changes the address of 6 of 50 managed users (12.0%), over "
                               "safety.max_rename_percent = 10%")
    assert check_safety([rename(n) for n in range(6)], Safety(max_rename_percent=12), state) == []


# --- protected accounts ----------------------------------------------------------------------

def change_everything_about_the_admin(repo: Path) -> None:
    """A group, a licence, a role, a title, an alias: every kind of change that could touch E0001."""
    edit(repo, "groups/leadership.yaml", "members: [managers, E1000]", "members: [managers, E1000, E0001]")
    edit(repo, "users/e0001.yaml", "profile: staff", "profile: executive\naliases: [superuser]")
    edit(repo, "users/e0001.yaml", "title: Break-glass administrator account", "title: Changed")
    edit(repo, "permissions.yaml", "members: [E1060]          # 徐海涛", "members: [E1060, E0001]  # 徐海涛")


def protected_changes(plan: Plan) -> list[str]:
    return [c.label for c in plan.changes if mentions(c, ADMIN)]


def warned(plan: Plan) -> list[tuple[str, str]]:
    return [(w.subject or "", w.message) for w in plan.warnings if w.code == "protected"]


def test_a_protected_account_gets_no_group_licence_role_or_other_change(repo: Path) -> None:
    applied(repo)
    change_everything_about_the_admin(repo)
    plan = plan_of(repo)
    assert protected_changes(plan) == []
    said = warned(plan)
    assert all(subject == ADMIN for subject, _ in said)
    kinds = " ".join(message for _, message in said)
    for kind in ("membership", "license", "role", "alias", "user"):
        assert f" {kind} " in kinds, (kind, said)
    assert said[0][1].startswith(f"{ADMIN} is protected (org.yaml safety.protected): not doing ")
    # The rest of the company's changes still go through.
    assert plan.changes == []  # (these edits touch only the admin)

    # Removing the file (a suspension) is left out too.
    (repo / "org" / "users" / "e0001.yaml").unlink()
    edit(repo, "groups/leadership.yaml", "E1000, E0001]", "E1000]")
    edit(repo, "permissions.yaml", "members: [E1060, E0001]", "members: [E1060]")
    plan = plan_of(repo)
    assert protected_changes(plan) == []
    assert (ADMIN, f"{ADMIN} is protected (org.yaml safety.protected): not doing suspend user {ADMIN}") in warned(plan)


@pytest.mark.parametrize("entry", ["admin@acme.cn", "breakglass@acme.com", "breakglass@acme.cn"])
def test_any_address_of_the_account_protects_it(repo: Path, entry: str) -> None:
    """An alias domain's address, or an alias of the account (at either domain), names the same account."""
    edit(repo, "org.yaml", "protected: [admin@acme.com]", "protected: []")
    edit(repo, "users/e0001.yaml", "profile: staff", "profile: staff\naliases: [breakglass]")
    applied(repo)
    edit(repo, "org.yaml", "protected: []", f"protected: [{entry}]")
    change_everything_about_the_admin_but_aliases(repo)
    plan = plan_of(repo)
    assert protected_changes(plan) == []
    said = warned(plan)
    assert said and all(subject == ADMIN for subject, _ in said)
    assert said[0][1].startswith(f"{ADMIN} is protected (org.yaml safety.protected: {entry}): not doing ")


def change_everything_about_the_admin_but_aliases(repo: Path) -> None:
    edit(repo, "groups/leadership.yaml", "members: [managers, E1000]", "members: [managers, E1000, E0001]")
    edit(repo, "users/e0001.yaml", "profile: staff", "profile: executive")
    edit(repo, "users/e0001.yaml", "title: Break-glass administrator account", "title: Changed")


def test_a_new_protected_account_is_created_with_its_groups_and_licence(repo: Path) -> None:
    """Bootstrapping: the first apply creates the break-glass admin whole; after that it is left alone."""
    plan = plan_of(repo)
    created = [c.label for c in plan.changes if mentions(c, ADMIN)]
    assert f"create user {ADMIN}" in created
    assert any(label.startswith("create license ") for label in created)
    assert any(label.startswith("create membership ") for label in created)
    assert warned(plan) == []


def test_unrelated_changes_still_go_through_next_to_a_protected_one(repo: Path) -> None:
    applied(repo)
    edit(repo, "users/e0001.yaml", "title: Break-glass administrator account", "title: Changed")
    edit(repo, "users/e1000.yaml", "title: 总经理", "title: 董事长")
    plan = plan_of(repo)
    assert [c.label for c in plan.changes] == ["update user wangjianguo@acme.com"]
    assert [s for s, _ in warned(plan)] == [ADMIN]
