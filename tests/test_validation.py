"""validate_org: every mistake in org/ at once, located, with what would be right.

Mistakes are made in a copy of the example org (`org_copy`) by exact text
edits, so each expected line and column can be checked against the files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ValidationFailed
from reconciler.model.loader import load_org
from reconciler.plan.prepare import validate_org
from reconciler.resolve import Resolved
from reconciler.state import Alias, Group, State, User
from tests.conftest import EXAMPLE_ORG


def edit(org_dir: Path, rel: str, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) in org/<rel>."""
    path = org_dir / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{rel}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def write(org_dir: Path, rel: str, text: str) -> None:
    path = org_dir / rel
    assert not path.exists(), rel
    path.write_text(text, encoding="utf-8")


def resolved(org_dir: Path, actual: State | None = None) -> Resolved:
    org, issues = load_org(org_dir)
    return validate_org(org, issues, actual)


def problems(org_dir: Path, actual: State | None = None) -> list[str]:
    """The issues validate_org raises, as the CLI prints them (sorted by place)."""
    org, issues = load_org(org_dir)
    with pytest.raises(ValidationFailed) as failed:
        validate_org(org, issues, actual)
    found = failed.value.issues
    places = [(i.location.path, i.location.line, i.location.column) for i in found]
    assert places == sorted(places)  # sorted by place: file, then line, then column
    shown = [str(issue) for issue in found]
    assert str(failed.value) == "\n".join(shown)
    return shown


def state(*resources: User | Alias | Group) -> State:
    actual = State()
    for resource in resources:
        actual.add(resource)
    return actual


def test_the_example_org_is_valid() -> None:
    result = resolved(EXAMPLE_ORG)
    assert result.issues == []
    assert len(result.addresses) == 50


# --- everything at once -----------------------------------------------------------------------------


def make_many_mistakes(org: Path) -> None:
    # users/
    edit(org, "users/e1012.yaml", "department: sales-east", "departmnet: sales-east")
    edit(org, "users/e1010.yaml", "department: sales\n", "department: sale\n")
    edit(org, "users/e1013.yaml", "manager: E1011", "manager: E1110")
    edit(org, "users/e1053.yaml", "status: suspended", "status: suspended\nprofile: contracter")
    edit(org, "users/e1000.yaml", "title: 总经理", "title: 总经理\nmanager: E1001")
    edit(org, "users/e1015.yaml", "id: E1015", "id: 1015")
    edit(org, "users/e1016.yaml", "title: ", "status: gone\ntitle: ")
    edit(org, "users/e1021.yaml", "personal_email: ", "personal_email: not-an-email\nphone_old: ")
    edit(org, "users/e1080.yaml", "department: marketing", "email: olivia@acme.io\ndepartment: marketing")
    edit(org, "users/e1075.yaml", "department: logistics", "email: anna.mueller@acme.cn\ndepartment: logistics")
    edit(org, "users/e1040.yaml", "aliases: [cfo]", "aliases: [cfo, david.chen]")
    edit(org, "users/e1051.yaml", "aliases: [xue.zheng]", "aliases: [xue.zheng, postmaster]")
    write(org, "users/e2000.yaml", "id: E1014\ngiven_name: 斌\nfamily_name: 吕\ndepartment: sales-east\n")
    # groups/
    edit(org, "groups/partners.yaml", "members: [E1030, E1072]", "members: [E1030, E1O72]")
    edit(org, "groups/partners.yaml", "tanaka.k@example.net]", "tanaka.k@example.net, ops@acme.cn]")
    edit(org, "groups/sales.yaml", "owners: [E1010]", "owners: [e1010]")
    edit(org, "groups/managers.yaml", "members: [E1010,", "members: [leadership, E1010,")
    edit(org, "groups/hr.yaml", "key: hr\n", "key: hr\nemail: david.chen@acme.com\n")
    edit(org, "groups/finance.yaml", "aliases: [caiwu]", "aliases: [caiwu, david.chen]")
    write(org, "groups/support-2.yaml", "key: support\nname: 支持\n")
    write(org, "groups/webmaster.yaml", "key: webmaster\nname: 网站\n")
    # top-level files
    edit(org, "permissions.yaml", "members: [E1063, E1064]", "members: [E1063, E1O64]")
    edit(org, "departments.yaml", "end-user support\n", "end-user support\n    - key: hr\n      name: HR IT\n")
    more_domains = "\n- name: acme.net\n  primary: true\n- name: acme.hk\n  alias_of: acme.org "
    edit(org, "domains.yaml", "alias_of: acme.com ", "alias_of: acme.com" + more_domains)
    edit(org, "org.yaml", "max_deletes: 10 ", "max_deletes: ten ")


