"""What real Microsoft 365 tenants do on day one that a plain emulator hides, end to end through
the provider: objects that are not visible yet, a default domain org/ does not call primary,
groups without owners, licence swaps and plan dependencies, deleted users' names, the cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.model.files import MicrosoftProviderConfig
from reconciler.providers.microsoft import MicrosoftProvider
from reconciler.providers.microsoft.client import CLOUDS, ENDPOINT_ENV, credential, graph_root
from reconciler.providers.microsoft.licences import disabled_plans
from tests.applying import apply_all
from tests.emulators.graph import GraphEmulator
from tests.graph_clock import FakeClock
from tests.test_microsoft_provider import SKUS, plan_for, to_microsoft

TEAMS1 = "57ff2da0-773e-42df-b2af-ffb7a2317929"
FOUNDATION = "113feb6c-3fe4-4440-bddc-54d774bf0318"


def provider(clock: FakeClock | None = None, cloud: str = "global") -> MicrosoftProvider:
    config = MicrosoftProviderConfig(kind="microsoft", tenant="acme.com", usage_location="CN",
                                     client_id="00000000-0000-0000-0000-000000000001", cloud=cloud)  # type: ignore[arg-type]
    return MicrosoftProvider(config, sleep=clock.sleep if clock else None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[GraphEmulator]:
    """A tenant where a new object cannot be found by id for 3 s, as Entra ID's replicas lag."""
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=SKUS, consistency_delay_s=3, clock=clock).start()
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def _tenant(monkeypatch: pytest.MonkeyPatch, **options: object) -> GraphEmulator:
    emu = GraphEmulator(**{"domains": ("acme.com", "acme.cn"), "skus": SKUS, **options}).start()  # type: ignore[arg-type]
    monkeypatch.setenv(ENDPOINT_ENV, emu.url)
    return emu


# ----------------------------------------------------------------------------- 1. objects created moments ago


def test_the_example_org_converges_on_a_tenant_slow_to_show_new_objects(org_copy: Path, slow: GraphEmulator,
                                                                        clock: FakeClock) -> None:
    to_microsoft(org_copy)
    ms = provider(clock)
    report = apply_all(plan_for(org_copy, ms).plan.changes, ms)
    assert report.ok, report.counts()
    assert clock.slept > 0  # memberships, licences and managers of new people waited for them to show
    assert plan_for(org_copy, provider(clock)).plan.changes == []
    assert len(slow.members("sales")) > 1


def test_a_404_for_an_object_nobody_just_made_is_not_waited_for(org_copy: Path, slow: GraphEmulator,
                                                                 clock: FakeClock) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
    user_file = org_copy / "users" / "e1012.yaml"
    user_file.write_text(user_file.read_text().replace("title:", "title: 新", 1))
    plan = plan_for(org_copy, provider(clock)).plan
    assert [c.label for c in plan.changes] == ["update user zengxiaoyan@acme.com"]
    slow.fail_next("PATCH", r"^/users/", 404, "Request_ResourceNotFound", "Resource 'x' does not exist.")
    waited = clock.slept
    [result] = apply_all(plan.changes, provider(clock)).results
    assert (result.outcome, result.error) == ("failed", "404 Request_ResourceNotFound: Resource 'x' does not exist.")
    assert clock.slept == waited  # the user itself is the target and long there: gone, not lagging


def test_a_new_member_that_never_shows_fails_after_two_minutes(org_copy: Path, slow: GraphEmulator,
                                                               clock: FakeClock) -> None:
    to_microsoft(org_copy)
    assert apply_all(plan_for(org_copy, provider(clock)).plan.changes, provider(clock)).ok
    (org_copy / "users" / "e2001.yaml").write_text("id: E2001\ngiven_name: 静\nfamily_name: 陈\n"
                                                   "department: sales\npersonal_email: chen@example.org\n")
    ms = provider(clock)
    plan = plan_for(org_copy, ms).plan
    assert ("create", "user", "chenjing@acme.com") in [(c.action, c.kind, c.key) for c in plan.changes]
    sales = slow.group("sales")
    assert sales is not None
    slow.fail_next("POST", rf"^/groups/{sales['id']}/members/\$ref$", 404, "Request_ResourceNotFound",
                   "Resource 'x' does not exist or one of its queried reference-property objects are not present.",
                   count=1000)
    before = clock.slept
    report = apply_all(plan.changes, ms)
    failed = {r.change.key: r.error for r in report.failed}
    assert failed == {"sales@acme.com/chenjing@acme.com": "404 Request_ResourceNotFound: Resource 'x' does not exist "
                      "or one of its queried reference-property objects are not present."}
    # Asked again after 2, 4, 8, 16, 30, 30 and 30 s; the new person's other membership made it on the way.
    assert clock.slept - before == 120
    assert "chenjing@acme.com" in [m["userPrincipalName"] for m in slow.members("all-staff")]


