"""Write a synthetic org/ of N people: Chinese and Western names, a department tree,
department mailboxes, lists and nested groups. Deterministic for a given seed.

`for_provider` points such an org/ at the Google or Microsoft emulator (acme.com, the licences
the emulators sell), so one generated org serves every provider's benchmark."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

FAMILY = [
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚",
    *"卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单解仇区朴查",
    "欧阳", "司马", "诸葛", "上官",
]
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建华晶玲飞鑫波宁琳")
WESTERN_GIVEN = ["Anna", "James", "Olivia", "Lucas", "Sophie", "Mateo", "Emma", "Noah", "Léa", "José"]
WESTERN_FAMILY = ["Smith", "Müller", "García", "Rossi", "Dubois", "Novak", "Silva", "Núñez", "Jones", "Brown"]


def dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_org(root: Path, people: int, seed: int = 7, lists: int = 0, *, written: bool = False) -> Path:
    """`lists` adds that many distribution lists of 5 to 40 random members each. `written`: files
    as people write them, not as a YAML library dumps them: each person's phone number in quotes
    (`phone: "+86 139 0001 0002"`) and one person in ten with old addresses as aliases
    (`aliases: [old.name, name]`), the parts of a file a reader could handle differently."""
    rng = random.Random(seed)
    org = root / "org"
    (org / "users").mkdir(parents=True, exist_ok=True)
    (org / "groups").mkdir(exist_ok=True)
    (org / "org.yaml").write_text(dump({
        "name": "Synthetic Co.",
        "provider": {"kind": "local", "path": ".reconciler/directory.json"},
        "safety": {"max_deletes": 100, "max_delete_percent": 5, "protected": []},
    }))
    (org / "domains.yaml").write_text(dump([{"name": "example.com", "primary": True},
                                            {"name": "example.cn", "alias_of": "example.com"}]))
    naming = {"users": {"pattern": "{family}{given}", "latin_pattern": "{given}.{family}"},
              "reserved": ["admin", "postmaster", "abuse"]}
    (org / "naming.yaml").write_text(dump(naming))
    (org / "permissions.yaml").write_text(dump({"profiles": {
        "staff": {"services": ["mail", "calendar", "drive"], "licenses": {"local": "standard"}},
        "contractor": {"services": ["mail"], "licenses": {"local": "starter"}}}}))
    tops = [f"d{i}" for i in range(max(2, people // 500))]
    departments = [
        {"key": t, "name": f"部门{t}", "children": [{"key": f"{t}-s{j}", "name": f"小组{t}-{j}"} for j in range(5)]}
        for t in tops
    ]
    (org / "departments.yaml").write_text(dump(departments))
    leaves = [c["key"] for d in departments for c in d["children"]]
    for i in range(people):
        uid = f"E{100000 + i}"
        if rng.random() < 0.1:
            given, family = rng.choice(WESTERN_GIVEN), rng.choice(WESTERN_FAMILY)
        else:
            given, family = "".join(rng.choices(GIVEN, k=rng.choice((1, 2)))), rng.choice(FAMILY)
        user = {"id": uid, "given_name": given, "family_name": family, "department": rng.choice(leaves),
                "title": "Staff", "profile": "contractor" if rng.random() < 0.05 else "staff"}
        if i:
            user["manager"] = f"E{100000 + rng.randrange(0, i)}"
        text = dump(user)
        if written:
            text += f'phone: "+86 139 {i % 10_000:04d} {i // 10_000:04d}"\n'
            if i % 10 == 0:
                text += f"aliases: [old{i}, former.e{i}]\n"
        (org / "users" / f"{uid.lower()}.yaml").write_text(text)
    for t in tops:
        (org / "groups" / f"{t}.yaml").write_text(dump({"key": t, "type": "mailbox", "departments": [t]}))
    (org / "groups" / "everyone.yaml").write_text(dump({"key": "everyone", "members": tops}))
    ids = [f"E{100000 + i}" for i in range(people)]
    for n in range(lists):
        members = sorted(rng.sample(ids, min(len(ids), rng.randint(5, 40))))
        (org / "groups" / f"list{n}.yaml").write_text(dump({"key": f"list{n}", "members": members}))
    return org


# The licence each profile gets on each remote provider (SKUs both emulators offer).
REMOTE_PROFILES = {
    "google": "profiles:\n  staff: {licenses: {google: Google-Apps/1010020028}}\n"
              "  contractor: {licenses: {google: Google-Apps/1010020027}}\n",
    "microsoft": "profiles:\n  staff: {services: [mail, calendar, drive, chat, meet], "
                 "licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n"
                 "  contractor: {services: [mail], licenses: {microsoft: O365_BUSINESS_PREMIUM}}\n",
}
REMOTE_SETTINGS = {
    # The Google provider's default rate limit (2,400 calls a minute, Admin SDK's quota) is kept.
    "google": "provider:\n  kind: google\n  admin: admin@acme.com\n",
    "microsoft": "provider:\n  kind: microsoft\n  tenant: acme.com\n"
                 "  client_id: 00000000-0000-0000-0000-000000000001\n  usage_location: CN\n",
}
LOCAL_SETTINGS = "provider:\n  kind: local\n  path: .reconciler/directory.json\n"


def for_provider(org: Path, kind: str) -> Path:
    """Switch an org/ written by `write_org` to `kind` ("google" or "microsoft") on acme.com."""
    settings = org / "org.yaml"
    settings.write_text(settings.read_text().replace(LOCAL_SETTINGS, REMOTE_SETTINGS[kind]))
    (org / "domains.yaml").write_text("- {name: acme.com, primary: true}\n")
    (org / "permissions.yaml").write_text(REMOTE_PROFILES[kind])
    return org
