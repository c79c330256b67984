"""Welcome and password mail in Traditional Chinese: zh-TW (as Taiwan writes it) and zh-HK (as Hong Kong does).

A person whose `locale` is zh-TW or zh-HK gets the mail of that language through a real SMTP server on
loopback; every template kind that exists in zh-CN exists in both, with the same placeholders, and
holds no Simplified-only character (a Simplified form slipped into a Traditional text reads as a
careless machine conversion to the very readers these templates are for). The checks read the
fixture's templates: org/templates/ ships the same files, and no test opens the repository's org/.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from reconciler.importer import import_tenant
from reconciler.mail.compose import links_for
from reconciler.mail.templates import FIELDS, SUFFIX, _placeholders, read_template
from reconciler.model.loader import load_org
from reconciler.model.onboarding import Links
from reconciler.passwords import verify_password
from reconciler.providers.facts import all_facts, facts_of
from reconciler.state import Domain, State, User
from tests.smtp_support import Received, StartServer
from tests.test_mail import (  # noqa: F401 - `repo` and `seeded_directory` are fixtures used here
    by_subject,
    cli,
    password_in,
    repo,
    run_apply,
    seeded_directory,
    settings,
    states,
    with_onboarding,
)
from tests.test_password_reset import ask_reset, company, onboarding, record_of  # noqa: F401 - a fixture

from .conftest import EXAMPLE_ORG

TRADITIONAL = ("zh-TW", "zh-HK")
PROVIDERS = ("local", "google", "microsoft", "exmail", "alimail")

# A Taiwanese and a Hong Kong colleague replace the two new people of tests/test_mail.py.
LIN_FILE = """\
id: E2001
given_name: 志明
family_name: 林
department: hr
title: 招募專員
manager: E1000
personal_email: zhiming.lin@example.org
locale: zh-TW
"""
CHAN_FILE = """\
id: E2002
given_name: 嘉欣
family_name: 陳
department: marketing
title: 品牌經理
manager: E1000
personal_email: kayan.chan@example.com
locale: zh-HK
"""
LIN, CHAN = "zhiming.lin@example.org", "kayan.chan@example.com"

# Common Simplified forms whose Traditional form differs (账/帳, 户/戶, 设/設 ...). None of them is
# also a Traditional character (里, 台, 干, 后, 只 are both, and are left out on purpose).
SIMPLIFIED_ONLY = frozenset(
    "们这发账帐号码邮设络录务请为户时让开关见计认证么话说试页网电脑过会个应对间问题讯资将还无给处东业"
    "从门动实点与体进来头签历击键钮选择转复写阅读览级统单终验带谢议线经营项类现报帮习册记删达众图标区"
    "显态扫绑诉该总连规则导")


@pytest.fixture
def traditional_repo(repo: Path) -> Path:  # noqa: F811 - the fixture imported above
    """The repo of tests/test_mail.py, whose two new people read zh-TW and zh-HK."""
    (repo / "org" / "users" / "e2001.yaml").write_text(LIN_FILE, encoding="utf-8")
    (repo / "org" / "users" / "e2002.yaml").write_text(CHAN_FILE, encoding="utf-8")
    return repo


def _mail_of(received: list[Received], personal: str) -> tuple[Received, Received]:
    """(welcome, password message) of one person, in the order they were sent."""
    got = [r for r in received if r.recipients == [personal]]
    assert len(got) == 2, [r.subject for r in got]
    return got[0], got[1]


# --- what arrives ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "lin_lines", "chan_lines"), [
    ("local",
     ["歡迎加入 Acme Trading Co.！您的信箱帳號已經在公司目錄中建立：", "    電子郵件地址：linzhiming@acme.com",
      "三、設定簽名檔：在信箱的「設定」中找到「簽名」，填寫您的姓名、部門和電話後儲存。"],
     ["歡迎加入 Acme Trading Co.！你的電郵帳戶已經在公司目錄中建立：", "    電郵地址：chenjiaxin@acme.com",
      "四、日曆及通訊錄：郵箱裏的「日曆」用來安排會議及發出會議邀請；「通訊錄」（目錄）列出公司所有同事。"]),
    ("google",
     ["歡迎加入 Acme Trading Co.！您的公司帳號（Google Workspace）已經開通：",
      "    登入頁面：https://accounts.google.com", "- 開啟 Google 日曆：https://calendar.google.com",
      "- 開啟 Google 聯絡人：https://contacts.google.com", "三、設定簽名檔"],
     ["歡迎加入 Acme Trading Co.！你的公司電郵帳戶（Google Workspace）已經開通：",
      "    登入網址：https://accounts.google.com", "- 打開 Google 日曆：https://calendar.google.com",
      "- 打開 Google 通訊錄：https://contacts.google.com", "三、設定簽名"]),
    ("microsoft",
     ["    登入頁面：https://www.office.com", "- 開啟 Outlook 網頁版：https://outlook.office.com/mail/",
      "- 開啟 Outlook 行事曆：https://outlook.office.com/calendar/", "五、使用聯絡人"],
     ["    登入網址：https://www.office.com", "- 打開 Outlook 網頁版：https://outlook.office.com/mail/",
      "- 打開 Outlook 日曆：https://outlook.office.com/calendar/", "五、使用聯絡人"]),
    # The product's name as Taiwan and Hong Kong write it, not the Simplified one of display_name.
    ("exmail",
     ["歡迎加入 Acme Trading Co.！您的公司信箱（騰訊企業郵箱 (Tencent Exmail)）已經開通：",
      "    登入頁面：https://exmail.qq.com", "    收信 IMAP：imap.exmail.qq.com，連接埠 993"],
     ["歡迎加入 Acme Trading Co.！你的公司電郵帳戶（騰訊企業郵箱 (Tencent Exmail)）已經開通：",
      "    登入網址：https://exmail.qq.com", "    收件 IMAP：imap.exmail.qq.com，端口 993"]),
    ("alimail",
     ["歡迎加入 Acme Trading Co.！您的公司信箱（阿里郵箱 (Alibaba Mail)）已經開通：",
      "    登入頁面：https://qiye.aliyun.com", "    SMTP（寄信）：smtp.qiye.aliyun.com，連接埠 465"],
     ["歡迎加入 Acme Trading Co.！你的公司電郵帳戶（阿里郵箱 (Alibaba Mail)）已經開通：",
      "    登入網址：https://qiye.aliyun.com", "    SMTP（發件）：smtp.qiye.aliyun.com，端口 465"]),
])
def test_traditional_chinese_readers_get_their_own_welcome_and_password_mail(
        traditional_repo: Path, smtp_server: StartServer, kind: str, lin_lines: list[str],
        chan_lines: list[str]) -> None:
    server = smtp_server()
    run = run_apply(traditional_repo, settings(server.port), kind=kind)
    lin_address, chan_address = "linzhiming@acme.com", "chenjiaxin@acme.com"
    assert sorted(r.change.key for r in run.applied.results
                  if r.change.action == "create" and r.change.kind == "user") == [chan_address, lin_address]
    assert len(server.inbox.received) == 4
    lin_welcome, lin_password = _mail_of(server.inbox.received, LIN)
    chan_welcome, chan_password = _mail_of(server.inbox.received, CHAN)

    mailbox = "信箱帳號" if kind == "local" else "信箱"
    created = "已建立" if kind == "local" else "已開通"
    assert lin_welcome.subject == f"歡迎加入 Acme Trading Co.：您的公司{mailbox} {lin_address} {created}"
    assert lin_password.subject == f"您的公司{mailbox} {lin_address} 初始密碼"
    hk_mailbox = "電郵帳戶" if kind == "local" else "電郵"
    hk_created = "已經建立" if kind == "local" else "已經開通"
    assert chan_welcome.subject == f"歡迎加入 Acme Trading Co.：你的公司{hk_mailbox} {chan_address} {hk_created}"
    assert chan_password.subject == f"你的公司{hk_mailbox} {chan_address} 的初始密碼"

    for mail, language in [(lin_welcome, "zh-TW"), (lin_password, "zh-TW"),
                           (chan_welcome, "zh-HK"), (chan_password, "zh-HK")]:
        assert mail.message["Content-Language"] == language
        head = mail.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert f"Content-Language: {language}".encode() in head
        assert mail.message.get_content_charset() == "utf-8"
    assert str(lin_welcome.message["To"]) == f"林志明 <{LIN}>"
    assert str(chan_welcome.message["To"]) == f"陳嘉欣 <{CHAN}>"

    assert lin_welcome.body.startswith("林志明 您好：\n\n")
    assert lin_welcome.body.endswith("如有任何問題，請與資訊部聯絡：it@acme.com\n\nAcme Trading Co. 資訊部\n")
    assert [line for line in lin_lines if line not in lin_welcome.body.splitlines()] == []
    assert chan_welcome.body.startswith("陳嘉欣，你好！\n\n")
    assert chan_welcome.body.endswith("如有任何疑問，請聯絡資訊科技部：it@acme.com\n\nAcme Trading Co. 資訊科技部\n")
    assert [line for line in chan_lines if line not in chan_welcome.body.splitlines()] == []

    assert "第一次登入時必須設定新密碼" in lin_password.body
    assert "第一次登入時必須設定新密碼" in chan_password.body
    for mail in (lin_welcome, lin_password, chan_welcome, chan_password):
        assert set(mail.subject + mail.body) & SIMPLIFIED_ONLY == set()
        assert "$" not in mail.body  # every placeholder was filled in

    users = json.loads((traditional_repo / ".reconciler" / "directory.json").read_text(encoding="utf-8"))["users"]
    stored = {r["user"]["email"]: r for r in users.values()}
    assert verify_password(password_in(lin_password), stored[lin_address]["password"])
    assert verify_password(password_in(chan_password), stored[chan_address]["password"])
    assert password_in(lin_password) not in lin_welcome.raw.decode("ascii", "replace")
    assert states(traditional_repo) == {lin_address: {"welcome": "sent", "password": "sent"},
                                        chan_address: {"welcome": "sent", "password": "sent"}}


def test_a_manager_gets_the_handover_note_in_the_new_persons_language(
        traditional_repo: Path, smtp_server: StartServer) -> None:
    server = smtp_server()
    run_apply(traditional_repo, settings(server.port, send_to="manager", send_password="never"))
    notes = by_subject(server.inbox)
    assert sorted(notes) == ["請轉交 林志明：公司信箱 linzhiming@acme.com 已開通",
                             "請轉交 陳嘉欣：公司電郵 chenjiaxin@acme.com 已經開通"]
    lin, chan = notes["請轉交 林志明：公司信箱 linzhiming@acme.com 已開通"], \
        notes["請轉交 陳嘉欣：公司電郵 chenjiaxin@acme.com 已經開通"]
    assert lin.recipients == chan.recipients == ["wangjianguo@acme.com"]
    assert lin.message["Content-Language"] == "zh-TW" and chan.message["Content-Language"] == "zh-HK"
    assert lin.body.startswith("王建国 您好：\n\n您的新同事 林志明 的公司帳號 linzhiming@acme.com 已經開通。")
    assert chan.body.startswith("王建国，你好！\n\n你的新同事 陳嘉欣 的公司電郵帳戶 chenjiaxin@acme.com 已經開通。")
    assert "\n----------------------------------------------------------------\n\n林志明 您好：\n" in lin.body
    assert "\n----------------------------------------------------------------\n\n陳嘉欣，你好！\n" in chan.body


def test_the_real_cli_mails_a_hong_kong_reader_when_org_yaml_defaults_to_zh_tw(
        traditional_repo: Path, smtp_server: StartServer) -> None:
    """defaults.locale: zh-TW is valid org.yaml: the CLI runs (speaking zh-CN to a Chinese locale)
    and each person's mail follows their own locale, else the default."""
    org_yaml = traditional_repo / "org" / "org.yaml"
    text = org_yaml.read_text(encoding="utf-8")
    assert "  locale: zh-CN " in text
    org_yaml.write_text(text.replace("  locale: zh-CN ", "  locale: zh-TW "), encoding="utf-8")
    lin = traditional_repo / "org" / "users" / "e2001.yaml"
    lin.write_text(LIN_FILE.replace("locale: zh-TW\n", ""), encoding="utf-8")  # zh-TW from the default
    server = smtp_server()
    with_onboarding(traditional_repo, server.port)
    assert cli(traditional_repo, "validate").returncode == 0
    applied = cli(traditional_repo, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    languages = {r.recipients[0]: r.message["Content-Language"] for r in server.inbox.received}
    assert languages == {LIN: "zh-TW", CHAN: "zh-HK"}
    assert len(server.inbox.received) == 4
    assert sorted(by_subject(server.inbox)) == sorted([
        "歡迎加入 Acme Trading Co.：您的公司信箱帳號 linzhiming@acme.com 已建立",
        "您的公司信箱帳號 linzhiming@acme.com 初始密碼",
        "歡迎加入 Acme Trading Co.：你的公司電郵帳戶 chenjiaxin@acme.com 已經建立",
        "你的公司電郵帳戶 chenjiaxin@acme.com 的初始密碼"])


# --- what validate says ------------------------------------------------------------------------------


def test_a_missing_zh_hk_template_is_a_located_validation_error(traditional_repo: Path) -> None:
    with_onboarding(traditional_repo, 25)
    (traditional_repo / "org" / "templates" / "welcome.local.zh-HK.txt").unlink()
    result = cli(traditional_repo, "validate")
    assert (result.returncode, result.stderr) == (1, (
        "org/templates/welcome.zh-HK.txt: missing: the welcome mail to zh-HK readers on local needs "
        "org/templates/welcome.local.zh-HK.txt or org/templates/welcome.zh-HK.txt\n1 problem in org/\n"))


def test_a_misspelt_locale_is_located_with_a_hint(traditional_repo: Path) -> None:
    path = traditional_repo / "org" / "users" / "e2002.yaml"
    path.write_text(CHAN_FILE.replace("locale: zh-HK", "locale: zh-hk"), encoding="utf-8")
    result = cli(traditional_repo, "validate")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "org/users/e2002.yaml:8:9: 'zh-hk' is not allowed here; use one of 'zh-CN', 'zh-TW', 'zh-HK' or 'en-US' "
        "(did you mean 'zh-HK'?)"), result.stderr