def test_every_mistake_in_every_file_is_reported_at_once(org_copy: Path) -> None:
    make_many_mistakes(org_copy)
    used_by_e1030 = "is already used by user E1030 (org/users/e1030.yaml:8:8)"
    assert problems(org_copy) == [
        "org/departments.yaml:33:12: department key 'hr' is used twice (first at org/departments.yaml:23:8)",
        "org/domains.yaml:8:12: exactly one domain must be primary: true (found 2)",
        "org/domains.yaml:10:13: unknown domain 'acme.org' (did you mean 'acme.com'?)",
        f"org/groups/finance.yaml:8:18: address david.chen@acme.com {used_by_e1030}",
        f"org/groups/hr.yaml:3:8: address david.chen@acme.com {used_by_e1030}",
        "org/groups/leadership.yaml:7:11: groups contain each other: leadership -> managers -> leadership",
        "org/groups/partners.yaml:7:18: unknown member 'E1O72': not a user id or group key (did you mean 'E1072'?)",
        "org/groups/partners.yaml:9:90: ops@acme.cn is in a managed domain; "
        "list the user id or group key under members",
        "org/groups/sales.yaml:8:10: unknown owner (user id) 'e1010' (did you mean 'E1010'?)",
        "org/groups/support.yaml:4:6: group key 'support' is used twice (first at org/groups/support-2.yaml:1:6)",
        "org/groups/webmaster.yaml:1:6: webmaster@acme.com is a reserved name; "
        "give the group an explicit email or another key",
        "org/org.yaml:20:16: expected a whole number, got str 'ten'",
        "org/permissions.yaml:22:22: unknown user id 'E1O64' (did you mean 'E1064'?)",
        "org/users/e1000.yaml:7:10: manager chain loops: E1000 -> E1001 -> E1000",
        "org/users/e1001.yaml:9:10: manager chain loops: E1001 -> E1000 -> E1001",
        "org/users/e1010.yaml:5:13: unknown department 'sale' (did you mean 'sales'?)",
        "org/users/e1012.yaml:6:1: unknown key 'departmnet' (did you mean 'department'?)",
        "org/users/e1013.yaml:8:10: unknown manager id 'E1110': no file in org/users has this id; if that person "
        "left, name someone else here",
        'org/users/e1015.yaml:2:5: expected text, got int 1015; put it in quotes to mean the text: "1015"',
        "org/users/e1016.yaml:6:9: 'gone' is not allowed here; "
        "use one of 'active', 'suspended', 'frozen' or 'offboarded'",
        "org/users/e1021.yaml:9:17: 'not-an-email' is not an email address (like name@acme.com)",
        "org/users/e1021.yaml:10:1: unknown key 'phone_old' (did you mean 'phone'?)",
        f"org/users/e1040.yaml:6:16: address david.chen@acme.com {used_by_e1030}",
        "org/users/e1051.yaml:5:22: postmaster@acme.com is a reserved name (naming.yaml reserved)",
        "org/users/e1053.yaml:11:10: unknown profile 'contracter' (did you mean 'contractor'?)",
        "org/users/e1075.yaml:5:8: anna.mueller@acme.cn is not in a managed domain; "
        "acme.cn is an alias of acme.com, use that",
        "org/users/e1080.yaml:5:8: olivia@acme.io is not in a managed domain; "
        "declare acme.io in domains.yaml or use one of acme.com, acme.net",
        "org/users/e2000.yaml:1:5: user id E1014 is used twice (first at org/users/e1014.yaml:3:5)",
    ]


# --- one mistake at a time ----------------------------------------------------------------------------

Edit = tuple[str, str, str]  # file under org/, text, replacement ("" as text: a new file)
A_ROLE = (
    "'super-admin', 'user-admin', 'groups-admin', 'help-desk-admin', 'billing-admin', 'security-admin' "
    "or 'reports-admin'"
)