# ----------------------------------------------------------------------------- 2. default domain, group addresses


def test_a_tenant_whose_default_domain_is_not_org_primary(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch, tenant_domain="acme.cn")  # the default domain: acme.cn; org/ says acme.com
    try:
        to_microsoft(org_copy)
        ms = provider()
        plan = plan_for(org_copy, ms).plan
        assert not [c for c in plan.changes if c.kind == "domain"]
        codes = {(w.code, w.subject): w for w in plan.warnings}
        assert codes[("default-domain", "acme.com")].message == (
            "org/ makes acme.com the primary domain but the tenant's default domain is acme.cn; the reconciler does "
            "not change the default (new groups get their address there)")
        assert codes[("group-address", "sales@acme.com")].message.startswith(
            "sales@acme.com is planned as sales@acme.cn: Microsoft 365 chooses a group's address")
        assert codes[("group-address", "vpn-users@acme.com")].severity == "low"  # a security group has no address
        report = apply_all(plan.changes, ms)
        assert report.ok, [(r.change.label, r.error) for r in report.failed][:5]
        assert plan_for(org_copy, provider()).plan.changes == []  # no second security group, no failing members
        assert sum(g["mailNickname"] == "vpn-users" for g in emu.store.groups.values()) == 1
        assert emu.group("sales")["mail"] == "sales@acme.cn"  # type: ignore[index]
        assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
        assert sum(g["mailNickname"] == "vpn-users" for g in emu.store.groups.values()) == 1
    finally:
        emu.stop()


def test_a_group_graph_would_put_on_an_unlisted_domain_is_said_and_left_alone(org_copy: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch, tenant_domain="acme.net", domains=("acme.net", "acme.com", "acme.cn"))
    try:
        to_microsoft(org_copy)
        plan = plan_for(org_copy).plan
        assert not [c for c in plan.changes if c.kind in ("group", "membership")]
        warning = next(w for w in plan.warnings if (w.code, w.subject) == ("group-address", "hr@acme.com"))
        assert (warning.severity, warning.message) == ("high", "Microsoft 365 gives the group hr the address "
                                                               "hr@acme.net, on a domain domains.yaml does not list; "
                                                               "the group is not managed here")
    finally:
        emu.stop()


# ----------------------------------------------------------------------------- 3. groups made with their owners


def test_groups_are_created_with_their_owners(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch)
    try:
        to_microsoft(org_copy)
        ms = provider()  # plans and applies, as `reconciler apply` does
        assert apply_all(plan_for(org_copy, ms).plan.changes, ms).ok
        assert emu.created_without_owners() == []
        [create] = [c for c in emu.call_log() if c["method"] == "POST" and c["path"] == "/groups"
                    and c["body"]["mailNickname"] == "sales"]
        assert len(create["body"]["owners@odata.bind"]) == 1
        assert len(create["body"]["owners@odata.bind"]) + len(create["body"]["members@odata.bind"]) <= 20
        assert [o["userPrincipalName"] for o in emu.owners("sales")] == ["lizhiqiang@acme.com"]
        assert plan_for(org_copy, provider()).plan.changes == []
    finally:
        emu.stop()


# ----------------------------------------------------------------------------- 4. licences


def test_a_profile_change_swaps_licences_in_one_call(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch)
    try:
        to_microsoft(org_copy)
        assert apply_all(plan_for(org_copy, provider()).plan.changes, provider()).ok
        user_file = org_copy / "users" / "e1065.yaml"
        user_file.write_text(user_file.read_text().replace("profile: contractor", "profile: staff"))
        emu.reset_stats()
        plan = plan_for(org_copy).plan
        [swap] = [c for c in plan.changes if c.kind == "license"]
        assert (swap.action, swap.key, swap.before["sku"]) == (  # type: ignore[index]
            "update", "pengtao@acme.com/O365_BUSINESS_PREMIUM", "O365_BUSINESS_ESSENTIALS")
        assert apply_all(plan.changes, provider()).ok
        assert emu.license_gaps() == []  # never a moment without a licence
        [call] = [c for c in emu.call_log() if c["path"].endswith("/assignLicense") and c["body"]["removeLicenses"]]
        assert [a["skuId"] for a in call["body"]["addLicenses"]] == ["f245ecc8-75af-4f8e-b61f-27d8114de5f3"]
        assert emu.licenses_of("pengtao@acme.com") == ["O365_BUSINESS_PREMIUM"]
        assert plan_for(org_copy).plan.changes == []
    finally:
        emu.stop()


