"""The Microsoft Graph emulator, driven by the real msgraph-sdk (wired as the provider wires it).

msgraph-sdk parses every object through its generated models at about 10 ms a user, so the
scenarios keep SDK-parsed volumes small and check bulk behaviour (999-item pages, request
counts) with raw httpx against the same server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("msgraph")

import httpx

# msgraph's generated request builders (and kiota-abstractions under them) warn with
# DeprecationWarning when their modules load, which the SDK does lazily, during calls. pytest
# turns warnings into errors in this project, so those two packages' deprecations are ignored.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.authentication import AnonymousAuthenticationProvider
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
    from msgraph.generated.models.assigned_license import AssignedLicense
    from msgraph.generated.models.domain_dns_cname_record import DomainDnsCnameRecord
    from msgraph.generated.models.domain_dns_mx_record import DomainDnsMxRecord
    from msgraph.generated.models.domain_dns_txt_record import DomainDnsTxtRecord
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.password_profile import PasswordProfile
    from msgraph.generated.models.reference_create import ReferenceCreate
    from msgraph.generated.models.reference_update import ReferenceUpdate
    from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
    from msgraph.generated.models.user import User
    from msgraph.generated.users.item.assign_license.assign_license_post_request_body import (
        AssignLicensePostRequestBody,
    )
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core import GraphClientFactory, PageIterator
    from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

from tests.emulators.graph import GraphEmulator

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:msgraph"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:kiota_abstractions")]
ROOT = Path(__file__).resolve().parent.parent
BUSINESS_STANDARD = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
TEAMS1 = "57ff2da0-773e-42df-b2af-ffb7a2317929"
USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1"
PASSWORD = "Xy-12345678"


@pytest.fixture(scope="module")
def server() -> Iterator[GraphEmulator]:
    with GraphEmulator(domains=("acme.com", "acme.cn"), skus={"O365_BUSINESS_PREMIUM": 2, "SPE_E3": 10}) as emulator:
        yield emulator


@pytest.fixture
def emulator(server: GraphEmulator) -> GraphEmulator:
    server.reset()
    return server


@contextlib.asynccontextmanager
async def sdk(emulator: GraphEmulator, *, set_base_url: bool = True) -> AsyncIterator[
        tuple[GraphServiceClient, GraphRequestAdapter]]:
    # msgraph-core's AsyncGraphTransport does not close the transport it wraps: keep our own
    # handle on it, or every test leaks its sockets.
    transport = httpx.AsyncHTTPTransport()
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(base_url=f"{emulator.url}/v1.0", transport=transport))
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
    if set_base_url:
        adapter.base_url = f"{emulator.url}/v1.0"
    try:
        yield GraphServiceClient(request_adapter=adapter), adapter
    finally:
        await http.aclose()
        await transport.aclose()


def run(emulator: GraphEmulator, scenario: Callable[[GraphServiceClient], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        async with sdk(emulator) as (client, _adapter):
            await scenario(client)
    asyncio.run(main())


def new_user(upn: str, nickname: str, password: str = PASSWORD) -> User:
    return User(account_enabled=True, display_name=nickname.title(), mail_nickname=nickname, user_principal_name=upn,
                password_profile=PasswordProfile(password=password, force_change_password_next_sign_in=True))


async def graph_error(call: Coroutine[Any, Any, Any]) -> ODataError:
    with pytest.raises(ODataError) as caught:
        await call
    return caught.value


def raw(emulator: GraphEmulator, method: str, path: str, body: Any = None,
        headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.request(method, f"{emulator.url}{path}", json=body, headers=headers)


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


# ----------------------------------------------------------------------------- users


def test_create_then_page_through_users_with_the_page_iterator(emulator: GraphEmulator) -> None:
    for index in range(4):
        emulator.add_user(f"seed{index}@acme.com", f"Seed {index}", employeeId=f"E{index:04d}")

    async def scenario(client: GraphServiceClient) -> None:
        created = await client.users.post(new_user("zhangwei@acme.com", "zhangwei"))
        assert created is not None and created.user_principal_name == "zhangwei@acme.com"
        assert created.display_name == "Zhangwei" and uuid.UUID(str(created.id))
        query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=["id", "userPrincipalName"], top=2)
        first = await client.users.get(RequestConfiguration(query_parameters=query))
        seen: list[User] = []
        await PageIterator(first, client.request_adapter).iterate(lambda user: seen.append(user) or True)
        assert [u.user_principal_name for u in seen] == [
            "seed0@acme.com", "seed1@acme.com", "seed2@acme.com", "seed3@acme.com", "zhangwei@acme.com"]
        assert {u.display_name for u in seen} == {None}      # not selected
    run(emulator, scenario)
    lists = [entry for entry in emulator.call_log() if entry["path"] == "/users" and entry["method"] == "GET"]
    assert [entry["query"]["$select"] for entry in lists] == ["id,userPrincipalName"] * 3
    assert ["$skiptoken" in entry["query"] for entry in lists] == [False, True, True]
    stored = emulator.user("zhangwei@acme.com")
    assert stored is not None and stored["passwordProfile"] == {"password": PASSWORD,
                                                                 "forceChangePasswordNextSignIn": True}


def test_pages_hold_at_most_999_users_and_the_next_link_keeps_the_query(emulator: GraphEmulator) -> None:
    for index in range(1200):
        emulator.add_user(f"u{index:04d}@acme.com", f"User {index}")
    first = raw(emulator, "GET", "/v1.0/users?$top=999&$select=id,userPrincipalName").json()
    assert len(first["value"]) == 999 and set(first["value"][0]) == {"id", "userPrincipalName"}
    link = first["@odata.nextLink"]
    assert link.startswith(f"{emulator.url}/v1.0/users?$top=999&$select=id,userPrincipalName&$skiptoken=")
    second = httpx.get(link).json()
    assert len(second["value"]) == 201 and "@odata.nextLink" not in second
    assert second["value"][-1]["userPrincipalName"] == "u1199@acme.com"
    assert error_of(raw(emulator, "GET", "/v1.0/users?$top=1000")) == (
        400, "Request_UnsupportedQuery", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.")
    default = raw(emulator, "GET", "/v1.0/users").json()
    assert len(default["value"]) == 100
    assert set(default["value"][0]) == {"businessPhones", "displayName", "givenName", "jobTitle", "mail",
                                         "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                                         "userPrincipalName", "id"}
    assert emulator.stats()["by_method"] == {"GET /users": 4}
    assert emulator.stats()["resource_units"] == 1 + 1 + 2 + 2    # $select costs one unit less


def test_get_by_upn_with_select_and_patch(emulator: GraphEmulator) -> None:
    emulator.add_user("li.na@acme.com", "Li Na", employeeId="E1002", department="Sales")

    async def scenario(client: GraphServiceClient) -> None:
        query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "employeeId", "department", "accountEnabled"])
        user = await client.users.by_user_id("LI.NA@acme.com").get(RequestConfiguration(query_parameters=query))
        assert user is not None
        assert (user.employee_id, user.department, user.account_enabled, user.display_name) == (
            "E1002", "Sales", True, None)
        await client.users.by_user_id(str(user.id)).patch(User(department="Finance", account_enabled=False,
                                                               job_title="Analyst", usage_location="CN"))
        missing = await graph_error(client.users.by_user_id("nobody@acme.com").get())
        assert (missing.response_status_code, missing.error.code, missing.error.message) == (
            404, "Request_ResourceNotFound",
            "Resource 'nobody@acme.com' does not exist or one of its queried reference-property objects are not "
            "present.")
    run(emulator, scenario)
    stored = emulator.user("li.na@acme.com")
    assert stored is not None
    assert (stored["department"], stored["accountEnabled"], stored["jobTitle"], stored["usageLocation"]) == (
        "Finance", False, "Analyst", "CN")


def test_create_user_errors_surface_as_odata_errors(emulator: GraphEmulator) -> None:
    taken = emulator.add_user("wang.fang@acme.com", "Wang Fang")

    async def scenario(client: GraphServiceClient) -> None:
        duplicate = await graph_error(client.users.post(new_user("Wang.Fang@acme.com", "wangfang")))
        assert (duplicate.response_status_code, duplicate.error.code, duplicate.error.message) == (
            400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already "
            "exists.")
        assert [(d.code, d.target) for d in duplicate.error.details] == [
            ("ObjectConflict", "userPrincipalName"), ("ConflictingObjects", f"User_{taken['id']}")]
        foreign = await graph_error(client.users.post(new_user("x@example.org", "x")))
        assert foreign.error.message == ("The domain portion of the userPrincipalName property is invalid. You must "
                                         "use one of the verified domain names in your organization.")
        weak = await graph_error(client.users.post(new_user("weak@acme.com", "weak", password="password")))
        assert weak.error.message == ("The specified password does not comply with password complexity "
                                      "requirements. Please provide a different password.")
        long_nick = await graph_error(client.users.post(new_user("long@acme.com", "n" * 65)))
        assert long_nick.error.message == "Invalid value specified for property 'mailNickname' of resource 'User'."
        no_password = await graph_error(client.users.post(User(
            account_enabled=True, display_name="P", mail_nickname="p", user_principal_name="p@acme.com")))
        assert no_password.error.message == "Property passwordProfile value is required but is empty or missing."
    run(emulator, scenario)
    assert [u["userPrincipalName"] for u in emulator.store.users.values()] == ["wang.fang@acme.com"]


def test_body_properties_are_checked_against_the_sdk_models(emulator: GraphEmulator) -> None:
    user = emulator.add_user("zhao.lei@acme.com", "Zhao Lei")
    path = f"/v1.0/users/{user['id']}"
    assert error_of(raw(emulator, "PATCH", path, {"employeeID": "E1"})) == (
        400, "Request_BadRequest", "Invalid property 'employeeID'.")
    assert error_of(raw(emulator, "PATCH", path, {"proxyAddresses": ["smtp:x@acme.com"]})) == (
        400, "Request_BadRequest", "Property 'proxyAddresses' is read-only and cannot be set.")
    assert error_of(raw(emulator, "PATCH", path, {"extension_1a2b_costCenter": "42"})) == (
        400, "Request_BadRequest", "The following extension properties are not available: extension_1a2b_costCenter.")
    assert error_of(raw(emulator, "PATCH", path, {"accountEnabled": "no"})) == (
        400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.")
    assert error_of(raw(emulator, "PATCH", path, {"displayName": None})) == (
        400, "Request_BadRequest", "A value is required for property 'displayName' of resource 'User'.")
    assert error_of(raw(emulator, "POST", "/v1.0/groups", {"displayName": "G", "mailEnabled": False,
                                                           "mailNickname": "g", "securityEnabled": True,
                                                           "members": []})) == (
        400, "Request_BadRequest", "Invalid property 'members'.")
    assert error_of(raw(emulator, "GET", "/v1.0/users?$select=id,costCenter")) == (
        400, "Request_UnsupportedQuery", "Property 'costCenter' does not exist as a declared property or extension "
        "property.")
    assert raw(emulator, "PATCH", path, {"employeeId": "E1003", "otherMails": ["zl@example.org"],
                                         "businessPhones": ["+86 10 1234 5678"]}).status_code == 204
    stored = emulator.user("zhao.lei@acme.com")
    assert stored is not None and (stored["employeeId"], stored["otherMails"]) == ("E1003", ["zl@example.org"])


def test_filters_and_advanced_queries(emulator: GraphEmulator) -> None:
    emulator.add_user("a1@acme.com", "A1", employeeId="E1")
    emulator.add_user("a2@acme.com", "A2", employeeId="E2", accountEnabled=False)
    emulator.add_user("b1@acme.cn", "B1", employeeId="E3", usageLocation="CN", licenses=["SPE_E3"])

    def upns(query: str, headers: dict[str, str] | None = None) -> list[str]:
        body = raw(emulator, "GET", f"/v1.0/users?$select=userPrincipalName&{query}", headers=headers).json()
        return [u["userPrincipalName"] for u in body["value"]]

    assert upns("$filter=employeeId eq 'E2'") == ["a2@acme.com"]
    assert upns("$filter=startswith(userPrincipalName,'A')") == ["a1@acme.com", "a2@acme.com"]
    assert upns("$filter=accountEnabled eq false") == ["a2@acme.com"]
    assert upns("$filter=employeeId in ('E1','E3')") == ["a1@acme.com", "b1@acme.cn"]
    assert upns("$filter=assignedLicenses/any(x:x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965)") == [
        "b1@acme.cn"]
    assert error_of(raw(emulator, "GET", "/v1.0/users?$filter=accountEnabled ne true")) == (
        400, "Request_UnsupportedQuery", "Operator 'ne' is not supported because the required parameters might be "
        "missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to "
        "https://aka.ms/graph-docs/advanced-queries for more information")
    eventual = {"ConsistencyLevel": "eventual"}
    assert upns("$filter=accountEnabled ne true&$count=true", eventual) == ["a2@acme.com"]
    counted = raw(emulator, "GET", "/v1.0/users?$filter=endswith(userPrincipalName,'.cn')&$count=true",
                  headers=eventual).json()
    assert counted["@odata.count"] == 1
    assert "@odata.count" not in raw(emulator, "GET", "/v1.0/users?$count=true").json()
    assert error_of(raw(emulator, "GET", "/v1.0/users?$filter=passwordPolicies eq 'x'")) == (
        400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property "
        "'passwordPolicies' of resource 'User'.")
    assert error_of(raw(emulator, "GET", "/v1.0/users?$foo=1")) == (
        400, "BadRequest", "The query parameter '$foo' is not supported.")


def test_manager_reference_and_sign_in_sessions(emulator: GraphEmulator) -> None:
    boss = emulator.add_user("boss@acme.com", "Boss")
    report = emulator.add_user("report@acme.com", "Report")

    async def scenario(client: GraphServiceClient) -> None:
        me = client.users.by_user_id(report["id"])
        await me.manager.ref.put(ReferenceUpdate(odata_id=f"https://graph.microsoft.com/v1.0/users/{boss['id']}"))
        manager = await me.manager.get()
        assert manager is not None and manager.id == boss["id"] and isinstance(manager, User)
        await me.manager.ref.delete()
        gone = await graph_error(me.manager.get())
        assert (gone.response_status_code, gone.error.code) == (404, "Request_ResourceNotFound")
        revoked = await me.revoke_sign_in_sessions.post()
        assert revoked is not None and revoked.value is True
    run(emulator, scenario)
    assert emulator.manager_of("report@acme.com") is None
    assert emulator.calls() == [
        ("PUT", f"/users/{report['id']}/manager/$ref"), ("GET", f"/users/{report['id']}/manager"),
        ("DELETE", f"/users/{report['id']}/manager/$ref"), ("GET", f"/users/{report['id']}/manager"),
        ("POST", f"/users/{report['id']}/revokeSignInSessions")]


# ----------------------------------------------------------------------------- groups


def test_groups_and_members_by_reference(emulator: GraphEmulator) -> None:
    alice = emulator.add_user("alice@acme.com", "Alice")
    bob = emulator.add_user("bob@acme.com", "Bob")
    dl = emulator.add_group("All Staff", "allstaff", unified=False, mailEnabled=True, securityEnabled=False)

    async def scenario(client: GraphServiceClient) -> None:
        group = await client.groups.post(Group(display_name="Sales", mail_nickname="sales", mail_enabled=True,
                                               security_enabled=False, group_types=["Unified"],
                                               description="Sales team"))
        assert group is not None and group.mail == "sales@acme.com"
        members = client.groups.by_group_id(str(group.id)).members
        for user in (alice, bob):
            await members.ref.post(ReferenceCreate(
                odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"))
        again = await graph_error(members.ref.post(ReferenceCreate(
            odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{alice['id']}")))
        assert (again.response_status_code, again.error.code, again.error.message) == (
            400, "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.")
        query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id", "userPrincipalName"],
                                                                              top=1)
        page = await members.get(RequestConfiguration(query_parameters=query))
        assert page is not None and [m.id for m in page.value] == [alice["id"]] and page.odata_next_link
        assert isinstance(page.value[0], User)
        await members.by_directory_object_id(alice["id"]).ref.delete()
        missing = await graph_error(members.by_directory_object_id(alice["id"]).ref.delete())
        assert missing.error.message == ("One or more removed object references do not exist for the following "
                                         "modified properties: 'members'.")
        mail_security = await graph_error(client.groups.post(Group(
            display_name="Ops", mail_nickname="ops", mail_enabled=True, security_enabled=True, group_types=[])))
        assert mail_security.error.message == (
            "The service does not currently support writes of mail-enabled groups. Please ensure that the "
            "mail-enablement property is unset and the security-enablement property is set.")
        to_list = await graph_error(client.groups.by_group_id(dl["id"]).members.ref.post(ReferenceCreate(
            odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{bob['id']}")))
        assert to_list.error.message == "Cannot Update a mail-enabled security groups and or distribution list."
    run(emulator, scenario)
    assert [m["userPrincipalName"] for m in emulator.members("sales")] == ["bob@acme.com"]
    assert emulator.stats()["by_method"]["POST /groups/{key}/members/$ref"] == 4


# ----------------------------------------------------------------------------- licences


def test_assign_license_with_disabled_plans_and_seat_errors(emulator: GraphEmulator) -> None:
    first = emulator.add_user("first@acme.com", "First")
    emulator.add_user("holder@acme.com", "Holder", usageLocation="CN", licenses=["O365_BUSINESS_PREMIUM"])
    last = emulator.add_user("last@acme.com", "Last", usageLocation="CN")
    teams_off = AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=uuid.UUID(BUSINESS_STANDARD), disabled_plans=[uuid.UUID(TEAMS1)])],
        remove_licenses=[])

    async def scenario(client: GraphServiceClient) -> None:
        skus = await client.subscribed_skus.get()
        assert skus is not None
        standard = next(s for s in skus.value if s.sku_part_number == "O365_BUSINESS_PREMIUM")
        assert (str(standard.sku_id), standard.prepaid_units.enabled, standard.consumed_units) == (
            BUSINESS_STANDARD, 2, 1)
        assert {p.service_plan_name for p in standard.service_plans} >= {
            "EXCHANGE_S_STANDARD", "SHAREPOINTSTANDARD", "TEAMS1", "MCOSTANDARD", "OFFICE_BUSINESS"}
        no_location = await graph_error(client.users.by_user_id(first["id"]).assign_license.post(teams_off))
        assert no_location.error.message == "License assignment cannot be done for user with invalid usage location."
        await client.users.by_user_id(first["id"]).patch(User(usage_location="CN"))
        licensed = await client.users.by_user_id(first["id"]).assign_license.post(teams_off)
        assert licensed is not None and licensed.id == first["id"]
        details = await client.users.by_user_id(first["id"]).license_details.get()
        assert details is not None
        plans = {p.service_plan_name: p.provisioning_status for p in details.value[0].service_plans}
        assert (details.value[0].sku_part_number, plans["TEAMS1"], plans["EXCHANGE_S_STANDARD"]) == (
            "O365_BUSINESS_PREMIUM", "Disabled", "Success")
        full = await graph_error(client.users.by_user_id(last["id"]).assign_license.post(teams_off))
        assert (full.response_status_code, full.error.code, full.error.message) == (
            400, "Request_BadRequest", f"Subscription with SKU {BUSINESS_STANDARD} does not have any available "
            "licenses.")
    run(emulator, scenario)
    assert emulator.licenses_of("first@acme.com") == ["O365_BUSINESS_PREMIUM"]
    assert emulator.licenses_of("last@acme.com") == []
    stored = emulator.user("first@acme.com")
    assert stored is not None
    assert stored["assignedLicenses"] == [{"disabledPlans": [TEAMS1], "skuId": BUSINESS_STANDARD}]
    assert (stored["mail"], stored["proxyAddresses"]) == (
        "first@acme.com", ["SMTP:first@acme.com", "smtp:first@acme.onmicrosoft.com"])
    assert emulator.seats()["O365_BUSINESS_PREMIUM"] == (2, 2)


# ----------------------------------------------------------------------------- soft delete


def test_soft_delete_and_restore_within_30_days(emulator: GraphEmulator) -> None:
    leaver = emulator.add_user("leaver@acme.com", "Leaver", usageLocation="CN", licenses=["SPE_E3"])
    emulator.add_group("Team", "team", members=["leaver@acme.com"], owners=["leaver@acme.com"])

    async def scenario(client: GraphServiceClient) -> None:
        await client.users.by_user_id("leaver@acme.com").delete()
        deleted = await client.directory.deleted_items.graph_user.get()
        # Graph frees the name: the deleted user's UPN is its object id without hyphens + the old UPN.
        assert deleted is not None and [(u.id, u.user_principal_name) for u in deleted.value] == [
            (leaver["id"], leaver["id"].replace("-", "") + "leaver@acme.com")]
        assert deleted.value[0].deleted_date_time is not None
        restored = await client.directory.deleted_items.by_directory_object_id(leaver["id"]).restore.post()
        assert restored is not None and restored.id == leaver["id"]
    run(emulator, scenario)
    assert [m["id"] for m in emulator.members("team")] == [leaver["id"]]
    assert emulator.licenses_of("leaver@acme.com") == ["SPE_E3"]
    assert raw(emulator, "DELETE", f"/v1.0/users/{leaver['id']}").status_code == 204
    assert [u["id"] for u in emulator.deleted_users()] == [leaver["id"]]
    emulator.advance_clock(31 * 24 * 3600)
    assert emulator.deleted_users() == []
    assert error_of(raw(emulator, "POST", f"/v1.0/directory/deletedItems/{leaver['id']}/restore")) == (
        404, "Request_ResourceNotFound", f"Resource '{leaver['id']}' does not exist or one of its queried "
        "reference-property objects are not present.")


def test_expand_orderby_search_and_group_restore(emulator: GraphEmulator) -> None:
    boss = emulator.add_user("boss@acme.com", "Zed Boss")
    emulator.add_user("amy@acme.com", "Amy", manager="boss@acme.com")
    team = emulator.add_group("Team", "team", members=["amy@acme.com"], owners=["boss@acme.com"])
    listed = raw(emulator, "GET", "/v1.0/users?$select=displayName&$expand=manager($select=id)"
                                  "&$orderby=displayName").json()["value"]
    assert listed == [{"displayName": "Amy", "manager": {"@odata.type": "#microsoft.graph.user", "id": boss["id"]}},
                      {"displayName": "Zed Boss"}]
    assert error_of(raw(emulator, "GET", "/v1.0/users?$expand=manager,memberOf")) == (
        400, "BadRequest", "The result of parsing $expand contained at least 2 items, but the maximum allowed is 1.")
    crowd = emulator.add_group("Crowd", "crowd", members=[
        emulator.add_user(f"c{i}@acme.com", f"C{i}")["id"] for i in range(25)])
    expanded = raw(emulator, "GET", f"/v1.0/groups/{crowd['id']}?$select=id&$expand=members($select=id)").json()
    assert len(expanded["members"]) == 20 and "members@odata.nextLink" not in expanded
    found = raw(emulator, "GET", '/v1.0/users?$search="displayName:boss"&$select=id',
                headers={"ConsistencyLevel": "eventual"}).json()["value"]
    assert found == [{"id": boss["id"]}]
    assert raw(emulator, "DELETE", f"/v1.0/groups/{team['id']}").status_code == 204
    deleted = raw(emulator, "GET", "/v1.0/directory/deletedItems/microsoft.graph.group?$select=id,displayName")
    assert deleted.json()["value"] == [{"id": team["id"], "displayName": "Team"}]
    assert raw(emulator, "POST", f"/v1.0/directory/deletedItems/{team['id']}/restore").status_code == 200
    assert ([m["userPrincipalName"] for m in emulator.members("team")],
            [o["userPrincipalName"] for o in emulator.owners("team")]) == (["amy@acme.com"], ["boss@acme.com"])
    assert error_of(raw(emulator, "GET", "/v1.0/groups/team")) == (
        400, "Request_BadRequest", "Invalid object identifier 'team'.")


# ----------------------------------------------------------------------------- batch


def test_batch_through_the_sdk_with_depends_on_and_a_failed_dependency(emulator: GraphEmulator) -> None:
    emulator.add_user("present@acme.com", "Present")

    async def scenario(client: GraphServiceClient) -> None:
        users = client.users
        weak = users.to_post_request_information(new_user("weak@acme.com", "weak", password="short"))
        patch = users.by_user_id("weak@acme.com").to_patch_request_information(User(department="X"))
        good = users.to_post_request_information(new_user("good@acme.com", "good"))
        after_good = users.by_user_id("good@acme.com").to_patch_request_information(User(department="Y"))
        read = users.by_user_id("present@acme.com").to_get_request_information()
        content = BatchRequestContent({
            "1": BatchRequestItem(weak, id="1"), "2": BatchRequestItem(patch, id="2", depends_on=["1"]),
            "3": BatchRequestItem(good, id="3"), "4": BatchRequestItem(after_good, id="4", depends_on=["3"]),
            "5": BatchRequestItem(read, id="5")})
        result = await BatchRequestBuilder(client.request_adapter).post(content)
        assert result.get_response_status_codes() == {"1": 400, "2": 424, "3": 201, "4": 204, "5": 200}
    run(emulator, scenario)
    good = emulator.user("good@acme.com")
    assert good is not None and good["department"] == "Y"
    assert emulator.user("weak@acme.com") is None
    stats = emulator.stats()
    assert (stats["requests"], stats["batches"], stats["calls"]) == (1, 1, 4)     # the 424 never ran
    batch_entries = emulator.call_log()
    assert all(entry["in_batch"] for entry in batch_entries)
    assert batch_entries.index(next(e for e in batch_entries if e["method"] == "PATCH")) > [
        e["method"] for e in batch_entries].index("POST")


def test_batch_wire_format_limits_and_bodies(emulator: GraphEmulator) -> None:
    user = emulator.add_user("x@acme.com", "X")
    requests = [
        {"id": "a", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
         "body": {"accountEnabled": True, "displayName": "Y", "mailNickname": "y", "userPrincipalName": "x@acme.com",
                  "passwordProfile": {"password": PASSWORD}}},
        {"id": "b", "method": "GET", "url": "users/x@acme.com?$select=id", "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": f"{emulator.url}/v1.0/users/{user['id']}?$select=displayName",
         "depends_on": []},
    ]
    response = raw(emulator, "POST", "/v1.0/$batch", {"requests": requests})
    assert response.status_code == 200
    answers = {a["id"]: a for a in response.json()["responses"]}
    assert answers["a"]["status"] == 400
    assert answers["a"]["body"]["error"]["details"][0]["code"] == "ObjectConflict"
    assert answers["b"]["status"] == 424 and answers["b"]["body"]["error"]["code"] == "FailedDependency"
    assert (answers["c"]["status"], answers["c"]["body"]["displayName"]) == (200, "X")
    assert answers["c"]["headers"]["x-ms-resource-unit"] == "1"
    too_many = [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]
    assert error_of(raw(emulator, "POST", "/v1.0/$batch", {"requests": too_many})) == (
        400, "BadRequest", "Number of requests inside batch exceeds the limit.")
    duplicate_ids = [{"id": "1", "method": "GET", "url": "/users"}, {"id": "1", "method": "GET", "url": "/groups"}]
    assert raw(emulator, "POST", "/v1.0/$batch", {"requests": duplicate_ids}).status_code == 400
    orders = set()
    for _ in range(6):
        twenty = [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(20)]
        orders.add(tuple(a["id"] for a in raw(emulator, "POST", "/v1.0/$batch", {"requests": twenty}).json()[
            "responses"]))
    assert len(orders) > 1      # responses come back in varying order


def test_throttling_inside_a_batch_is_per_request(emulator: GraphEmulator) -> None:
    emulator.add_user("x@acme.com", "X")
    emulator.throttle_next(1, retry_after=7)
    body = {"requests": [{"id": "1", "method": "GET", "url": "/users/x@acme.com"},
                         {"id": "2", "method": "GET", "url": "/users/x@acme.com"}]}
    answers = {a["id"]: a for a in raw(emulator, "POST", "/v1.0/$batch", body).json()["responses"]}
    throttled = [a for a in answers.values() if a["status"] == 429]
    assert len(throttled) == 1 and throttled[0]["headers"]["Retry-After"] == "7"
    assert throttled[0]["body"]["error"]["code"] == "TooManyRequests"
    assert sorted(a["status"] for a in answers.values()) == [200, 429]
    stats = emulator.stats()
    assert (stats["requests"], stats["calls"], stats["throttled"], stats["batches"]) == (1, 2, 1, 1)


# ----------------------------------------------------------------------------- throttling


def test_the_sdk_retry_handler_honours_retry_after(emulator: GraphEmulator) -> None:
    emulator.add_user("x@acme.com", "X")
    emulator.throttle_next(1, retry_after=1)

    async def scenario(client: GraphServiceClient) -> None:
        started = time.monotonic()
        user = await client.users.by_user_id("x@acme.com").get()
        assert user is not None and user.display_name == "X"
        assert time.monotonic() - started >= 1.0
    run(emulator, scenario)
    assert [entry["status"] for entry in emulator.call_log()] == [429, 200]
    assert emulator.stats()["throttled"] == 1


def test_resource_unit_budget_per_ten_seconds() -> None:
    with GraphEmulator(resource_units_per_10s=5) as emulator:
        emulator.add_user("x@acme.com", "X")
        first = raw(emulator, "GET", "/v1.0/users")
        assert (first.status_code, first.headers["x-ms-resource-unit"]) == (200, "2")
        assert raw(emulator, "GET", "/v1.0/users").status_code == 200
        assert raw(emulator, "GET", "/v1.0/users?$select=id").headers["x-ms-resource-unit"] == "1"
        refused = raw(emulator, "GET", "/v1.0/users")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 10
        assert refused.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
        assert error_of(refused)[1:] == ("TooManyRequests", "Too many requests.")
        emulator.advance_clock(10)
        assert raw(emulator, "GET", "/v1.0/users").status_code == 200
        assert emulator.stats()["throttled"] == 1 and emulator.stats()["resource_units"] == 7


def test_write_quota_and_replication_delay() -> None:
    with GraphEmulator(writes_per_150s=2, consistency_delay_s=5) as emulator:
        user = emulator.add_user("x@acme.com", "X")        # seeded objects are visible at once
        path = f"/v1.0/users/{user['id']}"
        assert [raw(emulator, "PATCH", path, {"jobTitle": t}).status_code for t in ("a", "b", "c")] == [204, 204, 429]
        assert raw(emulator, "GET", path).status_code == 200          # reads are not writes
        emulator.advance_clock(150)
        created = raw(emulator, "POST", "/v1.0/users", {
            "accountEnabled": True, "displayName": "Y", "mailNickname": "y", "userPrincipalName": "y@acme.com",
            "passwordProfile": {"password": PASSWORD}})
        assert created.status_code == 201
        new_id = created.json()["id"]
        assert error_of(raw(emulator, "GET", f"/v1.0/users/{new_id}"))[:2] == (404, "Request_ResourceNotFound")
        emulator.advance_clock(5)
        assert raw(emulator, "GET", f"/v1.0/users/{new_id}").status_code == 200


def test_fail_next_injects_errors_directly_and_inside_batches(emulator: GraphEmulator) -> None:
    emulator.add_user("x@acme.com", "X")
    emulator.fail_next("GET", r"^/users/", 500, "UnknownError", "boom", count=2)
    assert error_of(raw(emulator, "GET", "/v1.0/users/x@acme.com")) == (500, "UnknownError", "boom")
    body = {"requests": [{"id": "1", "method": "GET", "url": "/users/x@acme.com"}]}
    answer = raw(emulator, "POST", "/v1.0/$batch", body).json()["responses"][0]
    assert (answer["status"], answer["body"]["error"]["message"]) == (500, "boom")
    assert raw(emulator, "GET", "/v1.0/users/x@acme.com").status_code == 200


# ----------------------------------------------------------------------------- delta


def test_users_delta_rounds(emulator: GraphEmulator) -> None:
    stay = emulator.add_user("stay@acme.com", "Stay")
    change = emulator.add_user("change@acme.com", "Change")
    leave = emulator.add_user("leave@acme.com", "Leave")

    async def scenario(client: GraphServiceClient) -> None:
        first = await client.users.delta.get()
        assert first is not None and {u.id for u in first.value} == {stay["id"], change["id"], leave["id"]}
        assert first.odata_next_link is None and first.odata_delta_link is not None
        await client.users.by_user_id(change["id"]).patch(User(job_title="Lead"))
        await client.users.by_user_id(leave["id"]).delete()
        second = await client.users.delta.with_url(first.odata_delta_link).get()
        assert second is not None
        by_id = {u.id: u for u in second.value}
        assert set(by_id) == {change["id"], leave["id"]}
        assert by_id[change["id"]].job_title == "Lead"
        assert by_id[leave["id"]].additional_data["@removed"] == {"reason": "changed"}
        third = await client.users.delta.with_url(second.odata_delta_link).get()
        assert third is not None and third.value == []
    run(emulator, scenario)
    # the SDK starts at delta(); Graph's own next and delta links say delta
    assert [path for _method, path in emulator.calls() if "delta" in path] == [
        "/users/delta()", "/users/delta", "/users/delta"]


def test_groups_delta_reports_membership_changes(emulator: GraphEmulator) -> None:
    ann = emulator.add_user("ann@acme.com", "Ann")
    ben = emulator.add_user("ben@acme.com", "Ben")
    team = emulator.add_group("Team", "team", members=["ann@acme.com"])
    first = raw(emulator, "GET", "/v1.0/groups/delta()?$select=displayName,members",
                headers={"Prefer": "odata.maxpagesize=1"}).json()
    assert first["value"] == [{"displayName": "Team", "id": team["id"], "members@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": ann["id"]}]}]
    link = first["@odata.deltaLink"]
    assert link.startswith(f"{emulator.url}/v1.0/groups/delta?$deltatoken=")
    emulator.add_member("team", "ben@acme.com")
    assert raw(emulator, "DELETE", f"/v1.0/groups/{team['id']}/members/{ann['id']}/$ref").status_code == 204
    second = httpx.get(link).json()
    assert second["value"] == [{"displayName": "Team", "id": team["id"], "members@delta": [
        {"@odata.type": "#microsoft.graph.user", "id": ben["id"]},
        {"@odata.type": "#microsoft.graph.user", "id": ann["id"], "@removed": {"reason": "deleted"}}]}]


# ----------------------------------------------------------------------------- domains, roles, paths


def test_domains_and_their_dns_records(emulator: GraphEmulator) -> None:
    async def scenario(client: GraphServiceClient) -> None:
        domains = await client.domains.get()
        assert domains is not None and [(d.id, d.is_default, d.is_initial, d.is_verified) for d in domains.value] == [
            ("acme.com", True, False, True), ("acme.cn", False, False, True),
            ("acme.onmicrosoft.com", False, True, True)]
        records = await client.domains.by_domain_id("acme.com").service_configuration_records.get()
        assert records is not None
        mx = next(r for r in records.value if isinstance(r, DomainDnsMxRecord))
        assert (mx.label, mx.mail_exchange, mx.preference, mx.record_type, mx.supported_service, mx.ttl) == (
            "acme.com", "acme-com.mail.protection.outlook.com", 0, "Mx", "Email", 3600)
        spf = next(r for r in records.value if isinstance(r, DomainDnsTxtRecord))
        assert spf.text == "v=spf1 include:spf.protection.outlook.com -all"
        autodiscover = next(r for r in records.value if isinstance(r, DomainDnsCnameRecord))
        assert (autodiscover.label, autodiscover.canonical_name) == ("autodiscover.acme.com",
                                                                     "autodiscover.outlook.com")
        verification = await client.domains.by_domain_id("acme.cn").verification_dns_records.get()
        assert verification is not None
        txt = next(r for r in verification.value if isinstance(r, DomainDnsTxtRecord))
        assert txt.text is not None and txt.text.startswith("MS=ms") and len(txt.text) == len("MS=ms12345678")
    run(emulator, scenario)


def test_directory_role_assignments(emulator: GraphEmulator) -> None:
    admin = emulator.add_user("it@acme.com", "IT")

    async def scenario(client: GraphServiceClient) -> None:
        assignments = client.role_management.directory.role_assignments
        created = await assignments.post(UnifiedRoleAssignment(
            role_definition_id=USER_ADMINISTRATOR, principal_id=admin["id"], directory_scope_id="/"))
        assert created is not None and (created.role_definition_id, created.principal_id) == (
            USER_ADMINISTRATOR, admin["id"])
        again = await graph_error(assignments.post(UnifiedRoleAssignment(
            role_definition_id=USER_ADMINISTRATOR, principal_id=admin["id"], directory_scope_id="/")))
        assert again.error.code == "Request_BadRequest"
        roles = await client.directory_roles.get()
        assert roles is not None and sorted(r.display_name for r in roles.value) == [
            "Global Administrator", "User Administrator"]
        await assignments.by_unified_role_assignment_id(str(created.id)).delete()
    run(emulator, scenario)
    listed = raw(emulator, "GET", f"/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq "
                                  f"'{admin['id']}'").json()
    assert listed["value"] == []


def test_paths_double_slash_versions_and_methods(emulator: GraphEmulator) -> None:
    emulator.add_user("x@acme.com", "X")

    async def scenario() -> None:
        async with sdk(emulator, set_base_url=False) as (client, _adapter):
            user = await client.users.by_user_id("x@acme.com").get()
            assert user is not None and user.display_name == "X"
    asyncio.run(scenario())
    assert emulator.stats()["double_slash"] == 1
    assert emulator.calls() == [("GET", "/users/x@acme.com")]
    with GraphEmulator(strict_paths=True) as strict:
        assert raw(strict, "GET", "/v1.0//users").status_code == 400
    assert error_of(raw(emulator, "GET", "/beta/users")) == (400, "BadRequest", "Invalid version.")
    assert error_of(raw(emulator, "GET", "/v1.0/usrs")) == (400, "BadRequest", "Resource not found for the segment "
                                                            "'usrs'.")
    assert error_of(raw(emulator, "PUT", "/v1.0/users")) == (
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")


# ----------------------------------------------------------------------------- Python API and standalone


def test_python_api_reads_state_and_counts(emulator: GraphEmulator) -> None:
    user = emulator.add_user("a@acme.com", "A", usageLocation="CN", licenses=["SPE_E3"], jobTitle="Dev")
    boss = emulator.add_user("b@acme.com", "B", manager=None)
    group = emulator.add_group("Devs", "devs", unified=False)
    emulator.add_member(group["id"], "a@acme.com")
    emulator.add_owner("devs", boss["id"])
    assert (group["groupTypes"], group["securityEnabled"], group["mailEnabled"], group["mail"]) == (
        [], True, False, None)
    assert emulator.user(user["id"]) == emulator.user("A@ACME.COM")
    assert emulator.group("devs") == emulator.group(group["id"])
    assert [m["id"] for m in emulator.members("devs")] == [user["id"]]
    assert [o["id"] for o in emulator.owners(group["id"])] == [boss["id"]]
    assert emulator.licenses_of("a@acme.com") == ["SPE_E3"]
    with pytest.raises(ValueError, match="not user properties: costCentre"):
        emulator.add_user("c@acme.com", "C", costCentre="1")
    raw(emulator, "GET", "/v1.0/users/a@acme.com")
    raw(emulator, "GET", "/v1.0/subscribedSkus")
    assert emulator.stats() == {"requests": 2, "calls": 2, "by_method": {"GET /users/{key}": 1,
                                                                         "GET /subscribedSkus": 1},
                                "throttled": 0, "batches": 0, "double_slash": 0, "resource_units": 4,
                                "peak_concurrent": 1}
    emulator.reset_stats()
    assert emulator.stats()["requests"] == 0 and emulator.calls() == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_runs_standalone_with_stats_and_reset() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.emulators.graph", "--port", str(port),
                                "--latency-ms", "1", "--resource-units-per-10s", "100"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    # The emulator's first answer loads the SDK's models: slow on a busy machine, so no 5 s default.
    http = httpx.Client(timeout=120)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"Microsoft Graph emulator serving on http://127.0.0.1:{port}/v1.0"
        base = f"http://127.0.0.1:{port}"
        created = http.post(f"{base}/v1.0/users", json={
            "accountEnabled": True, "displayName": "S", "mailNickname": "s", "userPrincipalName": "s@acme.com",
            "passwordProfile": {"password": PASSWORD}})
        assert created.status_code == 201
        stats = http.get(f"{base}/_emulator/stats").json()
        assert (stats["requests"], stats["by_method"]) == (1, {"POST /users": 1})
        assert http.post(f"{base}/_emulator/reset").status_code == 204
        assert http.get(f"{base}/v1.0/users").json()["value"] == []
        assert json.loads(http.get(f"{base}/_emulator/stats").text)["requests"] == 1
    finally:
        http.close()
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# ----------------------------------------------------------------------------- what real tenants do


def test_expand_pages_hold_100_objects_whatever_top_says(emulator: GraphEmulator) -> None:
    boss = emulator.add_user("boss@acme.com", "Boss")
    for index in range(250):
        emulator.add_user(f"u{index:03d}@acme.com", f"U{index}", manager=boss["id"])
    first = raw(emulator, "GET", "/v1.0/users?$top=999&$select=id&$expand=manager($select=id)").json()
    assert len(first["value"]) == 100
    link = first["@odata.nextLink"]
    assert link.startswith(f"{emulator.url}/v1.0/users?$top=999&$select=id&$expand=manager($select=id)&$skiptoken=")
    second = httpx.get(link, timeout=60).json()
    third = httpx.get(second["@odata.nextLink"], timeout=60).json()
    assert (len(second["value"]), len(third["value"]), "@odata.nextLink" in third) == (100, 51, False)
    assert len(raw(emulator, "GET", "/v1.0/users?$top=999&$select=id").json()["value"]) == 251  # no $expand


def test_a_licence_that_breaks_a_plan_dependency_is_refused(emulator: GraphEmulator) -> None:
    user = emulator.add_user("a@acme.com", "A", usageLocation="CN")
    sharepoint, office_web = "c7699d2e-19aa-44de-8edf-1736da088ca1", "e95bec33-7c88-4a70-8e19-b10bd9d0c014"
    body = {"addLicenses": [{"skuId": BUSINESS_STANDARD, "disabledPlans": [sharepoint]}], "removeLicenses": []}
    assert error_of(raw(emulator, "POST", f"/v1.0/users/{user['id']}/assignLicense", body)) == (
        400, "Request_BadRequest", f"License assignment failed because service plan {office_web} depends on the "
        f"service plan(s) {sharepoint},5dbe027f-2339-4123-9542-606e4d348a72")
    body["addLicenses"][0]["disabledPlans"] = [sharepoint, office_web]  # type: ignore[index]
    assert raw(emulator, "POST", f"/v1.0/users/{user['id']}/assignLicense", body).status_code == 200
    swap = {"addLicenses": [{"skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965"}], "removeLicenses": [BUSINESS_STANDARD]}
    assert raw(emulator, "POST", f"/v1.0/users/{user['id']}/assignLicense", swap).status_code == 200
    assert emulator.license_gaps() == []  # swapped in one call
    assert raw(emulator, "POST", f"/v1.0/users/{user['id']}/assignLicense", {
        "addLicenses": [], "removeLicenses": ["05e9a617-0261-4cee-bb44-138d3ef5d965"]}).status_code == 200
    assert emulator.license_gaps() == ["a@acme.com"]


def test_grants_the_app_lacks_are_refused_as_graph_refuses_them(emulator: GraphEmulator) -> None:
    plain = emulator.add_user("plain@acme.com", "Plain")
    admin = emulator.add_user("admin@acme.com", "Admin")
    emulator.assign_role("Helpdesk Administrator", "admin@acme.com")
    reset = {"passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": True}}
    emulator.remove_app_role("Privileged Authentication Administrator")
    assert raw(emulator, "PATCH", f"/v1.0/users/{plain['id']}", reset).status_code == 204  # User Administrator
    denied = (403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    assert error_of(raw(emulator, "PATCH", f"/v1.0/users/{admin['id']}", reset)) == denied
    assert error_of(raw(emulator, "PATCH", f"/v1.0/users/{admin['id']}", {"accountEnabled": False})) == denied
    assert raw(emulator, "PATCH", f"/v1.0/users/{plain['id']}", {"accountEnabled": False}).status_code == 204
    emulator.remove_app_role("User Administrator")
    assert error_of(raw(emulator, "PATCH", f"/v1.0/users/{plain['id']}", reset)) == denied
    emulator.revoke("Domain.ReadWrite.All")
    assert error_of(raw(emulator, "POST", "/v1.0/domains", {"id": "acme.hk"})) == denied
    emulator.revoke("AuditLog.Read.All")
    assert error_of(raw(emulator, "GET", "/v1.0/users?$select=id,signInActivity")) == (
        403, "Authentication_MSGraphPermissionMissing",
        "Calling principal does not have required MSGraph permissions AuditLog.Read.All")
    emulator.reset()
    assert raw(emulator, "POST", "/v1.0/domains", {"id": "acme.hk"}).json()["isVerified"] is False
    principal = raw(emulator, "GET", "/v1.0/servicePrincipals(appId='00000000-0000-0000-0000-000000000001')").json()
    mine = raw(emulator, "GET", f"/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq "
                                f"'{principal['id']}'").json()["value"]
    assert sorted(a["roleDefinitionId"] for a in mine) == [
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "fe930be7-5e62-47db-91af-98c3a49a38b1"]


def test_graph_chooses_group_addresses_and_records_ownerless_groups(emulator: GraphEmulator) -> None:
    owner = emulator.add_user("owner@acme.com", "Owner")
    emulator.add_user("sales@acme.com", "Someone called Sales")
    made = raw(emulator, "POST", "/v1.0/groups", {
        "displayName": "Sales", "mailNickname": "sales", "mailEnabled": True, "securityEnabled": False,
        "groupTypes": ["Unified"]}).json()
    assert made["mail"] == "sales1@acme.com"  # the nickname at the default domain; taken, so numbered
    owned = raw(emulator, "POST", "/v1.0/groups", {
        "displayName": "Ops", "mailNickname": "ops", "mailEnabled": False, "securityEnabled": True,
        "owners@odata.bind": [f"https://graph.microsoft.com/v1.0/users/{owner['id']}"]}).json()
    assert owned["mail"] is None  # a security group has no address
    assert [g["id"] for g in emulator.created_without_owners()] == [made["id"]]
    twin = raw(emulator, "POST", "/v1.0/groups", {"displayName": "Sales 2", "mailNickname": "Sales",
                                                 "mailEnabled": True, "securityEnabled": False,
                                                 "groupTypes": ["Unified"]})
    assert error_of(twin)[:2] == (400, "Request_BadRequest")
    with GraphEmulator(tenant_domain="acme.cn", domains=("acme.com", "acme.cn")) as other:
        assert raw(other, "POST", "/v1.0/groups", {
            "displayName": "HR", "mailNickname": "hr", "mailEnabled": True, "securityEnabled": False,
            "groupTypes": ["Unified"]}).json()["mail"] == "hr@acme.cn"


def test_the_replication_delay_runs_on_an_injected_clock() -> None:
    now = [1_000_000.0]
    with GraphEmulator(consistency_delay_s=3, clock=lambda: now[0]) as emulator:
        created = raw(emulator, "POST", "/v1.0/users", {
            "accountEnabled": True, "displayName": "Y", "mailNickname": "y", "userPrincipalName": "y@acme.com",
            "passwordProfile": {"password": PASSWORD}}).json()
        assert raw(emulator, "GET", f"/v1.0/users/{created['id']}").status_code == 404
        now[0] += 3
        assert raw(emulator, "GET", f"/v1.0/users/{created['id']}").status_code == 200


def test_the_emulators_answer_without_nagles_delay(emulator: GraphEmulator) -> None:
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (about 40 ms a request), a cost of the emulator a benchmark would count.
    from tests.emulators.common import LoopbackHTTPServer, RequestHandler

    assert isinstance(emulator._server, LoopbackHTTPServer)
    server = LoopbackHTTPServer(("127.0.0.1", 0), RequestHandler)  # not serving: this test accepts
    client = socket.create_connection(server.server_address[:2], timeout=5)
    try:
        accepted, _ = server.get_request()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.close()
        server.server_close()