ONE_MISTAKE: list[tuple[str, list[Edit], list[str]]] = [
    (
        "unknown-key",
        [("users/e1012.yaml", "department: sales-east", "departmnet: sales-east")],
        ["org/users/e1012.yaml:6:1: unknown key 'departmnet' (did you mean 'department'?)"],
    ),
    (
        "unknown-nested-key",
        [("org.yaml", "  max_deletes: 10 ", "  max_delete: 10 ")],
        ["org/org.yaml:20:3: unknown key 'max_delete' (did you mean 'max_deletes'?)"],
    ),
    (
        "unknown-department",
        [("users/e1010.yaml", "department: sales\n", "department: sale\n")],
        ["org/users/e1010.yaml:5:13: unknown department 'sale' (did you mean 'sales'?)"],
    ),
    (
        "unknown-group-department",
        [("groups/sales.yaml", "departments: [sales]", "departments: [sales, salse]")],
        ["org/groups/sales.yaml:7:22: unknown department 'salse' (did you mean 'sales'?)"],
    ),
    (
        "unknown-manager",
        [("users/e1012.yaml", "manager: E1011", "manager: E1110")],
        ["org/users/e1012.yaml:8:10: unknown manager id 'E1110': no file in org/users has this id; if that "
         "person left, name someone else here"],
    ),
    (
        "manager-loop",
        [
            ("users/e1000.yaml", "title: 总经理", "title: 总经理\nmanager: E1012"),
            ("users/e1012.yaml", "manager: E1011", "manager: E1001"),
        ],
        [
            "org/users/e1000.yaml:7:10: manager chain loops: E1000 -> E1012 -> E1001 -> E1000",
            "org/users/e1001.yaml:9:10: manager chain loops: E1001 -> E1000 -> E1012 -> E1001",
            "org/users/e1012.yaml:8:10: manager chain loops: E1012 -> E1001 -> E1000 -> E1012",
        ],
    ),
    (
        "unknown-profile",
        [("users/e1053.yaml", "status: suspended", "status: suspended\nprofile: contracter")],
        ["org/users/e1053.yaml:11:10: unknown profile 'contracter' (did you mean 'contractor'?)"],
    ),
    (
        "unknown-default-profile",
        [("org.yaml", "profile: staff ", "profile: staf ")],
        ["org/org.yaml:14:12: unknown profile 'staf' (did you mean 'staff'?)"],
    ),
    (
        "unknown-group-member",
        [("groups/partners.yaml", "members: [E1030, E1072]", "members: [E1030, E1O72]")],
        ["org/groups/partners.yaml:7:18: unknown member 'E1O72': not a user id or group key (did you mean 'E1072'?)"],
    ),
    (
        "unknown-owner",
        [("groups/sales.yaml", "owners: [E1010]", "owners: [e1010]")],
        ["org/groups/sales.yaml:8:10: unknown owner (user id) 'e1010' (did you mean 'E1010'?)"],
    ),
    (
        "unknown-role-member",
        [("permissions.yaml", "members: [E1063, E1064]", "members: [E1063, E1O64]")],
        ["org/permissions.yaml:22:22: unknown user id 'E1O64' (did you mean 'E1064'?)"],
    ),
    (
        "duplicate-id",
        [("users/e2000.yaml", "", "id: E1013\ngiven_name: 磊\nfamily_name: 单\n")],
        ["org/users/e2000.yaml:1:5: user id E1013 is used twice (first at org/users/e1013.yaml:3:5)"],
    ),
    (
        "duplicate-group-key",
        [("groups/finance.yaml", "key: finance", "key: sales")],
        ["org/groups/sales.yaml:3:6: group key 'sales' is used twice (first at org/groups/finance.yaml:2:6)"],
    ),
    (
        "duplicate-department-key",
        [("departments.yaml", "end-user support\n", "end-user support\n    - key: sales-east\n      name: 华东\n")],
        [
            "org/departments.yaml:33:12: department key 'sales-east' is used twice "
            "(first at org/departments.yaml:11:12)"
        ],
    ),
    (
        "group-cycle",
        [("groups/managers.yaml", "members: [E1010,", "members: [leadership, E1010,")],
        ["org/groups/leadership.yaml:7:11: groups contain each other: leadership -> managers -> leadership"],
    ),
    (
        "group-in-itself",
        [("groups/managers.yaml", "members: [E1010,", "members: [managers, E1010,")],
        ["org/groups/managers.yaml:7:11: a group cannot be a member of itself"],
    ),
    (
        "two-primaries",
        [("domains.yaml", "alias_of: acme.com ", "alias_of: acme.com\n- name: acme.net\n  primary: true ")],
        ["org/domains.yaml:8:12: exactly one domain must be primary: true (found 2)"],
    ),
    (
        "no-primary",
        [("domains.yaml", "  primary: true\n", "")],
        ["org/domains.yaml:3:3: exactly one domain must be primary: true (found 0)"],
    ),
    (
        "primary-and-alias",
        [("domains.yaml", "alias_of: acme.com ", "alias_of: acme.com\n  primary: true ")],
        ["org/domains.yaml:6:3: a primary domain cannot be an alias (alias_of) at the same time"],
    ),
    (
        "alias-of-undeclared-domain",
        [("domains.yaml", "alias_of: acme.com ", "alias_of: acme.org ")],
        ["org/domains.yaml:6:13: unknown domain 'acme.org' (did you mean 'acme.com'?)"],
    ),
    (
        "alias-of-an-alias",
        [("domains.yaml", "alias_of: acme.com ", "alias_of: acme.com\n- name: acme.hk\n  alias_of: acme.cn ")],
        ["org/domains.yaml:8:13: acme.cn is itself an alias; point at its primary domain"],
    ),
    (
        "domain-declared-twice",
        [("domains.yaml", "alias_of: acme.com ", "alias_of: acme.com\n- name: ACME.cn ")],
        ["org/domains.yaml:7:9: domain acme.cn is declared twice (first at org/domains.yaml:5:9)"],
    ),
    (
        "email-in-undeclared-domain",
        [("users/e1030.yaml", "email: david.chen@acme.com", "email: david.chen@acme.org")],
        [
            "org/users/e1030.yaml:8:8: david.chen@acme.org is not in a managed domain; "
            "declare acme.org in domains.yaml or use one of acme.com"
        ],
    ),
    (
        "email-in-alias-domain",
        [("users/e1030.yaml", "email: david.chen@acme.com", "email: david.chen@acme.cn")],
        [
            "org/users/e1030.yaml:8:8: david.chen@acme.cn is not in a managed domain; "
            "acme.cn is an alias of acme.com, use that"
        ],
    ),
    (
        "group-email-in-alias-domain",
        [("groups/hr.yaml", "key: hr\n", "key: hr\nemail: hr@acme.cn\n")],
        ["org/groups/hr.yaml:3:8: hr@acme.cn is not in a managed domain; acme.cn is an alias of acme.com, use that"],
    ),
    (
        "user-email-vs-group-email",
        [("users/e1080.yaml", "department:", "email: sales@acme.com\ndepartment:")],
        [
            "org/groups/sales.yaml:3:6: address sales@acme.com is already used by user E1080 "
            "(org/users/e1080.yaml:5:8)"
        ],
    ),
    (
        "user-email-vs-user-email",
        [("users/e1080.yaml", "department:", "email: David.Chen@acme.com\ndepartment:")],
        [
            "org/users/e1080.yaml:5:8: address david.chen@acme.com is already used by user E1030 "
            "(org/users/e1030.yaml:8:8)"
        ],
    ),
    (
        "user-alias-vs-user-email",
        [("users/e1040.yaml", "aliases: [cfo]", "aliases: [cfo, david.chen]")],
        [
            "org/users/e1040.yaml:6:16: address david.chen@acme.com is already used by user E1030 "
            "(org/users/e1030.yaml:8:8)"
        ],
    ),
    (
        "user-alias-vs-group-alias",
        [("users/e1051.yaml", "aliases: [xue.zheng]", "aliases: [xue.zheng, xiaoshou]")],
        [
            "org/groups/sales.yaml:9:11: address xiaoshou@acme.com is already used by user E1051 "
            "(org/users/e1051.yaml:5:22)"
        ],
    ),
    (
        "group-email-vs-user-email",
        [("groups/hr.yaml", "key: hr\n", "key: hr\nemail: david.chen@acme.com\n")],
        [
            "org/groups/hr.yaml:3:8: address david.chen@acme.com is already used by user E1030 "
            "(org/users/e1030.yaml:8:8)"
        ],
    ),
    (
        "group-alias-vs-user-alias",
        [("groups/hr.yaml", "aliases: [jobs]", "aliases: [jobs, cfo]")],
        ["org/groups/hr.yaml:8:17: address cfo@acme.com is already used by user E1040 (org/users/e1040.yaml:6:11)"],
    ),
    (
        "group-alias-vs-group-email",
        [("groups/hr.yaml", "aliases: [jobs]", "aliases: [jobs, finance]")],
        [
            "org/groups/hr.yaml:8:17: address finance@acme.com is already used by group finance "
            "(org/groups/finance.yaml:2:6)"
        ],
    ),
    (
        "user-alias-reserved",
        [("users/e1051.yaml", "aliases: [xue.zheng]", "aliases: [xue.zheng, postmaster]")],
        ["org/users/e1051.yaml:5:22: postmaster@acme.com is a reserved name (naming.yaml reserved)"],
    ),
    (
        "group-alias-reserved",
        [("groups/hr.yaml", "aliases: [jobs]", "aliases: [jobs, abuse@acme.com]")],
        ["org/groups/hr.yaml:8:17: abuse@acme.com is a reserved name (naming.yaml reserved)"],
    ),
    (
        "group-key-derives-reserved",
        [("groups/support.yaml", "key: support", "key: security")],
        [
            "org/groups/support.yaml:4:6: security@acme.com is a reserved name; "
            "give the group an explicit email or another key"
        ],
    ),
    (
        "external-member-in-managed-domain",
        [("groups/partners.yaml", "tanaka.k@example.net]", "tanaka.k@example.net, ops@acme.cn]")],
        [
            "org/groups/partners.yaml:9:90: ops@acme.cn is in a managed domain; "
            "list the user id or group key under members"
        ],
    ),
    (
        "number-for-id",
        [("users/e1013.yaml", "id: E1013", "id: 1013")],
        ['org/users/e1013.yaml:3:5: expected text, got int 1013; put it in quotes to mean the text: "1013"'],
    ),
    (
        "string-for-max-deletes",
        [("org.yaml", "max_deletes: 10 ", "max_deletes: ten ")],
        ["org/org.yaml:20:16: expected a whole number, got str 'ten'"],
    ),
    (
        "list-for-title",
        [("users/e1013.yaml", "title: 销售代表", "title: [销售代表]")],
        ["org/users/e1013.yaml:7:8: expected text, got list ['销售代表']"],
    ),
    (
        "invalid-status",
        [("users/e1053.yaml", "status: suspended", "status: gone")],
        [
            "org/users/e1053.yaml:10:9: 'gone' is not allowed here; "
            "use one of 'active', 'suspended', 'frozen' or 'offboarded'"
        ],
    ),
    (
        "invalid-provider-kind",
        [("org.yaml", "kind: local", "kind: lokal")],
        ["org/org.yaml:9:3: unknown kind 'lokal'; use one of 'local', 'google', 'microsoft', 'exmail', 'alimail'"],
    ),
    (
        "not-an-email",
        [("users/e1053.yaml", "personal_email: hanbing.hb@example.net", "personal_email: not-an-email")],
        ["org/users/e1053.yaml:9:17: 'not-an-email' is not an email address (like name@acme.com)"],
    ),
    (
        "not-an-alias",
        [("users/e1051.yaml", "aliases: [xue.zheng]", "aliases: [xue zheng]")],
        [
            "org/users/e1051.yaml:5:11: 'xue zheng' is not a local part or an address "
            "(like 'san.zhang' or 'san.zhang@acme.com')"
        ],
    ),
    (
        "unknown-placeholder",
        [("naming.yaml", 'pattern: "{family}{given}"', 'pattern: "{family}{givn}"')],
        [
            "org/naming.yaml:4:3: unknown placeholder {givn}; "
            "use {given}, {family}, {given_initial}, {family_initial}, {id}"
        ],
    ),
    (
        "pattern-without-placeholder",
        [("naming.yaml", 'pattern: "{key}"', 'pattern: "team"')],
        ["org/naming.yaml:9:3: the pattern uses no placeholder; every address would be the same"],
    ),
    (
        "collision-fail",
        [("naming.yaml", "collision: number ", "collision: fail ")],
        [
            "org/users/e1061.yaml:4:13: the derived address zhangwei@acme.com is already taken "
            "and naming.yaml says collision: fail; add an explicit email"
        ],
    ),
]


