"""The providers' messages in Chinese: the day-one failures an admin meets first (no credentials, a
scope or permission not granted, a secret that is wrong or not set, a damaged directory file, a
quota spent), run through the real CLI with `--lang zh-CN` against the emulators.

Each run checks that every message asked for had a translation (`i18n.missing()`), that no English
sentence is left beside what is data (scopes, permission names, console paths shown in English,
the service's own answers, addresses), that no secret is shown in any encoding, and that
`reconciler access --format json` is the same in both languages.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import i18n
from reconciler.errors import ProviderError
from reconciler.i18n import N_, english
from reconciler.model.loader import load_org
from reconciler.plan.build import Planned, build_plan
from reconciler.providers import open_provider
from reconciler.providers.alimail.client import ENDPOINT_ENV as ALIMAIL_ENDPOINT_ENV
from reconciler.providers.alimail.client import SECRET_ENV as ALIMAIL_SECRET_ENV
from reconciler.providers.exmail.client import ENDPOINT_ENV as EXMAIL_ENDPOINT_ENV
from reconciler.providers.exmail.client import SECRET_ENV as EXMAIL_SECRET_ENV
from reconciler.providers.exmail.client import ExmailClient
from reconciler.providers.google.client import AUTH, SCOPES_WRITE
from reconciler.providers.google.client import ENDPOINT_ENV as GOOGLE_ENDPOINT_ENV
from reconciler.providers.google.credentials import DELEGATION_PLACE
from reconciler.providers.google.provider import google_errors
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from reconciler.providers.microsoft.grants import ASSIGN_ROLE, CONSENT, DIRECTORY_ROLES, GRANT_CONSENT
from reconciler.providers.retrying import ATTEMPTS
from tests.applying import apply_all
from tests.cli_inprocess import Run, run_main
from tests.emulators.alimail import AlimailEmulator
from tests.emulators.exmail import ExmailEmulator
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator
from tests.i18n_support import english_left
from tests.secret_scan import find_secrets
from tests.smtp_support import closed_port
from tests.test_access import make_repo, onboarding
from tests.test_alimail_cli import APP as ALIMAIL_APP
from tests.test_alimail_cli import to_alimail
from tests.test_alimail_provider import Clock
from tests.test_exmail_cli import CORP, to_exmail
from tests.test_google_keyless import SERVICE_ACCOUNT, identity  # noqa: F401 - a fixture
from tests.test_microsoft_provider import SKUS as GRAPH_SKUS
from tests.test_microsoft_provider import to_microsoft

CHINESE = re.compile(r"[\u4e00-\u9fff]")
GOOGLE_UNAUTHORIZED = ("unauthorized_client: Client is unauthorized to retrieve access tokens using this method, or "
                       "client not authorized for any of the scopes requested.")
GRAPH_DENIED = "403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
GRAPH_APP = "00000000-0000-0000-0000-000000000001"
# Console paths the consoles show in English: kept as they are in every language.
GRAPH_PLACES = ["Directory.ReadWrite.All", CONSENT.format(app=GRAPH_APP, name="Directory.ReadWrite.All"), GRANT_CONSENT,
                *(ASSIGN_ROLE.format(name=name) for name in DIRECTORY_ROLES)]


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """Runs here speak Chinese; the tests after these must find the process speaking English."""
    i18n.forget_missing()
    yield
    i18n.use(i18n.SOURCE_LANGUAGE)


def zh(org_dir: Path, *args: str) -> Run:
    i18n.forget_missing()
    run = run_main(org_dir, "--lang", "zh-CN", *args)
    assert i18n.missing() == set(), f"no translation for: {sorted(i18n.missing())}"
    assert "Traceback" not in run.stderr, run.stderr
    return run


def en(org_dir: Path, *args: str) -> Run:
    return run_main(org_dir, "--lang", "en-US", *args)


def details(markdown: str) -> list[str]:
    """The detail cells of `reconciler access --format markdown`: what the provider said, with the
    table's escapes (render/markdown.cell) taken back."""
    cells = [row.rsplit(" | ", 1)[1].removesuffix(" |") for row in markdown.splitlines()
             if row.startswith("| ") and row.count(" | ") >= 3 and not row.startswith("| |")]
    return [html.unescape(re.sub(r"\\(.)", r"\1", text)) for text in cells]


