"""The Google Workspace emulator, driven by the real google-api-python-client over loopback HTTP.

These tests pin the behaviour the Google provider relies on: paths, paging, field masks,
Google's error bodies, batches, quota, soft delete, renames, org units, roles, licences and
eventual consistency.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import google.auth.credentials
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from tests.emulators.google import GoogleEmulator
from tests.graph_clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SKU_STANDARD = "1010020028"
SKU_STARTER = "1010020027"


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    emulator = GoogleEmulator(domains=("acme.com", "acme.de"), domain_aliases={"acme.cn": "acme.com"},
                              skus={f"Google-Apps/{SKU_STANDARD}": None, f"Google-Apps/{SKU_STARTER}": 2})
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(server: GoogleEmulator) -> GoogleEmulator:
    server.quota_per_minute = None
    server.latency_ms = 0
    server.consistency_delay_s = 0
    server.transfer_delay_s = 0
    server.visibility_delay_s = 0
    server.clock = time.monotonic
    server.default_license = None
    server.reset()
    return server


def _build(server: GoogleEmulator, name: str, version: str) -> Any:
    return build(name, version, credentials=google.auth.credentials.AnonymousCredentials(),
                 client_options={"api_endpoint": server.url}, static_discovery=True)


@pytest.fixture(scope="module")
def directory(server: GoogleEmulator) -> Iterator[Any]:
    with _build(server, "admin", "directory_v1") as service:
        yield service


@pytest.fixture(scope="module")
def licensing(server: GoogleEmulator) -> Iterator[Any]:
    with _build(server, "licensing", "v1") as service:
        yield service


def error_of(request: HttpRequest) -> HttpError:
    with pytest.raises(HttpError) as caught:
        request.execute()
    return caught.value


def google_error(code: int, reason: str, message: str, status: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message,
                             "errors": [{"message": message, "domain": "global", "reason": reason}]}
    if status:
        error["status"] = status
    return {"error": error}


NEW_USER = {"primaryEmail": "jane.doe@acme.com", "name": {"givenName": "Jane", "familyName": "Doe"},
            "password": "correct-horse-battery", "externalIds": [{"type": "organization", "value": "E1001"}]}


# ----------------------------------------------------------------------------- users


def test_user_insert_get_patch_delete(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_orgunit("/Sales")
    created = directory.users().insert(body=NEW_USER).execute()
    assert created["kind"] == "admin#directory#user"
    assert created["primaryEmail"] == "jane.doe@acme.com"
    assert created["name"] == {"givenName": "Jane", "familyName": "Doe", "fullName": "Jane Doe"}
    assert created["id"].isdigit()
    assert created["nonEditableAliases"] == ["jane.doe@acme.cn"]  # acme.cn is a domain alias of acme.com
    assert "password" not in created
    assert (created["isAdmin"], created["orgUnitPath"], created["customerId"]) == (False, "/", "C01abc234")
    assert created["etag"].startswith('"')

    by_id = directory.users().get(userKey=created["id"]).execute()
    by_alias_domain = directory.users().get(userKey="jane.doe@acme.cn").execute()
    assert by_id["primaryEmail"] == by_alias_domain["primaryEmail"] == "jane.doe@acme.com"

    patched = directory.users().patch(userKey="jane.doe@acme.com",
                                      body={"suspended": True, "orgUnitPath": "/Sales",
                                            "name": {"familyName": "Smith"}}).execute()
    assert (patched["suspended"], patched["orgUnitPath"]) == (True, "/Sales")
    assert patched["name"] == {"givenName": "Jane", "familyName": "Smith", "fullName": "Jane Smith"}
    assert emulator.user("jane.doe@acme.com")["password"] == "correct-horse-battery"  # type: ignore[index]

    assert directory.users().delete(userKey="jane.doe@acme.com").execute() == ""
    error = error_of(directory.users().get(userKey="jane.doe@acme.com"))
    assert error.status_code == 404
    assert json.loads(error.content) == google_error(404, "notFound", "Resource Not Found: userKey")


def test_insert_refuses_an_address_taken_by_a_group_alias(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_group("sales@acme.com", "Sales", aliases=["jane.doe@acme.com"])
    error = error_of(directory.users().insert(body=NEW_USER))
    assert error.status_code == 409
    assert error.reason == "Entity already exists."
    assert error.error_details == [{"message": "Entity already exists.", "domain": "global", "reason": "duplicate"}]
    assert json.loads(error.content) == google_error(409, "duplicate", "Entity already exists.")


def test_insert_requires_name_and_password_and_a_customer_domain(emulator: GoogleEmulator, directory: Any) -> None:
    no_family = {**NEW_USER, "name": {"givenName": "Jane"}}
    assert json.loads(error_of(directory.users().insert(body=no_family)).content) == google_error(
        400, "invalid", "Invalid Given/Family Name: FamilyName")
    no_password = {k: v for k, v in NEW_USER.items() if k != "password"}
    assert json.loads(error_of(directory.users().insert(body=no_password)).content) == google_error(
        400, "invalid", "Invalid Password")
    elsewhere = {**NEW_USER, "primaryEmail": "jane@example.org"}
    assert json.loads(error_of(directory.users().insert(body=elsewhere)).content) == google_error(
        404, "notFound", "Domain not found.")
    bad_ou = {**NEW_USER, "orgUnitPath": "/Nowhere"}
    assert json.loads(error_of(directory.users().insert(body=bad_ou)).content) == google_error(
        400, "invalid", "Invalid Input: INVALID_OU_ID")
    assert emulator.user("jane.doe@acme.com") is None


def test_unknown_body_fields_are_refused_at_any_depth(emulator: GoogleEmulator, directory: Any) -> None:
    top = {**NEW_USER, "primaryEmial": "typo@acme.com"}
    assert json.loads(error_of(directory.users().insert(body=top)).content) == google_error(
        400, "badRequest", 'Invalid JSON payload received. Unknown name "primaryEmial": Cannot find field.',
        "INVALID_ARGUMENT")
    nested = {**NEW_USER, "externalIds": [{"type": "organization", "vaule": "E1"}]}
    assert json.loads(error_of(directory.users().insert(body=nested)).content) == google_error(
        400, "badRequest",
        'Invalid JSON payload received. Unknown name "vaule" at \'externalIds[0]\': Cannot find field.',
        "INVALID_ARGUMENT")
    wrong_type = {**NEW_USER, "suspended": "yes"}
    assert json.loads(error_of(directory.users().insert(body=wrong_type)).content) == google_error(
        400, "badRequest", "Invalid value at 'suspended' (TYPE_BOOL), \"yes\"", "INVALID_ARGUMENT")
    # Read-only fields are ignored, as the real API ignores them.
    created = directory.users().insert(body={**NEW_USER, "isAdmin": True, "id": "42"}).execute()
    assert (created["isAdmin"], created["id"] != "42") == (False, True)


def test_unknown_query_parameter_and_out_of_range_page_size(emulator: GoogleEmulator, directory: Any) -> None:
    request = directory.users().list(customer="my_customer")
    request.uri += "&bogus=1"
    assert json.loads(error_of(request).content) == google_error(
        400, "badRequest", "Invalid JSON payload received. Unknown name \"bogus\": Cannot bind query parameter. "
        "Field 'bogus' could not be found in request message.", "INVALID_ARGUMENT")
    error = error_of(directory.users().list(customer="my_customer", maxResults=501))
    assert error.status_code == 400
    assert json.loads(error.content) == {"error": {
        "code": 400, "message": "Invalid value '501'. Values must be within the range: [1, 500]",
        "errors": [{"message": "Invalid value '501'. Values must be within the range: [1, 500]",
                    "domain": "global", "reason": "invalid", "locationType": "parameter", "location": "maxResults"}]}}
    # The client checks enums itself; a request that slips past it meets the same check here.
    request = directory.users().list(customer="my_customer", projection="full")
    request.uri = request.uri.replace("projection=full", "projection=everything")
    enum = error_of(request)
    assert (enum.status_code, enum.error_details[0]["reason"]) == (400, "invalid")
    assert json.loads(error_of(directory.users().list()).content) == google_error(400, "badRequest", "Bad Request")


def test_paging_with_list_next_at_the_largest_page_and_a_field_mask(emulator: GoogleEmulator,
                                                                    directory: Any) -> None:
    expected = []
    for n in range(1201):
        emulator.add_user(f"user{n:04d}@acme.com", f"Given{n}", f"Family{n}", orgUnitPath="/")
        expected.append(f"user{n:04d}@acme.com")
    emulator.reset_stats()
    users = directory.users()
    request = users.list(customer="my_customer", maxResults=500, orderBy="email",
                         fields="nextPageToken,users(primaryEmail,name(givenName,familyName))")
    seen: list[dict[str, Any]] = []
    sizes = []
    while request is not None:
        response = request.execute()
        assert set(response) <= {"users", "nextPageToken"}
        sizes.append(len(response["users"]))
        seen.extend(response["users"])
        request = users.list_next(request, response)
    assert sizes == [500, 500, 201]
    assert [u["primaryEmail"] for u in seen] == expected
    assert seen[7] == {"primaryEmail": "user0007@acme.com", "name": {"givenName": "Given7", "familyName": "Family7"}}
    assert emulator.stats()["by_method"] == {"GET /admin/directory/v1/users": 3}


def test_field_mask_slash_form_and_an_unknown_selection(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee", externalIds=[{"type": "organization", "value": "E7"}])
    got = directory.users().get(userKey="ann@acme.com", fields="name/fullName,externalIds,id").execute()
    assert got == {"name": {"fullName": "Ann Lee"}, "externalIds": [{"type": "organization", "value": "E7"}],
                   "id": emulator.user("ann@acme.com")["id"]}  # type: ignore[index]
    error = error_of(directory.users().list(customer="my_customer", fields="users(primaryEmial)"))
    assert (error.status_code, error.error_details[0]["reason"]) == (400, "invalidParameter")


def test_query_filters_by_email_and_suspension(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_user("bob@acme.com", "Bob", "Ray", suspended=True)
    emulator.add_user("bea@acme.de", "Bea", "Kim")

    def emails(**kwargs: Any) -> list[str]:
        return [u["primaryEmail"] for u in directory.users().list(**kwargs).execute().get("users", [])]

    assert emails(customer="my_customer", query="email:b*") == ["bea@acme.de", "bob@acme.com"]
    assert emails(customer="my_customer", query="email=ann@acme.com") == ["ann@acme.com"]
    assert emails(customer="my_customer", query="isSuspended=true") == ["bob@acme.com"]
    assert emails(domain="acme.de") == ["bea@acme.de"]
    assert emails(customer="C01abc234", orderBy="givenName", sortOrder="DESCENDING") == [
        "bob@acme.com", "bea@acme.de", "ann@acme.com"]


def test_soft_delete_and_undelete(emulator: GoogleEmulator, directory: Any) -> None:
    user = emulator.add_user("leaver@acme.com", "Lee", "Ver")
    emulator.add_group("team@acme.com", "Team")
    emulator.add_member("team@acme.com", "leaver@acme.com")
    directory.users().delete(userKey="leaver@acme.com").execute()

    deleted = directory.users().list(customer="my_customer", showDeleted="true").execute()["users"]
    assert [(u["primaryEmail"], "deletionTime" in u) for u in deleted] == [("leaver@acme.com", True)]
    assert "users" not in directory.users().list(customer="my_customer").execute()
    gone = error_of(directory.users().get(userKey=user["id"]))
    assert json.loads(gone.content) == google_error(412, "conditionNotMet", "User is deleted.")
    assert emulator.members("team@acme.com") == []

    directory.users().undelete(userKey=user["id"], body={"orgUnitPath": "/"}).execute()
    back = directory.users().get(userKey="leaver@acme.com").execute()
    assert (back["id"], back["orgUnitPath"], "deletionTime" in back) == (user["id"], "/", False)
    again = error_of(directory.users().undelete(userKey=user["id"], body={}))
    assert (again.status_code, again.error_details[0]["reason"]) == (412, "conditionNotMet")


def test_undelete_refused_when_the_address_was_reused(emulator: GoogleEmulator, directory: Any) -> None:
    old = emulator.add_user("pat@acme.com", "Pat", "One")
    directory.users().delete(userKey="pat@acme.com").execute()
    emulator.add_user("pat@acme.com", "Pat", "Two")
    assert error_of(directory.users().undelete(userKey=old["id"], body={})).status_code == 409


def test_rename_keeps_the_old_address_as_an_alias(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("zhangwei@acme.com", "Wei", "Zhang")
    renamed = directory.users().patch(userKey="zhangwei@acme.com",
                                      body={"primaryEmail": "wei.zhang@acme.com"}).execute()
    assert (renamed["primaryEmail"], renamed["aliases"]) == ("wei.zhang@acme.com", ["zhangwei@acme.com"])
    assert renamed["nonEditableAliases"] == ["wei.zhang@acme.cn", "zhangwei@acme.cn"]
    assert directory.users().get(userKey="zhangwei@acme.com").execute()["primaryEmail"] == "wei.zhang@acme.com"
    aliases = directory.users().aliases().list(userKey="wei.zhang@acme.com").execute()
    assert [(a["kind"], a["alias"], a["primaryEmail"]) for a in aliases["aliases"]] == [
        ("admin#directory#alias", "zhangwei@acme.com", "wei.zhang@acme.com")]
    taken = error_of(directory.users().insert(body={**NEW_USER, "primaryEmail": "zhangwei@acme.com"}))
    assert taken.status_code == 409


def test_aliases_insert_and_delete(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_group("sales@acme.com", "Sales")
    alias = directory.users().aliases().insert(userKey="ann@acme.com", body={"alias": "a.lee@acme.de"}).execute()
    assert (alias["alias"], alias["primaryEmail"]) == ("a.lee@acme.de", "ann@acme.com")
    assert error_of(directory.users().aliases().insert(userKey="ann@acme.com",
                                                       body={"alias": "sales@acme.com"})).status_code == 409
    directory.users().aliases().delete(userKey="ann@acme.com", alias="a.lee@acme.de").execute()
    assert emulator.user("a.lee@acme.de") is None
    assert error_of(directory.users().aliases().delete(userKey="ann@acme.com", alias="a.lee@acme.de")).status_code \
        == 404


def test_sign_out_and_make_admin_are_recorded(emulator: GoogleEmulator, directory: Any) -> None:
    user = emulator.add_user("ann@acme.com", "Ann", "Lee")
    directory.users().signOut(userKey="ann@acme.com").execute()
    directory.users().makeAdmin(userKey=user["id"], body={"status": True}).execute()
    assert emulator.calls() == [("POST", "/admin/directory/v1/users/ann@acme.com/signOut"),
                                ("POST", f"/admin/directory/v1/users/{user['id']}/makeAdmin")]
    assert directory.users().get(userKey="ann@acme.com").execute()["isAdmin"] is True


# ----------------------------------------------------------------------------- groups and batches


def test_members_duplicates_cycles_and_external_addresses(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.add_group("all@acme.com", "All")
    emulator.add_group("sales@acme.com", "Sales")
    members = directory.members()
    added = members.insert(groupKey="sales@acme.com", body={"email": "ann@acme.com", "role": "OWNER"}).execute()
    assert {k: added[k] for k in ("email", "role", "type", "status")} == {
        "email": "ann@acme.com", "role": "OWNER", "type": "USER", "status": "ACTIVE"}
    dup = error_of(members.insert(groupKey="sales@acme.com", body={"email": "ann@acme.com"}))
    assert json.loads(dup.content) == google_error(409, "duplicate", "Member already exists.")
    members.insert(groupKey="all@acme.com", body={"email": "sales@acme.com"}).execute()
    cycle = error_of(members.insert(groupKey="sales@acme.com", body={"email": "all@acme.com"}))
    assert json.loads(cycle.content) == google_error(400, "conditionNotMet", "Cyclic memberships not allowed")
    itself = error_of(members.insert(groupKey="sales@acme.com", body={"email": "sales@acme.com"}))
    assert itself.status_code == 400
    external = members.insert(groupKey="sales@acme.com", body={"email": "Partner@Example.org"}).execute()
    assert {k: v for k, v in external.items() if k != "etag"} == {
        "kind": "admin#directory#member", "email": "partner@example.org", "role": "MEMBER", "type": "USER",
        "delivery_settings": "ALL_MAIL"}
    assert members.hasMember(groupKey="all@acme.com", memberKey="ann@acme.com").execute() == {"isMember": True}
    owners = members.list(groupKey="sales@acme.com", roles="OWNER").execute()["members"]
    assert [m["email"] for m in owners] == ["ann@acme.com"]
    missing = error_of(members.insert(groupKey="sales@acme.com", body={"email": "nobody@acme.com"}))
    assert json.loads(missing.content) == google_error(404, "notFound", "Resource Not Found: memberKey")


def test_batch_of_1000_member_inserts_with_per_part_callbacks(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_group("everyone@acme.com", "Everyone")
    wanted = [f"u{n:03d}@acme.com" for n in range(999)]
    for address in wanted:
        emulator.add_user(address, "U", address[:4])
    emulator.reset_stats()
    results: dict[str, tuple[Any, HttpError | None]] = {}

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        results[request_id] = (response, exception)

    batch = BatchHttpRequest(callback=callback, batch_uri=f"{emulator.url}batch/admin/directory/v1")
    for address in [*wanted[:500], "ghost@acme.com", *wanted[500:]]:
        batch.add(directory.members().insert(groupKey="everyone@acme.com", body={"email": address}),
                  request_id=address)
    batch.execute()

    assert len(results) == 1000
    failed = {rid: exc for rid, (_, exc) in results.items() if exc is not None}
    assert list(failed) == ["ghost@acme.com"]
    assert (failed["ghost@acme.com"].status_code, failed["ghost@acme.com"].reason) == (
        404, "Resource Not Found: memberKey")
    assert all(results[a][0]["email"] == a for a in wanted)  # each response reached its own callback
    assert [m["email"] for m in emulator.members("everyone@acme.com")] == wanted
    stats = emulator.stats()
    assert (stats["requests"], stats["calls"], stats["batches"]) == (1, 1000, 1)
    group_id = emulator.group("everyone@acme.com")["id"]  # type: ignore[index]
    inserted = [emulator.user(key)["primaryEmail"] for key in emulator.store.members[group_id]]  # type: ignore[index]
    assert sorted(inserted) == wanted
    assert inserted != wanted  # executed in a shuffled order, as a real batch may be


def _raw_batch(url: str, parts: int, path: str = "/batch") -> tuple[int, bytes]:
    boundary = "===============7330845974216740156=="
    chunks = []
    for n in range(parts):
        chunks.append(f"--{boundary}\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n"
                      f"Content-ID: <b29c5de2-0db4-490b-b421-6a51b598bd22 + {n}>\n\n"
                      "GET /admin/directory/v1/groups/g%40acme.com?alt=json HTTP/1.1\nHost: x\n\n\n")
    body = ("".join(chunks) + f"--{boundary}--").encode()
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", path, body=body,
                       headers={"Content-Type": f'multipart/mixed; boundary="{boundary}"'})
    response = connection.getresponse()
    status, payload = response.status, response.read()
    connection.close()
    return status, payload


def test_batch_of_1001_parts_is_refused_whole(emulator: GoogleEmulator) -> None:
    emulator.add_group("g@acme.com", "G")
    status, payload = _raw_batch(emulator.url, 1001)
    assert status == 400
    assert json.loads(payload)["error"]["errors"][0]["reason"] == "badRequest"
    assert emulator.stats()["calls"] == 0
    status, _ = _raw_batch(emulator.url, 3, "//batch/admin/directory_v1")  # as f"{url}/batch/..." sends it
    assert (status, emulator.stats()["calls"]) == (200, 3)


def test_quota_counts_every_part_of_a_batch(emulator: GoogleEmulator) -> None:
    emulator.add_group("g@acme.com", "G")
    emulator.quota_per_minute = 3
    status, payload = _raw_batch(emulator.url, 5, "/batch/admin/directory/v1")
    assert status == 200
    assert payload.count(b"HTTP/1.1 200 OK") == 3
    assert payload.count(b"HTTP/1.1 403 Forbidden") == 2
    assert payload.count(b'"reason": "userRateLimitExceeded"') == 2
    stats = emulator.stats()
    assert (stats["requests"], stats["calls"], stats["quota_rejections"], stats["batches"]) == (1, 5, 2, 1)


def test_unknown_paths_get_googles_html_404_and_latency_applies(emulator: GoogleEmulator) -> None:
    emulator.latency_ms = 60
    started = time.monotonic()
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{emulator.url}admin/directory/v1/nothing", timeout=5)
    finally:
        emulator.latency_ms = 0
    assert time.monotonic() - started >= 0.06
    assert caught.value.code == 404
    assert caught.value.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert b"The requested URL <code>/admin/directory/v1/nothing</code> was not found" in caught.value.read()
    caught.value.close()
    assert emulator.calls() == [("GET", "/admin/directory/v1/nothing")]


def test_member_pages_are_capped_at_200(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_group("big@acme.com", "Big")
    for n in range(250):
        emulator.add_member("big@acme.com", f"guest{n:03d}@example.org")
    first = directory.members().list(groupKey="big@acme.com", maxResults=500).execute()
    assert (len(first["members"]), "nextPageToken" in first) == (200, True)
    rest = directory.members().list_next(directory.members().list(groupKey="big@acme.com", maxResults=500), first)
    assert [m["email"] for m in rest.execute()["members"]] == [f"guest{n:03d}@example.org" for n in range(200, 250)]


# ----------------------------------------------------------------------------- quota and faults


def test_quota_past_the_budget_is_403_user_rate_limit(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.quota_per_minute = 3
    for _ in range(3):
        directory.groups().list(customer="my_customer").execute()
    error = error_of(directory.groups().list(customer="my_customer"))
    assert error.status_code == 403
    assert error.error_details[0]["reason"] == "userRateLimitExceeded"
    assert error.reason.startswith("Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'")
    assert emulator.stats()["quota_rejections"] == 1


def test_client_retries_recover_from_429_and_injected_503(emulator: GoogleEmulator, directory: Any) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.throttle_next(2)
    request = directory.users().get(userKey="ann@acme.com")
    request._sleep = lambda seconds: None  # the client's back-off hook: keep the test fast
    assert request.execute(num_retries=2)["primaryEmail"] == "ann@acme.com"
    assert emulator.calls() == [("GET", "/admin/directory/v1/users/ann@acme.com")] * 3

    emulator.throttle_next(1)
    assert error_of(directory.users().get(userKey="ann@acme.com")).status_code == 429

    emulator.fail_next("PATCH", r"/users/ann@", 503, "backendError", "Backend Error")
    patch = directory.users().patch(userKey="ann@acme.com", body={"suspended": True})
    patch._sleep = lambda seconds: None
    assert patch.execute(num_retries=1)["suspended"] is True
    emulator.fail_next("*", r"/groups", 500, "backendError", "Backend Error", count=1)
    failed = error_of(directory.groups().list(customer="my_customer"))
    assert json.loads(failed.content) == google_error(500, "backendError", "Backend Error")


def test_mutations_fail_until_user_creation_is_complete(emulator: GoogleEmulator, directory: Any,
                                                        licensing: Any) -> None:
    clock = FakeClock()  # the delay runs on the emulator's clock, moved by hand: no real waiting
    emulator.clock = clock
    emulator.consistency_delay_s = 0.5
    emulator.add_group("team@acme.com", "Team")
    created = directory.users().insert(body=NEW_USER).execute()
    not_ready = google_error(412, "conditionNotMet", "User creation is not complete.")
    attempts = [
        directory.users().patch(userKey=created["id"], body={"suspended": True}),
        directory.users().aliases().insert(userKey=created["id"], body={"alias": "jd@acme.com"}),
        directory.members().insert(groupKey="team@acme.com", body={"email": "jane.doe@acme.com"}),
        licensing.licenseAssignments().insert(productId="Google-Apps", skuId=SKU_STANDARD,
                                              body={"userId": "jane.doe@acme.com"}),
    ]
    for attempt in attempts:
        assert json.loads(error_of(attempt).content) == not_ready
    assert directory.users().get(userKey=created["id"]).execute()["primaryEmail"] == "jane.doe@acme.com"
    clock.now += 0.55
    assert directory.users().patch(userKey=created["id"], body={"suspended": True}).execute()["suspended"] is True


# ----------------------------------------------------------------------------- org units, roles, licences


def test_org_units_with_nested_paths(emulator: GoogleEmulator, directory: Any) -> None:
    units = directory.orgunits()
    units.insert(customerId="my_customer", body={"name": "Sales", "parentOrgUnitPath": "/"}).execute()
    emea = units.insert(customerId="my_customer", body={"name": "EMEA", "parentOrgUnitPath": "/Sales",
                                                        "description": "Europe"}).execute()
    assert (emea["kind"], emea["orgUnitPath"], emea["parentOrgUnitPath"]) == (
        "admin#directory#orgUnit", "/Sales/EMEA", "/Sales")
    got = units.get(customerId="my_customer", orgUnitPath="Sales/EMEA").execute()
    assert (got["orgUnitId"], got["description"]) == (emea["orgUnitId"], "Europe")
    assert emulator.calls()[-1] == ("GET", "/admin/directory/v1/customer/my_customer/orgunits/Sales/EMEA")
    listing = units.list(customerId="my_customer", type="all").execute()
    assert [u["orgUnitPath"] for u in listing["organizationUnits"]] == ["/Sales", "/Sales/EMEA"]
    children = units.list(customerId="my_customer", orgUnitPath="/Sales", type="children").execute()
    assert [u["orgUnitPath"] for u in children["organizationUnits"]] == ["/Sales/EMEA"]

    emulator.add_user("ann@acme.com", "Ann", "Lee", orgUnitPath="/Sales/EMEA")
    busy = error_of(units.delete(customerId="my_customer", orgUnitPath="Sales"))
    assert (busy.status_code, busy.error_details[0]["reason"]) == (400, "conditionNotMet")
    units.patch(customerId="C01abc234", orgUnitPath="Sales", body={"name": "Revenue"}).execute()
    assert emulator.user("ann@acme.com")["orgUnitPath"] == "/Revenue/EMEA"  # type: ignore[index]
    missing = error_of(units.get(customerId="my_customer", orgUnitPath="Sales/EMEA"))
    assert json.loads(missing.content) == google_error(404, "notFound", "Org unit not found")
    directory.users().patch(userKey="ann@acme.com", body={"orgUnitPath": "/"}).execute()
    units.delete(customerId="my_customer", orgUnitPath="Revenue/EMEA").execute()
    assert [u["orgUnitPath"] for u in units.list(customerId="my_customer", type="all").execute()[
        "organizationUnits"]] == ["/Revenue"]


def test_roles_and_role_assignments(emulator: GoogleEmulator, directory: Any) -> None:
    user = emulator.add_user("ann@acme.com", "Ann", "Lee")
    roles = directory.roles().list(customer="my_customer").execute()["items"]
    by_name = {r["roleName"]: r for r in roles}
    assert {"_SEED_ADMIN_ROLE", "_GROUPS_ADMIN_ROLE", "_USER_MANAGEMENT_ADMIN_ROLE", "_HELP_DESK_ADMIN_ROLE",
            "_SERVICES_ADMIN_ROLE", "_MOBILE_ADMIN_ROLE"} <= set(by_name)
    assert by_name["_SEED_ADMIN_ROLE"]["isSuperAdminRole"] is True
    assert by_name["_GROUPS_ADMIN_ROLE"]["isSuperAdminRole"] is False

    assignments = directory.roleAssignments()
    made = assignments.insert(customer="my_customer", body={
        "roleId": by_name["_USER_MANAGEMENT_ADMIN_ROLE"]["roleId"], "assignedTo": user["id"],
        "scopeType": "CUSTOMER"}).execute()
    assert (made["kind"], made["assigneeType"]) == ("admin#directory#roleAssignment", "user")
    assignments.insert(customer="C01abc234", body={"roleId": by_name["_SEED_ADMIN_ROLE"]["roleId"],
                                                   "assignedTo": user["id"], "scopeType": "CUSTOMER"}).execute()
    listed = assignments.list(customer="my_customer", userKey="ann@acme.com").execute()["items"]
    assert sorted(a["roleId"] for a in listed) == sorted(
        [by_name["_USER_MANAGEMENT_ADMIN_ROLE"]["roleId"], by_name["_SEED_ADMIN_ROLE"]["roleId"]])
    assert directory.users().get(userKey="ann@acme.com").execute()["isAdmin"] is True
    assignments.delete(customer="my_customer", roleAssignmentId=made["roleAssignmentId"]).execute()
    assert [a["roleId"] for a in emulator.role_assignments()] == [by_name["_SEED_ADMIN_ROLE"]["roleId"]]
    too_many = error_of(assignments.list(customer="my_customer", maxResults=201))
    assert too_many.status_code == 400


def test_licence_listing_per_product_with_paging_and_seat_limits(emulator: GoogleEmulator, licensing: Any) -> None:
    for name in ("ann", "bob", "cat", "dan", "eve", "fay"):
        emulator.add_user(f"{name}@acme.com", name.title(), "X")
    assignments = licensing.licenseAssignments()
    for name in ("ann", "bob", "cat"):
        made = assignments.insert(productId="Google-Apps", skuId=SKU_STANDARD,
                                  body={"userId": f"{name}@acme.com"}).execute()
        assert (made["kind"], made["skuId"], made["userId"]) == (
            "licensing#licenseAssignment", SKU_STANDARD, f"{name}@acme.com")
    for name in ("dan", "eve"):
        assignments.insert(productId="Google-Apps", skuId=SKU_STARTER, body={"userId": f"{name}@acme.com"}).execute()
    full = error_of(assignments.insert(productId="Google-Apps", skuId=SKU_STARTER, body={"userId": "fay@acme.com"}))
    assert (full.status_code, full.error_details[0]["reason"]) == (412, "conditionNotMet")
    # One SKU of a product per user: another is a patch, never a second insert.
    second = error_of(assignments.insert(productId="Google-Apps", skuId=SKU_STARTER, body={"userId": "ann@acme.com"}))
    assert (second.status_code, second.error_details[0]["reason"]) == (409, "duplicate")

    request = assignments.listForProduct(productId="Google-Apps", customerId="C01abc234", maxResults=2)
    pages = []
    while request is not None:
        response = request.execute()
        pages.append([(i["skuId"], i["userId"]) for i in response["items"]])
        request = assignments.listForProduct_next(request, response)
    assert pages == [[(SKU_STARTER, "dan@acme.com"), (SKU_STARTER, "eve@acme.com")],
                     [(SKU_STANDARD, "ann@acme.com"), (SKU_STANDARD, "bob@acme.com")],
                     [(SKU_STANDARD, "cat@acme.com")]]
    starter = assignments.listForProductAndSku(productId="Google-Apps", skuId=SKU_STARTER,
                                               customerId="acme.com").execute()
    assert [i["userId"] for i in starter["items"]] == ["dan@acme.com", "eve@acme.com"]
    assignments.delete(productId="Google-Apps", skuId=SKU_STARTER, userId="dan@acme.com").execute()
    assert len(emulator.licenses()) == 4
    assert error_of(assignments.listForProduct(productId="Google-Apps", customerId="C01abc234",
                                               maxResults=1001)).status_code == 400


# ----------------------------------------------------------------------------- other APIs


def test_data_transfer_completes_after_the_delay(emulator: GoogleEmulator, server: GoogleEmulator) -> None:
    clock = FakeClock()  # the transfer completes on the emulator's clock, moved by hand
    emulator.clock = clock
    emulator.transfer_delay_s = 0.2
    old = emulator.add_user("old@acme.com", "Old", "Owner")
    new = emulator.add_user("new@acme.com", "New", "Owner")
    with _build(server, "admin", "datatransfer_v1") as transfer:
        _transfer_round_trip(transfer, old["id"], new["id"], clock)


def _transfer_round_trip(transfer: Any, old_id: str, new_id: str, clock: FakeClock) -> None:
    apps = transfer.applications().list(customerId="my_customer").execute()["applications"]
    assert {a["id"]: a["name"] for a in apps}["55656082996"] == "Drive and Docs"
    made = transfer.transfers().insert(body={
        "oldOwnerUserId": old_id, "newOwnerUserId": new_id,
        "applicationDataTransfers": [{"applicationId": "55656082996", "applicationTransferParams": [
            {"key": "PRIVACY_LEVEL", "value": ["PRIVATE", "SHARED"]}]}]}).execute()
    assert made["overallTransferStatusCode"] == "inProgress"
    clock.now += 0.25
    done = transfer.transfers().get(dataTransferId=made["id"]).execute()
    assert (done["overallTransferStatusCode"], done["applicationDataTransfers"][0]["applicationTransferStatus"]) == (
        "completed", "completed")


def test_usage_report_reports_the_activity_tests_set(emulator: GoogleEmulator, server: GoogleEmulator) -> None:
    emulator.add_user("ann@acme.com", "Ann", "Lee")
    emulator.set_user_activity("ann@acme.com", last_login="2024-05-01T08:00:00.000Z", is_enrolled_2sv=True,
                               used_quota_mb=1234)
    with _build(server, "admin", "reports_v1") as reports:
        _check_usage_report(reports)


def _check_usage_report(reports: Any) -> None:
    got = reports.userUsageReport().get(userKey="ann@acme.com", date="2024-05-02",
                                        parameters="accounts:last_login_time,accounts:is_2sv_enrolled,"
                                                   "accounts:used_quota_in_mb").execute()
    report = got["usageReports"][0]
    assert report["entity"]["userEmail"] == "ann@acme.com"
    assert report["parameters"] == [
        {"name": "accounts:last_login_time", "datetimeValue": "2024-05-01T08:00:00.000Z"},
        {"name": "accounts:is_2sv_enrolled", "boolValue": True},
        {"name": "accounts:used_quota_in_mb", "intValue": "1234"}]
    request = reports.userUsageReport().get(userKey="ann@acme.com", date="2024-05-02")
    request.uri = request.uri.replace("2024-05-02", "2024-5-2")  # the client checks the pattern itself
    bad_date = error_of(request)
    assert (bad_date.status_code, bad_date.error_details[0]["reason"]) == (400, "invalid")


def test_domains_and_domain_aliases(emulator: GoogleEmulator, directory: Any) -> None:
    domains = directory.domains().list(customer="my_customer").execute()["domains"]
    assert [(d["domainName"], d["isPrimary"]) for d in domains] == [("acme.com", True), ("acme.de", False)]
    assert [a["domainAliasName"] for a in domains[0]["domainAliases"]] == ["acme.cn"]
    made = directory.domainAliases().insert(customer="my_customer", body={
        "domainAliasName": "acme.fr", "parentDomainName": "acme.de"}).execute()
    assert (made["kind"], made["verified"]) == ("admin#directory#domainAlias", False)
    listed = directory.domainAliases().list(customer="my_customer", parentDomainName="acme.de").execute()
    assert [a["domainAliasName"] for a in listed["domainAliases"]] == ["acme.fr"]
    directory.domainAliases().delete(customer="my_customer", domainAliasName="acme.fr").execute()
    assert error_of(directory.domainAliases().get(customer="my_customer", domainAliasName="acme.fr")).status_code \
        == 404


def test_standalone_server_serves_stats_and_reset() -> None:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.emulators.google", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"Google Workspace emulator serving on http://127.0.0.1:{port}/"
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/admin/directory/v1/groups?customer=my_customer", timeout=5) as answer:
            listing = json.loads(answer.read())
        assert (listing["kind"], "groups" in listing) == ("admin#directory#groups", False)
        with urllib.request.urlopen(f"{base}/_emulator/stats", timeout=5) as answer:
            assert json.loads(answer.read()) == {"requests": 1, "calls": 1, "quota_rejections": 0, "batches": 0,
                                                 "by_method": {"GET /admin/directory/v1/groups": 1}}
        reset = urllib.request.Request(f"{base}/_emulator/reset", method="POST", data=b"")
        with urllib.request.urlopen(reset, timeout=5) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"{base}/_emulator/stats", timeout=5) as answer:
            assert json.loads(answer.read())["calls"] == 0
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _free_port() -> int:
    """A free loopback port (released again before the server binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----------------------------------------------------------------------------- real-tenant behaviour


def test_a_batch_takes_calls_to_its_own_api_only(emulator: GoogleEmulator, directory: Any,
                                                 server: GoogleEmulator) -> None:
    old = emulator.add_user("old@acme.com", "Old", "Owner")
    new = emulator.add_user("new@acme.com", "New", "Owner")
    answers: dict[str, tuple[Any, HttpError | None]] = {}

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        answers[request_id] = (response, exception)

    with _build(server, "admin", "datatransfer_v1") as transfer:
        insert = transfer.transfers().insert(body={"oldOwnerUserId": old["id"], "newOwnerUserId": new["id"],
                                                   "applicationDataTransfers": [{"applicationId": "55656082996"}]})
        mixed = BatchHttpRequest(callback=callback, batch_uri=f"{emulator.url}batch/admin/directory_v1")
        mixed.add(directory.users().get(userKey="old@acme.com"), request_id="user")
        mixed.add(insert, request_id="transfer")
        mixed.execute()
        assert answers["user"][1] is None
        refused = answers["transfer"][1]
        assert refused is not None and refused.status_code == 404  # not a path the Directory API has
        assert b"/admin/datatransfer/v1/transfers</code> was not found" in refused.content
        assert emulator.store.transfers == {}
        own = BatchHttpRequest(callback=callback, batch_uri=f"{emulator.url}batch/admin/datatransfer_v1")
        own.add(transfer.transfers().insert(body=json.loads(insert.body)), request_id="again")
        own.execute()
        assert answers["again"][1] is None and len(emulator.store.transfers) == 1
    assert [e["batch"] for e in emulator.call_log()] == ["directory", "directory", "datatransfer"]


def test_automatic_licensing_gives_new_users_the_default_sku(emulator: GoogleEmulator, directory: Any,
                                                              licensing: Any) -> None:
    emulator.default_license = f"Google-Apps/{SKU_STARTER}"
    directory.users().insert(body=NEW_USER).execute()
    assert emulator.licenses() == [{"productId": "Google-Apps", "skuId": SKU_STARTER, "userId": "jane.doe@acme.com"}]
    assignments = licensing.licenseAssignments()
    same = error_of(assignments.insert(productId="Google-Apps", skuId=SKU_STARTER,
                                       body={"userId": "jane.doe@acme.com"}))
    assert json.loads(same.content) == google_error(409, "duplicate",
                                                    "User already has a license for the specified product and SKU.")
    other = error_of(assignments.insert(productId="Google-Apps", skuId=SKU_STANDARD,
                                        body={"userId": "jane.doe@acme.com"}))
    assert other.status_code == 409
    moved = assignments.patch(productId="Google-Apps", skuId=SKU_STARTER, userId="jane.doe@acme.com",
                              body={"skuId": SKU_STANDARD}).execute()
    assert moved["skuId"] == SKU_STANDARD
    assert [x["skuId"] for x in emulator.licenses()] == [SKU_STANDARD]


def test_new_users_and_groups_are_not_found_by_key_for_a_while(emulator: GoogleEmulator, directory: Any,
                                                                licensing: Any) -> None:
    now = [100.0]
    emulator.clock, emulator.visibility_delay_s = (lambda: now[0]), 30.0
    directory.users().insert(body=NEW_USER).execute()
    directory.groups().insert(body={"email": "team@acme.com", "name": "Team"}).execute()
    not_yet = [
        (directory.users().get(userKey="jane.doe@acme.com"), "userKey"),
        (directory.users().aliases().insert(userKey="jane.doe@acme.com", body={"alias": "jd@acme.com"}),
         "userKey"),
        (directory.groups().get(groupKey="team@acme.com"), "groupKey"),
        (directory.members().insert(groupKey="team@acme.com", body={"email": "jane.doe@acme.com"}), "groupKey"),
        (licensing.licenseAssignments().insert(productId="Google-Apps", skuId=SKU_STANDARD,
                                               body={"userId": "jane.doe@acme.com"}), "userId"),
    ]
    for request, key in not_yet:
        assert json.loads(error_of(request).content) == google_error(404, "notFound", f"Resource Not Found: {key}")
    emulator.add_group("old@acme.com", "Old")  # an old group: its member, not it, is not found yet
    member = error_of(directory.members().insert(groupKey="old@acme.com", body={"email": "jane.doe@acme.com"}))
    assert json.loads(member.content) == google_error(404, "notFound", "Resource Not Found: memberKey")
    listed = directory.users().list(customer="my_customer").execute()["users"]
    assert [u["primaryEmail"] for u in listed] == ["jane.doe@acme.com"]  # lists already show it
    now[0] += 30.0
    directory.members().insert(groupKey="team@acme.com", body={"email": "jane.doe@acme.com"}).execute()
    assert directory.users().get(userKey="jane.doe@acme.com").execute()["primaryEmail"] == "jane.doe@acme.com"


def test_everyone_in_the_organisation_is_a_member_without_an_address(emulator: GoogleEmulator,
                                                                      directory: Any) -> None:
    emulator.add_group("all@acme.com", "All")
    emulator.add_whole_customer("all@acme.com")
    [member] = directory.members().list(groupKey="all@acme.com").execute()["members"]
    assert {k: v for k, v in member.items() if k != "etag"} == {
        "kind": "admin#directory#member", "id": "C01abc234", "role": "MEMBER", "type": "CUSTOMER",
        "delivery_settings": "ALL_MAIL"}


def test_a_users_page_renders_only_its_own_users(emulator: GoogleEmulator, directory: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The emulator's own cost must not weigh on what a benchmark measures: a page renders its
    # users, not every user of the tenant (1,200 users in pages of 500: 1,200 renders, not 3,600).
    from tests.emulators.google import common, users

    for n in range(1200):
        emulator.add_user(f"u{n:04d}@acme.com", "U", f"N{n}")
    rendered: list[str] = []
    real = common.render_user

    def counting(store: Any, user: dict[str, Any], projection: str = "basic") -> dict[str, Any]:
        rendered.append(user["primaryEmail"])
        return real(store, user, projection)

    monkeypatch.setattr(users, "render_user", counting)
    request = directory.users().list(customer="my_customer", maxResults=500, orderBy="email")
    seen: list[str] = []
    while request is not None:
        answer = request.execute()
        seen += [u["primaryEmail"] for u in answer["users"]]
        request = directory.users().list_next(request, answer)
    assert seen == sorted(f"u{n:04d}@acme.com" for n in range(1200))
    assert sorted(rendered) == seen