def apply_edits(org_dir: Path, edits: list[Edit]) -> None:
    for rel, old, new in edits:
        if old:
            edit(org_dir, rel, old, new)
        else:
            write(org_dir, rel, new)


@pytest.mark.parametrize(("edits", "expected"), [pytest.param(e, x, id=i) for i, e, x in ONE_MISTAKE])
def test_one_mistake_is_one_precise_message(org_copy: Path, edits: list[Edit], expected: list[str]) -> None:
    apply_edits(org_copy, edits)
    assert problems(org_copy) == expected


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param(
            [("users/e1010.yaml", "title:", "titel:")],
            ["org/users/e1010.yaml:6:1: unknown key 'titel' (did you mean 'title'?)"],
            id="user-referenced-as-manager-owner-and-member",
        ),
        pytest.param(
            [("groups/managers.yaml", "type: list", "type: lst")],
            [
                "org/groups/managers.yaml:4:7: 'lst' is not allowed here; "
                "use one of 'mailbox', 'list', 'team' or 'security' (did you mean 'list'?)"
            ],
            id="group-nested-in-another",
        ),
        pytest.param(
            [("departments.yaml", "  description: Marketing and brand", "  descripton: Marketing and brand")],
            ["org/departments.yaml:45:3: unknown key 'descripton' (did you mean 'description'?)"],
            id="one-department",
        ),
        pytest.param(
            [("permissions.yaml", "admin_role: help-desk-admin", "admin_role: helpdesk-admin")],
            [
                f"org/permissions.yaml:21:17: 'helpdesk-admin' is not allowed here; use one of {A_ROLE} "
                "(did you mean 'help-desk-admin'?)"
            ],
            id="one-admin-role",
        ),
    ],
)
def test_one_mistake_raises_no_false_errors_elsewhere(org_copy: Path, edits: list[Edit], expected: list[str]) -> None:
    # What failed to load still exists for the admin: the departments, profiles, users and groups
    # it declares are not "unknown" to everything that refers to them.
    apply_edits(org_copy, edits)
    assert problems(org_copy) == expected


