"""Tenants of N people and G groups written straight into the Google and Graph emulators (no HTTP,
no apply), shaped like benchmarks/synthetic.py's org: pinyin and Western names, a manager each
(but the first), department groups of about 500, an all-departments group, distribution lists of 5
to 40, a licence each, an admin role. For counting what reading a large tenant costs in seconds
rather than the half hour an apply of 10,000 people takes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator

FAMILY = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu",
          "hu", "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song", "tang", "han", "feng", "deng",
          "cao", "peng", "zeng", "xiao", "tian", "dong", "yuan", "pan", "jiang", "cai", "yu", "du", "ye", "cheng",
          "su", "wei", "lu", "ding", "ren", "shen", "yao", "ouyang", "shangguan"]
GIVEN = ["wei", "fang", "na", "xiuying", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie",
         "juan", "tao", "ming", "chao", "xiulan", "xia", "ping", "gang", "guiying", "hua", "yulan", "ping", "hong",
         "peng", "hui", "jianhua", "jing", "ling", "fei", "xin", "bo", "ning", "lin"]
WESTERN_GIVEN = ["anna", "james", "olivia", "lucas", "sophie", "mateo", "emma", "noah", "lea", "jose"]
WESTERN_FAMILY = ["smith", "muller", "garcia", "rossi", "dubois", "novak", "silva", "nunez", "jones", "brown"]
DOMAIN = "acme.com"


@dataclass
class Tenant:
    """What was written: people (address, given, family, manager address or ""), groups (address ->
    member addresses; department groups' members are people, the all-departments group's are
    groups), each group's owners."""

    people: list[tuple[str, str, str, str]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, list[str]] = field(default_factory=dict)

    @property
    def memberships(self) -> int:
        return sum(len(set(members) | set(self.owners.get(g, []))) for g, members in self.groups.items())


def tenant(people: int, groups: int, *, departments: int | None = None, owners: int = 0, seed: int = 7) -> Tenant:
    """The tenant's shape. `departments`: how many department groups (max(2, people // 500) as
    synthetic.py has); `owners`: how many people own the first list (over 20: more than Graph's
    $expand shows)."""
    rng = random.Random(seed)
    out = Tenant()
    taken: set[str] = set()
    for i in range(people):
        if rng.random() < 0.1:
            given, family = rng.choice(WESTERN_GIVEN), rng.choice(WESTERN_FAMILY)
            local = f"{given}.{family}"
        else:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            local = f"{family}{given}"
        base, n = local, 1
        while local in taken:
            n += 1
            local = f"{base}{n}"
        taken.add(local)
        manager = out.people[rng.randrange(0, i)][0] if i else ""
        out.people.append((f"{local}@{DOMAIN}", given.title(), family.title(), manager))
    tops = [f"d{i}@{DOMAIN}" for i in range(departments if departments is not None else max(2, people // 500))]
    for top in tops:
        out.groups[top] = []
    for address, *_ in out.people:
        out.groups[rng.choice(tops)].append(address)
    out.groups[f"everyone@{DOMAIN}"] = list(tops)
    addresses = [p[0] for p in out.people]
    for n in range(max(0, groups - len(tops) - 1)):
        out.groups[f"list{n}@{DOMAIN}"] = sorted(rng.sample(addresses, min(len(addresses), rng.randint(5, 40))))
    if owners and groups > len(tops) + 1:
        out.owners["list0@acme.com"] = addresses[:owners]
    return out


def seed_google(emu: GoogleEmulator, shape: Tenant, sku: tuple[str, str] = ("Google-Apps", "1010020028")) -> None:
    for address, given, family, _ in shape.people:
        user = emu.add_user(address, given, family)
        emu.store.licenses[(sku[0], sku[1], user["id"])] = {}
    emu.add_user(f"admin@{DOMAIN}", "Ad", "Min", isAdmin=True)
    for group in shape.groups:
        emu.add_group(group, group.split("@")[0])
    for group, members in shape.groups.items():
        for member in members:
            emu.add_member(group, member)
        for owner in shape.owners.get(group, []):
            emu.add_member(group, owner, "OWNER")


def seed_graph(emu: GraphEmulator, shape: Tenant, sku: str = "O365_BUSINESS_PREMIUM") -> None:
    ids: dict[str, str] = {}
    for address, given, family, manager in shape.people:
        made = emu.add_user(address, f"{given} {family}", givenName=given, surname=family, usageLocation="CN",
                            licenses=[sku], **({"manager": ids[manager]} if manager else {}))
        ids[address] = str(made["id"])
    emu.assign_role("User Administrator", shape.people[0][0])
    for group in shape.groups:
        nickname = group.split("@")[0]
        ids[group] = str(emu.add_group(nickname, nickname, unified=True)["id"])
    with emu._lock:  # links straight into the store: add_member looks each key up, too slow at 10,000
        for group, members in shape.groups.items():
            emu.store.links[ids[group]]["members"].extend(ids[m] for m in members)
            emu.store.links[ids[group]]["owners"].extend(ids[o] for o in shape.owners.get(group, []))