def test_disabled_plans_keep_what_other_plans_depend_on(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch, skus={**SKUS, "TEAMS_ESSENTIALS_AAD": 5})
    try:
        to_microsoft(org_copy)
        permissions = org_copy / "permissions.yaml"
        permissions.write_text(permissions.read_text().replace(
            "  executive:", "  frontline:\n    services: [chat, meet]\n"
                            "    licenses: {microsoft: TEAMS_ESSENTIALS_AAD, google: x, local: x}\n  executive:"))
        user_file = org_copy / "users" / "e1065.yaml"
        user_file.write_text(user_file.read_text().replace("profile: contractor", "profile: frontline"))
        report = apply_all(plan_for(org_copy).plan.changes, provider())
        assert report.ok, [(r.change.label, r.error) for r in report.failed]
        [held] = emu.user("pengtao@acme.com")["assignedLicenses"]  # type: ignore[index]
        assert FOUNDATION not in held["disabledPlans"]  # no mailbox, but Teams needs it: never switched off
        assert plan_for(org_copy).plan.changes == []
    finally:
        emu.stop()


def test_disabled_plans_follow_dependencies_not_names() -> None:
    sku = {"servicePlans": [{"servicePlanName": "EXCHANGE_S_FOUNDATION", "servicePlanId": FOUNDATION},
                            {"servicePlanName": "TEAMS1", "servicePlanId": TEAMS1}]}
    assert disabled_plans(sku, ("chat", "meet")) == []
    assert disabled_plans(sku, ("mail",)) == [TEAMS1]  # Foundation is no mailbox: it stays
    office = {"servicePlans": [{"servicePlanName": "SHAREPOINTSTANDARD", "servicePlanId": "sp"},
                               {"servicePlanName": "SHAREPOINTWAC", "servicePlanId": "wac"},
                               {"servicePlanName": "EXCHANGE_S_STANDARD", "servicePlanId": "ex"}]}
    assert disabled_plans(office, ("mail",)) == ["sp", "wac"]  # Office for the web goes with SharePoint


# ----------------------------------------------------------------------------- 7. deleted users, the cloud


def test_a_deleted_user_is_known_by_the_name_graph_keeps_not_by_its_nickname(org_copy: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    emu = _tenant(monkeypatch)
    try:
        to_microsoft(org_copy)
        assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
        user = emu.user("fangyuan@acme.com")
        assert user is not None
        emu.store.users[user["id"]]["mailNickname"] = "fang.yuan"  # an admin's choice, not the address
        user_file = org_copy / "users" / "e1084.yaml"
        original = user_file.read_text()
        user_file.write_text(original + "status: offboarded\noffboarded_on: 2026-01-01\n")
        for _ in range(2):  # suspended, then deleted
            assert apply_all(plan_for(org_copy).plan.changes, provider()).ok
        [deleted] = emu.deleted_users()
        assert deleted["userPrincipalName"] == user["id"].replace("-", "") + "fangyuan@acme.com"
        user_file.write_text(original)
        plan = plan_for(org_copy).plan
        [restore] = [c for c in plan.changes if c.kind == "user"]
        assert (restore.action, restore.key, restore.before["email"]) == (  # type: ignore[index]
            "restore", "fangyuan@acme.com", "fangyuan@acme.com")
        assert "email" not in restore.changed  # not a rename to undo a name the nickname made up
        assert apply_all(plan.changes, provider()).ok
        assert emu.user("fangyuan@acme.com")["mailNickname"] == "fang.yuan"  # type: ignore[index]
        assert plan_for(org_copy).plan.changes == []
    finally:
        emu.stop()


def test_a_21vianet_tenant_signs_in_and_calls_graph_in_china(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    assert graph_root("china") == "https://microsoftgraph.chinacloudapi.cn/v1.0"
    assert CLOUDS["china"].scope == "https://microsoftgraph.chinacloudapi.cn/.default"
    import azure.identity

    made: list[tuple[tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr(azure.identity, "ClientSecretCredential", lambda *a, **k: made.append((a, k)))
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "not-a-secret")
    credential("acme.partner.onmschina.cn", "00000000-0000-0000-0000-000000000001", "china")
    assert made == [(("acme.partner.onmschina.cn", "00000000-0000-0000-0000-000000000001", "not-a-secret"),
                     {"authority": "login.chinacloudapi.cn"})]
    assert provider(cloud="china").mutations.graph == "https://microsoftgraph.chinacloudapi.cn/v1.0"
    assert MicrosoftProviderConfig.model_validate({"kind": "microsoft", "tenant": "t", "client_id": "c"}).cloud \
        == "global"
    assert "cloud: china" in (Path(__file__).resolve().parent.parent / "README.md").read_text()