@pytest.mark.parametrize(
    ("edits", "line", "message"),
    [
        pytest.param(
            [("users/e1012.yaml", "manager: E1011", "manager: E1012")],
            8,
            "a user cannot be their own manager",
            id="own-manager",
        ),
        pytest.param(
            [("users/e1053.yaml", "status: suspended", "status: suspended\noffboarded_on: 2026-01-31")],
            11,
            "offboarded_on is only meaningful with status: offboarded",
            id="offboarded-on-without-status-offboarded",
        ),
    ],
)
def test_a_rule_across_keys_points_at_the_key_it_is_about(
    org_copy: Path, edits: list[Edit], line: int, message: str
) -> None:
    apply_edits(org_copy, edits)
    org, issues = load_org(org_copy)
    with pytest.raises(ValidationFailed) as failed:
        validate_org(org, issues)
    [issue] = failed.value.issues
    assert issue.message == message
    assert issue.location.path == f"org/{edits[0][0]}"
    assert issue.location.line == line  # not the top of the file


# --- naming -------------------------------------------------------------------------------------------


def test_derived_addresses_of_the_example_surnames() -> None:
    addresses = resolved(EXAMPLE_ORG).addresses
    tricky = ["E1001", "E1011", "E1012", "E1013", "E1014", "E1021", "E1034", "E1040", "E1042", "E1043", "E1061"]
    assert {i: addresses[i] for i in tricky} == {
        "E1001": "ouyangnana@acme.com",  # 欧阳 compound surname
        "E1011": "zhangwei@acme.com",  # the first 张伟 (lower id)
        "E1012": "zengxiaoyan@acme.com",  # 曾 zeng, not ceng
        "E1013": "shanlei@acme.com",  # 单 shan, not dan
        "E1014": "lvbin@acme.com",  # 吕 lü written lv
        "E1021": "oujiaxin@acme.com",  # 区 ou, not qu
        "E1034": "zhugeming@acme.com",  # 诸葛
        "E1040": "simajing@acme.com",  # 司马
        "E1042": "xiewenbo@acme.com",  # 解 xie, not jie
        "E1043": "qiulijuan@acme.com",  # 仇 qiu, not chou
        "E1061": "zhangwei2@acme.com",  # the second 张伟
    }
    assert addresses["E1030"] == "david.chen@acme.com"  # explicit email wins
    assert addresses["E0001"] == "admin@acme.com"  # a reserved name, but written explicitly