# --- the templates themselves --------------------------------------------------------------------------


def _zh_cn_templates(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.glob(f"*.zh-CN{SUFFIX}"))
    assert len(names) >= 9, names  # welcome per provider, password, password.local, reset, handover
    return names


def _placeholder_names(path: Path) -> tuple[set[str], set[str]]:
    """The placeholders of the subject line and of the text."""
    subject, _, body = path.read_text(encoding="utf-8").partition("\n")
    return {n for n, *__ in _placeholders(subject)}, {n for n, *__ in _placeholders(body)}


@pytest.mark.parametrize("locale", TRADITIONAL)
def test_every_zh_cn_template_has_a_traditional_twin_with_the_same_placeholders(locale: str) -> None:
    folder = EXAMPLE_ORG / "templates"
    for name in _zh_cn_templates(folder):
        twin = folder / name.replace(".zh-CN.", f".{locale}.")
        assert twin.is_file(), f"{twin.name} is missing"
        assert _placeholder_names(twin) == _placeholder_names(folder / name), twin.name


@pytest.mark.parametrize("locale", TRADITIONAL)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_traditional_templates_pass_the_template_checks(locale: str, provider: str) -> None:
    """What `reconciler validate` checks, for each kind as each provider would pick it."""
    folder = EXAMPLE_ORG / "templates"
    links = links_for(provider, Links())
    for kind in FIELDS:
        path = next(p for p in (folder / f"{kind}.{provider}.{locale}{SUFFIX}", folder / f"{kind}.{locale}{SUFFIX}")
                    if p.is_file())
        template, issues = read_template(path, path.name, kind, locale, provider, links)
        assert (template is not None, [str(i) for i in issues]) == (True, [])


