"""What the Microsoft 365 app must be granted: the README's list, the provider's needs and the
emulator's defaults are one list; an app missing a grant is refused as Graph refuses it, and
`check_access` names the missing grant and where to give it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.providers.base import CAPABILITIES
from reconciler.providers.microsoft.grants import APPLICATION_PERMISSIONS, DIRECTORY_ROLES
from tests.applying import apply_all
from tests.emulators.graph import GraphEmulator
from tests.emulators.graph.permissions import DEFAULT_PERMISSIONS, DEFAULT_ROLES
from tests.test_microsoft_provider import graph, plan_for, provider, to_microsoft  # noqa: F401 - a fixture

README = Path(__file__).resolve().parent.parent / "README.md"
APP = "00000000-0000-0000-0000-000000000001"
DENIED = "403 Authorization_RequestDenied: Insufficient privileges to complete the operation."


def _readme_steps() -> tuple[str, str]:
    """Step 2 (API permissions) and step 3 (directory roles) of the README's Microsoft 365 section."""
    section = README.read_text().split("\n## Microsoft 365\n", 1)[1].split("\n## ", 1)[0]
    permissions = section.split("\n2. API permissions", 1)[1].split("\n3. ", 1)[0]
    roles = section.split("\n3. Roles and administrators", 1)[1].split("\n4. ", 1)[0]
    return permissions, roles


def test_the_readme_asks_for_exactly_what_the_provider_needs() -> None:
    permissions, roles = _readme_steps()
    listed = set(re.findall(r"`([A-Z][A-Za-z]+(?:\.[A-Za-z]+)+)`", permissions))
    assert listed == set(APPLICATION_PERMISSIONS) == set(DEFAULT_PERMISSIONS)
    named = {" ".join(name.split()) for name in re.findall(r"\*\*([^*]+)\*\*", roles)}
    assert named == set(DIRECTORY_ROLES) == set(DEFAULT_ROLES)


@pytest.fixture
def tenant(graph: GraphEmulator) -> GraphEmulator:  # noqa: F811 - the fixture imported above
    """The Graph emulator of the Microsoft provider's tests, by the name these tests give it."""
    return graph


# ----------------------------------------------------------------------------- refused as Graph refuses


def test_freezing_an_admin_needs_privileged_authentication_administrator(org_copy: Path,
                                                                        tenant: GraphEmulator) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
    tenant.remove_app_role("Privileged Authentication Administrator")
    user_file = org_copy / "users" / "e1063.yaml"  # 马超, a helpdesk admin
    user_file.write_text(user_file.read_text() + "status: frozen\n")
    plan = plan_for(org_copy).plan
    [freeze] = [c for c in plan.changes if c.kind == "user"]
    [result] = [r for r in apply_all(plan.changes, provider()).results if r.change == freeze]
    assert (result.outcome, result.error) == ("failed", DENIED)
    assert tenant.user(freeze.key)["accountEnabled"] is True  # type: ignore[index]
    tenant.add_app_role("Privileged Authentication Administrator")
    assert apply_all(plan_for(org_copy).plan.changes, provider()).ok


def test_adding_a_domain_needs_domain_readwrite(org_copy: Path, tenant: GraphEmulator) -> None:
    to_microsoft(org_copy)
    tenant.revoke("Domain.ReadWrite.All")
    tenant.grant("Domain.Read.All")
    (org_copy / "domains.yaml").write_text((org_copy / "domains.yaml").read_text() + "- name: acme.hk\n")
    plan = plan_for(org_copy).plan
    [add] = [c for c in plan.changes if c.kind == "domain"]
    [result] = [r for r in apply_all([add], provider()).results]
    assert (result.outcome, result.error) == ("failed", DENIED)
    tenant.grant("Domain.ReadWrite.All")
    assert apply_all([add], provider()).ok
    assert tenant.store.domains["acme.hk"]["isVerified"] is False


# ----------------------------------------------------------------------------- check_access