def test_an_existing_address_never_moves_for_a_newcomer() -> None:
    # E1061 was created first and holds zhangwei@; E1011 is new: E1011 gets zhangwei2.
    addresses = resolved(EXAMPLE_ORG, state(User(email="zhangwei@acme.com", id="E1061"))).addresses
    assert (addresses["E1061"], addresses["E1011"]) == ("zhangwei@acme.com", "zhangwei2@acme.com")


def test_existing_holders_keep_their_addresses_and_a_lower_id_newcomer_is_numbered_after(org_copy: Path) -> None:
    write(org_copy, "users/e1005.yaml", "id: E1005\ngiven_name: 伟\nfamily_name: 张\ndepartment: management\n")
    actual = state(User(email="zhangwei@acme.com", id="E1011"), User(email="zhangwei2@acme.com", id="E1061"))
    addresses = resolved(org_copy, actual).addresses
    assert [addresses[i] for i in ("E1005", "E1011", "E1061")] == [
        "zhangwei3@acme.com",
        "zhangwei@acme.com",
        "zhangwei2@acme.com",
    ]
    # Without the provider, ascending id order decides among the three newcomers.
    addresses = resolved(org_copy).addresses
    assert [addresses[i] for i in ("E1005", "E1011", "E1061")] == [
        "zhangwei@acme.com",
        "zhangwei2@acme.com",
        "zhangwei3@acme.com",
    ]


