"""The Exmail emulator is as strict as the reference: error bodies, limits, root and list rules."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers.exmail.client import SECRET_ENV, ExmailClient
from tests.emulators.exmail import ExmailEmulator

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def emu() -> Iterator[ExmailEmulator]:
    with ExmailEmulator(corp_id="wm1", domains=("acme.com",)) as running:
        yield running


def call(emu: ExmailEmulator, method: str, path: str, body: dict[str, Any] | None = None,
         app: str = "contacts", **query: Any) -> dict[str, Any]:
    if path != "gettoken":
        query["access_token"] = call(emu, "GET", "gettoken", corpid="wm1", corpsecret=emu.secrets[app])["access_token"]
    url = f"{emu.url}/{path}?" + "&".join(f"{k}={v}" for k, v in query.items())
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method)) as answer:
        assert answer.status == 200  # Tencent says what went wrong in the body, with HTTP 200
        parsed: dict[str, Any] = json.loads(answer.read())
        return parsed


def test_token_errors_are_errcode_bodies(emu: ExmailEmulator) -> None:
    assert call(emu, "GET", "gettoken", corpid="wm1", corpsecret="nope") == {"errcode": 40001,
                                                                          "errmsg": "invalid credential"}
    token = call(emu, "GET", "gettoken", corpid="wm1", corpsecret=emu.secrets["contacts"])
    assert token["expires_in"] == 7200 and 64 <= len(token["access_token"]) <= 512
    with urllib.request.urlopen(f"{emu.url}/department/list?id=1") as answer:
        assert json.loads(answer.read())["errcode"] == 41001
    assert call(emu, "POST", "log/login", {"userid": "a@acme.com", "begin_date": "2026-01-01",
                                           "end_date": "2026-01-02"}, app="option")["errcode"] == 48002


def test_unknown_fields_and_limits_are_refused(emu: ExmailEmulator) -> None:
    assert call(emu, "POST", "department/create", {"name": "x", "parentid": 1, "colour": "red"})["errcode"] == 40058
    assert call(emu, "POST", "department/create", {"name": "a|b", "parentid": 1})["errcode"] == 40058
    addresses = [f"u{i}@acme.com" for i in range(21)]
    assert call(emu, "POST", "user/batchcheck", {"userlist": addresses})["errcode"] == 40058
    user = {"userid": "li@acme.com", "name": "李", "department": [1], "password": "Abc12345",
            "slaves": [f"s{i}@acme.com" for i in range(6)]}
    assert call(emu, "POST", "user/create", user)["errcode"] == 40058  # six aliases
    assert call(emu, "POST", "user/create", {**user, "slaves": ["li.alias@acme.com"]})["errmsg"] == "created"
    assert call(emu, "POST", "user/create", {**user, "slaves": []})["errcode"] == 60102  # the address is taken
    checked = call(emu, "POST", "user/batchcheck", {"userlist": ["li@acme.com", "li.alias@acme.com",
                                                                 "free@acme.com", "x@other.org"]})["list"]
    assert [c["type"] for c in checked] == [1, 2, 0, -1]


def test_update_leaves_out_what_it_is_not_given_and_lists_are_replaced_whole(emu: ExmailEmulator) -> None:
    emu.add_user("li@acme.com", "李", slaves=["l@acme.com"], cpwd_login=1, position="经理")
    assert call(emu, "POST", "user/update", {"userid": "li@acme.com", "mobile": "13900000000"})["errcode"] == 0
    assert (emu.users["li@acme.com"]["slaves"], emu.users["li@acme.com"]["cpwd_login"]) == (["l@acme.com"], 1)
    emu.add_user("wang@acme.com", "王")
    assert call(emu, "POST", "group/create", {"groupid": "g@acme.com", "groupname": "g",
                                              "allow_type": 0})["errcode"] == 40058  # no member at all
    assert call(emu, "POST", "group/create", {"groupid": "g@acme.com", "groupname": "g", "allow_type": 0,
                                              "userlist": ["li@acme.com", "wang@acme.com"]})["errcode"] == 0
    assert call(emu, "POST", "group/update", {"groupid": "g@acme.com", "userlist": ["wang@acme.com"]})["errcode"] == 0
    assert emu.groups["g@acme.com"]["userlist"] == ["wang@acme.com"]
    assert call(emu, "POST", "group/update", {"groupid": "g@acme.com", "userlist": []})["errcode"] == 40058


def test_root_and_non_empty_departments_are_not_deleted(emu: ExmailEmulator) -> None:
    sales = emu.add_department("sales")
    east = emu.add_department("east", sales)
    emu.add_user("li@acme.com", "李", east)
    assert call(emu, "GET", "department/delete", id=1)["errcode"] == 60007
    assert call(emu, "GET", "department/delete", id=sales)["errcode"] == 60006
    assert call(emu, "GET", "department/delete", id=east)["errcode"] == 60005
    listed = call(emu, "GET", "department/list", id=sales)["department"]
    assert [d["id"] for d in listed] == [sales, east]


def test_user_list_has_no_enable_user_get_has(emu: ExmailEmulator) -> None:
    emu.add_user("li@acme.com", "李", enable=0)
    [listed] = call(emu, "GET", "user/list", department_id=1, fetch_child=1)["userlist"]
    assert "enable" not in listed and "password" not in listed
    assert call(emu, "GET", "user/get", userid="li@acme.com")["enable"] == 0


def test_stats_and_reset_over_http(emu: ExmailEmulator) -> None:
    call(emu, "GET", "department/list", id=1)
    base = emu.url.removesuffix("/cgi-bin")
    with urllib.request.urlopen(f"{base}/_emulator/stats") as answer:
        stats = json.loads(answer.read())
    assert stats["by_method"] == {"GET gettoken": 1, "GET department/list": 1} and stats["tokens_issued"] == 1
    urllib.request.urlopen(urllib.request.Request(f"{base}/_emulator/reset", method="POST")).close()
    assert emu.stats()["requests"] == 0


def test_runs_standalone_and_the_provider_reads_it() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "tests.emulators.exmail", "--port", str(port),
                                "--corp-id", "wm9", "--domain", "acme.com"],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().strip()
        assert banner.startswith(f"Tencent Exmail emulator serving on http://127.0.0.1:{port}/cgi-bin/ (secrets: ")
        secret = banner.split("contacts=", 1)[1].split(",", 1)[0]
        client = ExmailClient("wm9", base=f"http://127.0.0.1:{port}/cgi-bin/",
                              environ={SECRET_ENV["contacts"]: secret})
        try:
            assert client.get("department/list", id=1)["department"][0]["id"] == 1
        finally:
            client.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as answer:
            assert json.loads(answer.read())["by_method"] == {"GET gettoken": 1, "GET department/list": 1}
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