@pytest.mark.parametrize("locale", TRADITIONAL)
def test_the_traditional_templates_hold_no_simplified_only_character(locale: str) -> None:
    found = {}
    for path in sorted((EXAMPLE_ORG / "templates").glob(f"*.{locale}{SUFFIX}")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if hits := sorted(set(line) & SIMPLIFIED_ONLY):
                found[f"{path.name}:{number}"] = "".join(hits)
    assert found == {}


def test_the_simplified_list_catches_what_it_should() -> None:
    """The check above can fail: the zh-CN texts are full of the characters it looks for."""
    zh_cn = "".join(p.read_text(encoding="utf-8") for p in (EXAMPLE_ORG / "templates").glob(f"*.zh-CN{SUFFIX}"))
    assert {"账", "号", "邮", "设", "录", "请", "为", "时", "开", "发"} <= set(zh_cn) & SIMPLIFIED_ONLY
    assert set("帳號郵設錄請為時開發戶着裏台里") & SIMPLIFIED_ONLY == set()


def test_hong_kong_and_taiwan_are_written_their_own_way() -> None:
    """Not one text in two scripts: each uses the words its readers use."""
    folder = EXAMPLE_ORG / "templates"
    tw = "".join(p.read_text(encoding="utf-8") for p in folder.glob(f"*.zh-TW{SUFFIX}"))
    hk = "".join(p.read_text(encoding="utf-8") for p in folder.glob(f"*.zh-HK{SUFFIX}"))
    for word in ("帳號", "密碼", "郵件", "登入", "設定", "行事曆", "聯絡人", "簽名檔", "資訊部"):
        assert word in tw, word
    for word in ("帳戶", "電郵", "登入", "設定", "資訊科技部", "接着", "裏"):
        assert word in hk, word
    assert "電郵" not in tw and "接着" not in tw


def test_the_import_says_where_to_choose_traditional_chinese(tmp_path: Path) -> None:
    """A tenant holds no reader's language, and names written in Traditional characters do not tell
    Taiwan from Hong Kong: the import guesses zh-CN for Chinese names and says where to change it."""
    state = State()
    state.add(Domain(name="acme.com.tw", primary=True))
    for n, (family, given, local) in enumerate([("林", "志明", "linzhiming"), ("陳", "嘉欣", "chenjiaxin"),
                                                ("張", "家豪", "zhangjiahao")]):
        state.add(User(email=f"{local}@acme.com.tw", id=f"E{n + 1}", given_name=given, family_name=family,
                       display_name=family + given, services=("mail",), suspended=False))
    into = tmp_path / "imported" / "org"
    import_tenant(state, provider_config={"kind": "local", "path": str(tmp_path / "directory.json")}, into=into)
    text = (into / "org.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text)["defaults"]["locale"] == "zh-CN"
    assert ("# defaults.locale, the language of the welcome mail (zh-CN, zh-TW, zh-HK or en-US), is\n"
            "# guessed from how names are written: set zh-TW or zh-HK for Traditional Chinese.\n") in text
    edited = text.replace("locale: zh-CN", "locale: zh-HK")
    assert edited != text
    (into / "org.yaml").write_text(edited, encoding="utf-8")
    org, issues = load_org(into)
    assert (org.settings.defaults.locale, [str(i) for i in issues]) == ("zh-HK", [])


def test_the_provider_is_named_as_each_reader_writes_it() -> None:
    exmail, alimail, google = facts_of("exmail"), facts_of("alimail"), facts_of("google")
    assert [exmail.name_in(locale) for locale in ("zh-CN", "zh-TW", "zh-HK", "en-US")] == [
        "腾讯企业邮箱 (Tencent Exmail)", "騰訊企業郵箱 (Tencent Exmail)", "騰訊企業郵箱 (Tencent Exmail)",
        "腾讯企业邮箱 (Tencent Exmail)"]
    assert alimail.name_in("zh-HK") == "阿里郵箱 (Alibaba Mail)" and alimail.name_in("zh-CN") == alimail.display_name
    assert google.name_in("zh-TW") == "Google Workspace"
    for facts in all_facts().values():
        for locale in TRADITIONAL:
            assert set(facts.name_in(locale)) & SIMPLIFIED_ONLY == set(), facts.kind


def test_a_password_reset_is_mailed_in_the_readers_traditional_chinese(
        company: Path, smtp_server: StartServer) -> None:  # noqa: F811 - the fixture imported above
    server = smtp_server()
    onboarding(company, server.port)
    person = company / "org" / "users" / "e1003.yaml"
    person.write_text(person.read_text(encoding="utf-8") + "locale: zh-TW\n", encoding="utf-8")
    today = dt.date.today()  # the CLI plans for today; the date is all that matters, never the time
    ask_reset(company, today)
    applied = cli(company, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    [mail] = server.inbox.received
    assert (mail.recipients, mail.subject) == (["hejing.sh@example.org"], "您的公司信箱 hejing@acme.com 密碼已重設")
    assert mail.message["Content-Language"] == "zh-TW"
    assert mail.body.startswith(f"何静 您好：\n\n依照您在 {today.isoformat()} 提出的申請，資訊部已重設您的公司信箱 "
                                "hejing@acme.com（reconciler local directory）的密碼，並已將所有裝置登出。")
    assert verify_password(password_in(mail), record_of(company, "hejing@acme.com")["password"])  # type: ignore[arg-type]