@pytest.mark.parametrize(
    ("at_provider", "expected"),
    [
        pytest.param(
            User(email="zhangwei@acme.com", id="E0999"),
            {"E1011": "zhangwei2@acme.com", "E1061": "zhangwei3@acme.com"},
            id="a-leaver-still-at-the-provider",
        ),
        pytest.param(
            User(email="zhangwei@acme.cn", id="E0999"),
            {"E1011": "zhangwei2@acme.com", "E1061": "zhangwei3@acme.com"},
            id="the-same-name-in-the-alias-domain",
        ),
        pytest.param(
            Alias(address="shanlei@acme.com", target="sales@acme.com", target_kind="group"),
            {"E1013": "shanlei2@acme.com"},
            id="an-alias-at-the-provider",
        ),
        pytest.param(
            Group(email="ouyangnana@acme.com"),
            {"E1001": "ouyangnana2@acme.com"},
            id="a-group-at-the-provider",
        ),
    ],
)
def test_a_newcomer_never_gets_an_address_that_exists_at_the_provider(
    at_provider: User | Alias | Group, expected: dict[str, str]
) -> None:
    addresses = resolved(EXAMPLE_ORG, state(at_provider)).addresses
    assert {i: addresses[i] for i in expected} == expected


def test_an_unmanaged_account_is_adopted_by_one_person_only() -> None:
    # Adopting a tenant: zhangwei@ exists without an id. The first 张伟 (by id) takes it over;
    # the second cannot take the same account and is numbered like any newcomer.
    addresses = resolved(EXAMPLE_ORG, state(User(email="zhangwei@acme.com"))).addresses
    assert (addresses["E1011"], addresses["E1061"]) == ("zhangwei@acme.com", "zhangwei2@acme.com")


def mini_org(root: Path, transliterate: str, users: dict[str, str]) -> Path:
    org = root / "org"
    (org / "users").mkdir(parents=True)
    (org / "org.yaml").write_text("name: Mini\n", encoding="utf-8")
    (org / "domains.yaml").write_text("- name: mini.cn\n  primary: true\n", encoding="utf-8")
    (org / "naming.yaml").write_text(
        f'users:\n  pattern: "{{family}}{{given}}"\n  latin_pattern: "{{given}}.{{family}}"\n'
        f"  transliterate: {transliterate}\n",
        encoding="utf-8",
    )
    for name, text in users.items():
        (org / "users" / name).write_text(text, encoding="utf-8")
    return org


MINI_USERS = {
    "e1.yaml": "id: E1\ngiven_name: Olivia\nfamily_name: Smith\n",
    "e2.yaml": "id: E2\ngiven_name: 伟\nfamily_name: 张\nemail: wei.zhang@mini.cn\n",
}


def test_a_chinese_name_without_transliteration_needs_an_explicit_email(tmp_path: Path) -> None:
    org = mini_org(tmp_path, "none", {**MINI_USERS, "e3.yaml": "id: E3\ngiven_name: 娜娜\nfamily_name: 欧阳\n"})
    assert problems(org) == [
        "org/users/e3.yaml:2:13: cannot derive an address from '欧阳' '娜娜' with transliterate: none; "
        "add an explicit email"
    ]
    (org / "users" / "e3.yaml").write_text("id: E3\ngiven_name: 娜娜\nfamily_name: 欧阳\nemail: nana@mini.cn\n")
    assert resolved(org).addresses == {"E1": "olivia.smith@mini.cn", "E2": "wei.zhang@mini.cn", "E3": "nana@mini.cn"}


def test_pinyin_and_ascii_transliteration_of_the_same_people(tmp_path: Path) -> None:
    users = {**MINI_USERS, "e3.yaml": "id: E3\ngiven_name: 磊\nfamily_name: 单\n"}
    assert resolved(mini_org(tmp_path / "p", "pinyin", users)).addresses["E3"] == "shanlei@mini.cn"
    # ascii mode has no surname table: 单 reads dan, as anyascii does
    assert resolved(mini_org(tmp_path / "a", "ascii", users)).addresses["E3"] == "danlei@mini.cn"