def access_both_ways(org_dir: Path, data: list[str]) -> tuple[dict[str, object], list[str]]:
    """`reconciler access` in JSON (the same in both languages) and the details it says in Chinese,
    each checked for English left beside `data`."""
    english_json, chinese_json = en(org_dir, "access", "--format", "json"), zh(org_dir, "access", "--format", "json")
    assert english_json.stdout == chinese_json.stdout and english_json.code == chinese_json.code
    said = details(zh(org_dir, "access", "--format", "markdown").stdout)
    assert said and all(CHINESE.search(detail) for detail in said), said
    assert english_left("\n".join(said), data) == [], "\n".join(english_left("\n".join(said), data))
    return json.loads(chinese_json.stdout), said


def error_line(run: Run, data: list[str]) -> str:
    assert run.code == 1 and run.stdout == "", run
    assert run.stderr.startswith("错误："), run.stderr
    assert english_left(run.stderr, data) == [], run.stderr
    return run.stderr


# ----------------------------------------------------------------------------- local


def test_local_access_and_a_damaged_directory_file_in_chinese(org_copy: Path) -> None:
    report, said = access_both_ways(org_copy, data=[])
    assert set(said) == {"local 服务商无需授权"}
    assert {line["detail"] for line in report["lines"]} == {"the local provider needs no grants"}  # type: ignore[index]
    directory = org_copy.parent / ".reconciler" / "directory.json"
    directory.parent.mkdir(exist_ok=True)
    directory.write_text('{"format": "something else"}', encoding="utf-8")
    line = error_line(zh(org_copy, "plan"), data=[])
    assert "不是 reconciler 的本地目录文件" in line
    # The English run says it as before.
    assert "not a reconciler local directory file" in en(org_copy, "plan").stderr


# ----------------------------------------------------------------------------- Google Workspace