def test_an_app_granted_what_the_readme_lists_can_do_everything(tenant: GraphEmulator) -> None:
    tenant.reset_stats()
    results = provider().check_access(CAPABILITIES)
    assert [(r.capability, r.ok) for r in results] == [(c, True) for c in CAPABILITIES]
    details = {r.capability: r.detail for r in results}
    assert details["sign-out"] == ("may end sessions, may remove a frozen account's inbox rules; holds the directory "
                                   "roles User Administrator and Privileged Authentication Administrator")
    assert details["write"] == ("may change users, may change groups, may change group members, may restore deleted "
                                "users")
    assert tenant.stats()["requests"] == 3  # one $batch of probes, then the app's service principal and its roles
    assert not [c for c in tenant.call_log() if c["status"] not in (200, 302, 404)]  # nothing was changed


def _consent(name: str) -> str:
    return (f"missing the application permission {name} (Entra admin center > App registrations > {APP} > API "
            f"permissions > Add a permission > Microsoft Graph > Application permissions > {name}, then Grant admin "
            "consent)")


def _role(name: str) -> str:
    return (f"missing the directory role {name} (Entra admin center > Roles & admins > Roles and administrators > "
            f"{name} > Add assignments > select the app {APP})")


@pytest.mark.parametrize(("missing", "capability", "detail"), [
    ("AuditLog.Read.All", "activity", _consent("AuditLog.Read.All")),
    ("Reports.Read.All", "activity", _consent("Reports.Read.All")),
    ("MailboxSettings.ReadWrite", "mailbox", _consent("MailboxSettings.Read")),
    ("RoleManagement.ReadWrite.Directory", "admin-roles", _consent("RoleManagement.ReadWrite.Directory")),
    ("Domain.ReadWrite.All", "domains", _consent("Domain.ReadWrite.All")),
    ("Directory.ReadWrite.All", "write", _consent("Directory.ReadWrite.All")),
    ("role:User Administrator", "sign-out", _role("User Administrator")),
    ("role:Privileged Authentication Administrator", "sign-out", _role("Privileged Authentication Administrator")),
])
def test_an_app_missing_one_grant_is_told_which_and_where(tenant: GraphEmulator, missing: str, capability: str,
                                                          detail: str) -> None:
    if missing.startswith("role:"):
        tenant.remove_app_role(missing.removeprefix("role:"))
    else:
        tenant.revoke(missing)
    results = {r.capability: r for r in provider().check_access(CAPABILITIES)}
    assert (results[capability].ok, results[capability].detail) == (False, detail)
    others = [c for c, r in results.items() if r.ok is not True and c != capability]
    if missing == "Directory.ReadWrite.All":  # which also let the app read its own service principal
        assert others == ["sign-out"] and results["sign-out"].ok is None
        assert results["sign-out"].detail.startswith(f"could not read the app's service principal ({DENIED}); make "
                                                     "sure it holds the directory roles User Administrator and ")
    elif missing == "AuditLog.Read.All":  # the doctor reads the sign-in log too
        assert others == ["mailbox"] and results["mailbox"].detail == detail
    elif missing == "MailboxSettings.ReadWrite":  # a freeze removes a frozen account's inbox rules too
        assert others == ["sign-out"] and results["sign-out"].detail == _consent("MailboxSettings.ReadWrite")
    else:
        assert others == []


def test_a_plan_only_app_can_read_but_not_write(tenant: GraphEmulator) -> None:
    for name in list(tenant.app.permissions):
        tenant.revoke(name)
    for name in ("User.Read.All", "Group.Read.All", "Domain.Read.All"):
        tenant.grant(name)
    results = {r.capability: r for r in provider().check_access(["read", "write", "dns-records", "licenses"])}
    assert (results["read"].ok, results["dns-records"].ok) == (True, True)
    assert results["write"].ok is False
    assert results["write"].detail == "; ".join(_consent(n) for n in ("User.ReadWrite.All", "Group.ReadWrite.All",
                                                                       "GroupMember.ReadWrite.All",
                                                                       "Directory.ReadWrite.All"))
    assert (results["licenses"].ok, results["licenses"].detail) == (
        False, f"{_consent('Organization.Read.All')}; {_consent('User.ReadWrite.All')}")