def test_a_leaver_still_named_as_manager_is_said_to_be_leaving_never_guessed_at(org_copy: Path) -> None:
    """E1011's file is removed (they leave) while five people still name them as their manager."""
    (org_copy / "users" / "e1011.yaml").unlink()
    at_provider = state(User(email="lina@acme.com", id="E1011"))
    found = [p for p in problems(org_copy, at_provider) if "E1011" in p]
    assert found == [f"org/users/{name}.yaml:{line}:10: manager id 'E1011' (lina@acme.com) has no file in org/users "
                     "any more: that person is being offboarded; name someone else here"
                     for name, line in (("e1012", 8), ("e1013", 8), ("e1014", 8), ("e1015", 7), ("e1016", 7))]
    # Offline (validate), the provider is not asked: the message still never names another person.
    assert all("did you mean" not in p and "if that person left, name someone else here" in p
               for p in problems(org_copy) if "E1011" in p)


def test_a_personal_email_in_the_companys_own_domain_is_refused(org_copy: Path) -> None:
    edit(org_copy, "users/e1012.yaml", "personal_email: zxy0612@example.org", "personal_email: Li.Na@ACME.com")
    assert problems(org_copy) == [
        "org/users/e1012.yaml:9:17: personal_email li.na@acme.com is an address of the company's own domain "
        "acme.com: the welcome mail must reach the person outside it (their mailbox is new); use a private address"]


@pytest.mark.parametrize(("smtp", "refused"), [
    ("{host: smtp.acme.com, starttls: false}", True),
    ("{host: smtp.acme.com, starttls: false, implicit_tls: true, port: 465}", False),
    ("{host: 127.0.0.1, starttls: false, port: 2525}", False),
    ("{host: localhost, starttls: false, port: 25}", False),
])
def test_plain_smtp_only_to_this_machine(org_copy: Path, smtp: str, refused: bool) -> None:
    settings = org_copy / "org.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + f"onboarding:\n  smtp: {smtp}\n  sender: it@acme.com\n",
                        encoding="utf-8")
    _, issues = load_org(org_copy)
    found = [str(i) for i in issues if "unencrypted" in i.message]
    assert bool(found) is refused
    if refused:
        assert found[0].startswith("org/org.yaml:")
        assert found[0].endswith("mail to smtp.acme.com would travel unencrypted: keep starttls: true, or use "
                                 "implicit_tls: true (port 465); plain SMTP is only for a relay on this machine")


def test_a_key_left_behind_by_switching_provider_kinds_says_whose_it_is(org_copy: Path) -> None:
    settings = org_copy / "org.yaml"
    text = settings.read_text(encoding="utf-8")
    start = text.index("provider:")
    end = text.index("\n\n", start)
    settings.write_text(text[:start] + "provider: {kind: google, admin: it@acme.com, path: old/directory.json, "
                        "custmer: C01}" + text[end:], encoding="utf-8")
    found = [p.split(": ", 1)[1] for p in problems(org_copy)]
    assert found == [
        "'path' is a setting of provider kind local, not of google; remove it (the keys of google are: admin, "
        "customer, kind, rate_limit, service_account, service_groups)",
        "unknown key 'custmer' (did you mean 'customer'?)"]


def test_an_explicit_email_that_takes_someone_elses_address_is_said_at_the_claim(org_copy: Path) -> None:
    """validate and plan agree, on a new tenant and on one where the person holds the address:
    the error is at the file that claims it, and nobody is silently numbered around it."""
    with (org_copy / "users" / "e1010.yaml").open("a", encoding="utf-8") as f:
        f.write("email: hejing@acme.com\n")
    said = ("users/e1010.yaml:10:8: hejing@acme.com is the address naming.yaml gives user E1003 "
            "(org/users/e1003.yaml:2:5){}; choose another address here, or give E1003 an explicit email too")
    [on_a_new_tenant] = problems(org_copy)
    assert on_a_new_tenant.endswith(said.format(""))
    [where_they_hold_it] = problems(org_copy, state(User(email="hejing@acme.com", id="E1003")))
    assert where_they_hold_it.endswith(said.format(" (who holds it at the provider)"))


def test_an_explicit_email_may_take_an_address_nobody_is_given(org_copy: Path) -> None:
    with (org_copy / "users" / "e1010.yaml").open("a", encoding="utf-8") as f:
        f.write("email: hejing2@acme.com\n")
    assert resolved(org_copy).addresses["E1003"] == "hejing@acme.com"
    # Where E1003 holds a numbered address already, the explicit claim of the free base is fine.
    holds_numbered = state(User(email="hejing3@acme.com", id="E1003"))
    edit(org_copy, "users/e1010.yaml", "email: hejing2@acme.com", "email: hejing@acme.com")
    assert resolved(org_copy, holds_numbered).addresses["E1003"] == "hejing3@acme.com"