def to_google(org_dir: Path) -> None:
    settings = org_dir / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", "provider:\n  kind: google\n  admin: admin@acme.com\n",
                               settings.read_text()))


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleEmulator]:
    emu = GoogleEmulator(domains=("acme.com",), anonymous=False).start()
    monkeypatch.setenv(GOOGLE_ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def test_google_a_scope_the_delegation_lacks_in_chinese(org_copy: Path, google: GoogleEmulator) -> None:
    to_google(org_copy)
    # Neither the writing identity's (access) nor the read-only one's (plan) user scope is granted.
    missing, read_only = AUTH + "admin.directory.user", AUTH + "admin.directory.user.readonly"
    google.delegation = google.delegation - {missing, read_only}
    report, said = access_both_ways(org_copy, data=[GOOGLE_UNAUTHORIZED, DELEGATION_PLACE])
    read = next(line for line in report["lines"] if line["capability"] == "read")  # type: ignore[index]
    asked = " ".join(SCOPES_WRITE)
    assert read["detail"] == (f"401 {GOOGLE_UNAUTHORIZED} (the token asked for {asked}: each must be granted in "
                              f"{DELEGATION_PLACE}): the domain-wide delegation lacks {missing}; add it in "
                              f"{DELEGATION_PLACE}")
    assert (f"401 {GOOGLE_UNAUTHORIZED}（令牌申请的范围为 {asked}：每一个都必须在 {DELEGATION_PLACE} 中授予）："
            f"全网域授权（domain-wide delegation）缺少 {missing}；请在 {DELEGATION_PLACE} 中添加") in said
    # The plan itself meets the refused token: which scopes, and where they are granted.
    line = error_line(zh(org_copy, "plan"), data=[GOOGLE_UNAUTHORIZED, DELEGATION_PLACE])
    assert line.startswith("错误：读取 Google Workspace 租户：Google 拒绝了凭据：") and "令牌申请的范围为" in line
    assert read_only in line and DELEGATION_PLACE in line


def test_google_no_credentials_in_chinese(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    to_google(org_copy)
    monkeypatch.delenv(GOOGLE_ENDPOINT_ENV, raising=False)
    nowhere = org_copy.parent / "no-such-key.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(nowhere))
    run = zh(org_copy, "plan")
    google_said = run.stderr.split("Workload Identity Federation 配置（", 1)[1].rsplit("）", 1)[0]
    line = error_line(run, data=[google_said, "Workload Identity Federation"])  # google-auth's words; a product
    assert "没有 Google 凭据：请把 GOOGLE_APPLICATION_CREDENTIALS 设为" in line


# ----------------------------------------------------------------------------- Microsoft 365


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(domains=("acme.com", "acme.cn"), skus=GRAPH_SKUS).start()
    monkeypatch.setenv(GRAPH_ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def test_microsoft_a_permission_not_granted_in_chinese(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    graph.revoke("Directory.ReadWrite.All")  # which also lets the app read its own service principal
    report, said = access_both_ways(org_copy, data=[GRAPH_DENIED, *GRAPH_PLACES, *DIRECTORY_ROLES])
    write = next(line for line in report["lines"] if line["capability"] == "write")  # type: ignore[index]
    place = CONSENT.format(app=GRAPH_APP, name="Directory.ReadWrite.All")
    assert write["detail"] == f"missing the application permission Directory.ReadWrite.All ({place}, then Grant " \
                              "admin consent)"
    assert f"缺少应用程序权限 Directory.ReadWrite.All（{place}，然后点击 Grant admin consent）" in said
    assert f"无法读取该应用的服务主体（{GRAPH_DENIED}）；请确认它拥有目录角色 User Administrator 和 Privileged " \
           "Authentication Administrator" in said


def test_microsoft_no_credentials_in_chinese(org_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    to_microsoft(org_copy)
    for variable in (GRAPH_ENDPOINT_ENV, "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                     "ACTIONS_ID_TOKEN_REQUEST_URL"):
        monkeypatch.delenv(variable, raising=False)
    line = error_line(zh(org_copy, "plan"), data=[])
    assert "没有 Microsoft 凭据：请设置 AZURE_CLIENT_SECRET 或 AZURE_CLIENT_CERTIFICATE_PATH" in line


# ----------------------------------------------------------------------------- Tencent Exmail


@pytest.fixture
def exmail(monkeypatch: pytest.MonkeyPatch) -> Iterator[ExmailEmulator]:
    emu = ExmailEmulator(corp_id=CORP, domains=("acme.com", "acme.cn")).start()
    monkeypatch.setenv(EXMAIL_ENDPOINT_ENV, emu.url)
    for app, variable in EXMAIL_SECRET_ENV.items():
        monkeypatch.setenv(variable, emu.secrets[app])
    try:
        yield emu
    finally:
        emu.stop()


def test_exmail_a_secret_not_set_or_wrong_in_chinese(org_copy: Path, exmail: ExmailEmulator,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    to_exmail(org_copy)
    contacts = EXMAIL_SECRET_ENV["contacts"]
    monkeypatch.setenv(contacts, "")
    line = error_line(zh(org_copy, "plan"), data=[])
    assert f"{contacts} 未设置：这是腾讯企业邮通讯录管理应用的密钥（管理后台：工具箱 > 应用中心，或 开放平台" in line
    monkeypatch.setenv(contacts, "a-wrong-secret-of-24-chars")
    report, said = access_both_ways(org_copy, data=["invalid credential"])
    read = next(line for line in report["lines"] if line["capability"] == "read")  # type: ignore[index]
    assert read["ok"] is False and read["detail"].startswith("Exmail gettoken: errcode ")  # type: ignore[union-attr]
    assert f"check both in the admin console); admin console (工具箱 > 应用中心 or 开放平台): enable 通讯录管理 " \
           f"(contacts) and copy its CorpSecret into {contacts}" in read["detail"]  # type: ignore[operator]
    assert any(f"（corp_id {CORP} 与 {contacts}：请在管理后台核对这两项）；管理后台（工具箱 > 应用中心，或 开放平台）："
               f"开启通讯录管理，并把它的 CorpSecret 复制到 {contacts}" in detail for detail in said), said
    shown = {"json": json.dumps(report, ensure_ascii=False), "said": "\n".join(said)}
    assert find_secrets([*exmail.secrets.values(), "a-wrong-secret-of-24-chars"], shown) == []


def test_exmail_a_spent_quota_in_chinese(exmail: ExmailEmulator) -> None:
    """Frequency limits on every try of the token request: the one line, said in Chinese, while the
    English sentence stays on the error for JSON (`english`)."""
    clock = Clock()
    client = ExmailClient(CORP, clock=clock, sleep=clock.sleep, calls_per_second=1000)
    exmail.fail_next("GET", "gettoken", 200, "45009", "api freq out of limit", count=ATTEMPTS)
    try:
        with i18n.using("zh-CN"), pytest.raises(Exception) as raised:
            client.token("contacts")
    finally:
        client.close()
    assert str(raised.value) == f"Exmail gettoken：errcode 45009: api freq out of limit（已尝试 {ATTEMPTS} 次）"
    assert english(raised.value) == f"Exmail gettoken: errcode 45009: api freq out of limit ({ATTEMPTS} tries)"
    assert i18n.missing() == set()


# ----------------------------------------------------------------------------- Alibaba Mail


@pytest.fixture
def alimail(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlimailEmulator]:
    emu = AlimailEmulator(app_id=ALIMAIL_APP, domains=("acme.com", "acme.cn"), requests_per_second=None).start()
    monkeypatch.setenv(ALIMAIL_ENDPOINT_ENV, emu.url)
    monkeypatch.setenv(ALIMAIL_SECRET_ENV, emu.secret)
    try:
        yield emu
    finally:
        emu.stop()


def test_alimail_a_secret_not_set_or_wrong_in_chinese(org_copy: Path, alimail: AlimailEmulator,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    to_alimail(org_copy)
    monkeypatch.setenv(ALIMAIL_SECRET_ENV, "")
    line = error_line(zh(org_copy, "plan"), data=[])
    assert f"{ALIMAIL_SECRET_ENV} 未设置：这是阿里邮箱 API 应用 {ALIMAIL_APP} 的密钥（管理后台：API开放平台 > 应用" \
        in line
    monkeypatch.setenv(ALIMAIL_SECRET_ENV, "a-wrong-secret-of-24-chars")
    report, said = access_both_ways(org_copy, data=["client authentication failed"])  # Alibaba's answer
    read = next(line for line in report["lines"] if line["capability"] == "read")  # type: ignore[index]
    assert read["ok"] is False and "check both in the admin console" in read["detail"]  # type: ignore[operator]
    assert any("请在管理后台核对这两项，并确认该主机属于你所用的版本）；管理后台：API开放平台 > 应用：核对应用 ID"
               in detail for detail in said), said
    shown = {"json": json.dumps(report, ensure_ascii=False), "said": "\n".join(said)}
    assert find_secrets([alimail.secret, "a-wrong-secret-of-24-chars"], shown) == []


# ----------------------------------------------------------------------------- the onboarding SMTP server


def test_smtp_a_password_not_set_and_a_server_not_there_in_chinese(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    signing_in = make_repo(tmp_path / "signing-in", onboarding=onboarding(closed_port(), user="mailer@acme.com",
                                                                         password_env="SMTP_PASSWORD")) / "org"
    report, said = access_both_ways(signing_in, data=[])
    [smtp] = [line for line in report["lines"] if line["capability"] == "smtp"]  # type: ignore[index]
    assert smtp["detail"].startswith("the SMTP password of mailer@acme.com is not set")  # type: ignore[index]
    assert "mailer@acme.com 的 SMTP 密码未设置：请把它放入环境变量 SMTP_PASSWORD（org.yaml 中的 " \
           "onboarding.smtp.password_env）" in said
    port = closed_port()
    nobody_there = make_repo(tmp_path / "nobody-there", onboarding=onboarding(port)) / "org"
    report, said = access_both_ways(nobody_there, data=["Connection refused"])
    [smtp] = [line for line in report["lines"] if line["capability"] == "smtp"]  # type: ignore[index]
    assert smtp["detail"].startswith(f"cannot use the SMTP server 127.0.0.1:{port}: ")  # type: ignore[index]
    assert any(detail.startswith(f"无法使用 SMTP 服务器 127.0.0.1:{port}：") for detail in said), said


# ----------------------------------------------------------------------------- plan warnings the providers make


def _warnings_said(planned: Planned) -> list[str]:
    """The plan's warnings from this provider, said in Chinese (as the plan's renderers say them);
    their JSON stays English."""
    ours = [w for w in planned.plan.warnings if isinstance(w.message, i18n.Text)]
    assert ours, [w.code for w in planned.plan.warnings]
    english_json = planned.plan.model_dump_json()
    i18n.forget_missing()
    with i18n.using("zh-CN"):
        said = [w.said() for w in ours]
        assert planned.plan.model_dump_json() == english_json
    assert i18n.missing() == set(), sorted(i18n.missing())
    return said


def test_exmail_plan_warnings_in_chinese(org_copy: Path, exmail: ExmailEmulator) -> None:
    to_exmail(org_copy)
    org, issues = load_org(org_copy)
    with open_provider(None, org) as provider:
        said = _warnings_said(build_plan(org, issues, provider, dt.date(2026, 11, 29)))
    addresses = re.findall(r"[\w.+-]+@[\w.-]+", "\n".join(said))
    assert all(CHINESE.search(line) for line in said) and english_left("\n".join(said), addresses) == []
    assert any(line.startswith("腾讯企业邮的邮件群组没有群组管理员；") for line in said), said


def test_microsoft_plan_warnings_in_chinese(org_copy: Path, graph: GraphEmulator) -> None:
    to_microsoft(org_copy)
    org, issues = load_org(org_copy)
    with open_provider(None, org) as provider:
        said = _warnings_said(build_plan(org, issues, provider, dt.date(2026, 11, 29)))
    addresses = re.findall(r"[\w.+-]+@[\w.-]+", "\n".join(said))
    assert all(CHINESE.search(line) for line in said) and english_left("\n".join(said), addresses) == [], said


def test_exmail_a_change_it_cannot_make_is_said_in_chinese(org_copy: Path, exmail: ExmailEmulator) -> None:
    """A change's failure keeps its English sentence (the apply's JSON) and is said where shown."""
    to_exmail(org_copy)
    org, issues = load_org(org_copy)
    with open_provider(None, org) as provider:
        assert apply_all(build_plan(org, issues, provider, dt.date(2026, 11, 29)).plan.changes, provider).ok
    user_file = org_copy / "users" / "e1001.yaml"
    user_file.write_text(user_file.read_text() + "email: nana@acme.com\n")
    org, issues = load_org(org_copy)
    with open_provider(None, org) as provider:
        plan = build_plan(org, issues, provider, dt.date(2026, 11, 29)).plan
        [failed] = apply_all([c for c in plan.changes if c.kind == "user"], provider).failed
    assert failed.error == ("ouyangnana@acme.com -> nana@acme.com: Exmail's API cannot change a member's address "
                            "(userid); keep the old address in org/ (email:) and give the new one as an alias, or "
                            "rename the account in the admin console first")
    with i18n.using("zh-CN"):
        said = i18n.say(failed.error or "")
    assert said.startswith("ouyangnana@acme.com -> nana@acme.com：腾讯企业邮的 API 无法更改成员地址（userid）")
    assert english_left(said) == [] and i18n.missing() == set()


def test_google_keyless_sign_in_refused_by_iam_in_chinese(org_copy: Path,
                                                          identity: GoogleEmulator) -> None:  # noqa: F811
    """Workload Identity Federation with the IAM Credentials API off: what to enable, in Chinese."""
    settings = org_copy / "org.yaml"
    settings.write_text(re.sub(r"provider:\n(  .*\n)+", "provider:\n  kind: google\n  admin: admin@acme.com\n"
                               f"  service_account: {SERVICE_ACCOUNT}\n", settings.read_text()))
    identity.identity.iam_credentials_enabled = False
    run = zh(org_copy, "plan")
    iam_said = run.stderr.split("（403）：", 1)[1].split("；", 1)[0]  # IAM's own answer
    line = error_line(run, data=[iam_said, "IAM Service Account Credentials API"])
    assert line.startswith(f"错误：读取 Google Workspace 租户：Google 拒绝了凭据：IAM 拒绝以 {SERVICE_ACCOUNT} "
                           "的身份签名（403）：")
    assert "；请在该项目中启用 IAM Service Account Credentials API（iamcredentials.googleapis.com）" in line


def test_a_whole_call_failure_is_said_in_chinese_and_kept_in_english_for_json() -> None:
    """What a doctor or an access check puts in JSON (`english`) stays English; the line printed is Chinese."""
    with i18n.using("zh-CN"), pytest.raises(ProviderError) as raised, google_errors(N_("reading mail usage")):
        raise ConnectionResetError(104, "Connection reset by peer")
    assert str(raised.value) == ("读取邮件用量：无法连接 Google：ConnectionResetError: [Errno 104] Connection reset by "
                                 "peer")
    assert english(raised.value) == ("reading mail usage: cannot reach Google: ConnectionResetError: [Errno 104] "
                                     "Connection reset by peer")
    assert i18n.missing() == set()
