"""The org/ files as pydantic models: one class per file kind, unknown keys forbidden.

These describe the *shape* of each file; references between files (a user's
department, a group's members) are checked in `crossref.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from reconciler.i18n import _
from reconciler.model.onboarding import MailSettings
from reconciler.model.records import RequiredRecord
from reconciler.model.types import (
    NAME_PART_PATTERN,
    PHONE_PATTERN,
    AddressOrLocal,
    AdminRole,
    DomainName,
    Email,
    FilePath,
    Key,
    Locale,
    NonEmpty,
    ProviderKind,
    Service,
    Status,
    Strict,
    UserId,
)

# --- org.yaml -----------------------------------------------------------------


class LocalProviderConfig(Strict):
    kind: Literal["local"]
    path: FilePath = Field(
        ".reconciler/directory.json", description="The directory file; relative to the folder holding org/."
    )


class RateLimit(Strict):
    calls: int = Field(2400, ge=1, le=1_000_000, description="At most this many API calls...")
    per_seconds: float = Field(60, gt=0, le=86_400, description="...in any window of this many seconds.")
    retries: int = Field(8, ge=1, le=100, description="Attempts for a call that hits quota or a server error.")
    backoff_seconds: float = Field(
        1.0, ge=0, le=3600, description="First backoff; it doubles each attempt (with jitter).")


class GoogleProviderConfig(Strict):
    kind: Literal["google"]
    customer: str = Field("my_customer", description="Customer id, or my_customer.")
    admin: Email = Field(
        description="Admin the service account impersonates (domain-wide delegation subject)."
    )
    service_account: Email | None = Field(
        None, description="Service account to impersonate with keyless Workload Identity Federation."
    )
    service_groups: dict[Service, Email] = Field(
        default_factory=dict,
        description="Access group per service (mail: svc-gmail@acme.com ...); services are managed "
        "as membership in these groups. Without them, profile services are not managed on Google.",
    )
    rate_limit: RateLimit = Field(default_factory=RateLimit)


class MicrosoftProviderConfig(Strict):
    kind: Literal["microsoft"]
    tenant: NonEmpty = Field(description="Tenant id or primary domain.")
    client_id: NonEmpty = Field(description="Application (client) id of the app registration.")
    usage_location: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"
    cloud: Literal["global", "china"] = Field(
        "global", description="Where the tenant lives: global (graph.microsoft.com), or china for Microsoft 365 "
        "operated by 21Vianet (microsoftgraph.chinacloudapi.cn, sign-in at login.chinacloudapi.cn).")


class ExmailProviderConfig(Strict):
    kind: Literal["exmail"]
    corp_id: Annotated[str, StringConstraints(pattern=r"^\S{1,64}$")] = Field(
        description="CorpID of the Tencent Exmail company (admin console: 工具箱 > 应用中心 / 开放平台 > 开发者信息); "
        "each application's secret comes from its own environment variable, never from org/.")
    domain: DomainName = Field(description="The company's primary mail domain at Exmail (the domain users get).")
    calls_per_second: float = Field(
        10, gt=0, le=1000, description="At most this many API calls a second (Tencent documents no figure; "
        "throttled calls are retried).")


class AlimailProviderConfig(Strict):
    kind: Literal["alimail"]
    host: Literal["alimail-cn.aliyuncs.com", "mail-open.xc.aliyun.com", "alimail-sg.aliyuncs.com",
                  "alimail-hk.aliyuncs.com", "alimail-de.aliyuncs.com", "alimail-us.aliyuncs.com"] = Field(
        "alimail-cn.aliyuncs.com", description="The open-platform host of the tenant's edition: "
        "alimail-cn.aliyuncs.com (standard editions), mail-open.xc.aliyun.com (domestic deployment), "
        "alimail-sg|hk|de|us.aliyuncs.com (international); a token from one host is no good at another.")
    app_id: Annotated[str, StringConstraints(pattern=r"^\S{1,128}$")] = Field(
        description="The application ID (client_id) of the API application (admin console: API开放平台 > 应用); "
        "its secret comes from RECONCILER_ALIMAIL_CLIENT_SECRET, never from org/.")
    domain: DomainName = Field(description="The company's primary mail domain at Alibaba Mail.")
    requests_per_second: float = Field(
        20, gt=0, le=40, description="At most this many API requests a second. Alibaba documents 40 a second "
        "for all applications of one domain together; the default leaves half for other applications.")


ProviderConfig = Annotated[
    LocalProviderConfig | GoogleProviderConfig | MicrosoftProviderConfig | ExmailProviderConfig
    | AlimailProviderConfig,
    Field(discriminator="kind"),
]


class Defaults(Strict):
    profile: Key | None = Field(None, description="Profile of users that name none; default: the first profile.")
    locale: Locale = "zh-CN"


class Safety(Strict):
    max_deletes: int = Field(
        10, ge=0, le=1_000_000,
        description="Refuse a plan that deletes or suspends more users, groups and org units than this."
    )
    max_delete_percent: float = Field(
        5, ge=0, le=100, description="...or suspends/deletes more than this share of managed users."
    )
    max_freezes: int = Field(
        50, ge=0, le=1_000_000,
        description="Refuse a plan that freezes more accounts than this (status: frozen); freezes do not "
        "count against max_deletes or max_delete_percent.")
    max_rename_percent: float = Field(
        10, ge=0, le=100, description="Refuse a plan that changes the address of more than this share of managed "
        "users (a naming.yaml edit renames everyone whose address it derives).")
    protected: list[Email] = Field(
        default_factory=list, description="Accounts the reconciler never changes: no group, licence, role, "
        "password or suspension change touches them. An address at an alias domain, or one of the account's "
        "aliases, names the same account.")


class DeleteUnlisted(Strict):
    """Whether objects at the provider that org/ does not list are deleted (default: reported only)."""

    groups: bool = False
    orgunits: bool = False


class Lifecycle(Strict):
    offboard_after_days: int = Field(30, ge=0, le=3650, description="Days an offboarded account stays "
                                     "suspended before it is deleted (at most ten years).")
    transfer_data_to: Literal["manager"] | Email = "manager"
    remove_from_groups: bool = Field(
        False, description="Offboarding also removes the person from every group (default: kept, so mail "
        "to groups still reaches the archived mailbox).")
    remove_licenses: bool = Field(
        False, description="Offboarding also takes the person's licences back (at Google and Microsoft the "
        "mailbox and files go with the licence once the grace period ends).")


class Security(Strict):
    require_2sv: bool = False
    enroll_within_days: int = Field(
        14, ge=0, le=3650, description="A new account has this many days to enrol in 2-step verification before the "
        "audit reports it (security.require_2sv); admins never get this grace.")
    password_reset_within_days: int = Field(
        7, ge=1, le=90, description="A user's password_reset is carried out only this many days from its date: "
        "an old date in a file is a record, never a reason to reset again.")


class Audit(Strict):
    """What `reconciler audit` reports."""

    inactive_days: int = Field(
        90, ge=1, le=3650, description="An active account unused for longer than this is reported.")
    quota_percent: float = Field(
        90, gt=0, le=100, description="A mailbox using at least this share of its storage quota is reported.")
    # `reconciler usage`: mail sent over the last 7 days, judged against the tenant's median.
    heavy_sender_factor: float = Field(
        10, gt=1, description="An account that sent more than this many times the median of the last 7 days is "
                              "reported as a heavy sender (reconciler usage).")
    heavy_sender_min: int = Field(
        200, ge=1, description="Mails sent in 7 days below which nobody is reported as a heavy sender by the "
                               "factor (a quiet tenant's median is near 0).")
    heavy_sender_limit: int = Field(
        2000, ge=1, description="Mails sent in 7 days at or above which an account is always reported as a heavy "
                                "sender, whatever the median.")
    growth_percent: float = Field(
        10, gt=0, le=100, description="A mailbox whose storage grew by at least this share of its quota in 30 days "
                                      "is reported as fast-growing (reconciler usage).")
    unused_licence_days: int = Field(
        30, ge=1, description="A licensed account with no sign-in and no mail sent for this many days is reported "
                              "as a licence paid for but unused (reconciler usage).")


class OrgFile(Strict):
    name: NonEmpty
    provider: ProviderConfig = Field(default_factory=lambda: LocalProviderConfig(kind="local"))
    defaults: Defaults = Field(default_factory=Defaults)
    safety: Safety = Field(default_factory=Safety)
    unmanaged: Literal["ignore", "report", "suspend"] = "report"
    delete_unlisted: DeleteUnlisted = Field(default_factory=DeleteUnlisted)
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    security: Security = Field(default_factory=Security)
    audit: Audit = Field(default_factory=Audit)
    onboarding: MailSettings | None = Field(
        None, description="Welcome (and initial-password) mail to people an apply creates; absent: no mail.")


# --- domains.yaml ---------------------------------------------------------------


class DomainEntry(Strict):
    name: DomainName
    primary: bool = False
    alias_of: DomainName | None = Field(None, description="This domain is an alias: everyone also receives mail here.")
    records: list[RequiredRecord] = Field(
        default_factory=list,
        description="Records this domain must publish besides what the provider needs (the local provider, "
        "a self-hosted relay); `reconciler dns` checks them.",
    )


class DomainsFile(Strict):
    domains: list[DomainEntry] = Field(min_length=1)


# --- naming.yaml ------------------------------------------------------------------

PLACEHOLDERS_USER = ("given", "family", "given_initial", "family_initial", "id")
PLACEHOLDERS_GROUP = ("key",)


def _check_pattern(pattern: str, allowed: tuple[str, ...]) -> str:
    names = re.findall(r"\{([^{}]*)\}", pattern)
    if not names:
        raise ValueError(_("the pattern uses no placeholder; every address would be the same"))
    for name in names:
        if name not in allowed:
            raise ValueError(_("unknown placeholder {placeholder}; use {allowed}").format(
                placeholder="{" + name + "}", allowed=", ".join("{" + a + "}" for a in allowed)))
    literal = re.sub(r"\{[^{}]*\}", "", pattern)
    if not re.fullmatch(r"[a-z0-9._-]*", literal):
        raise ValueError(_("outside placeholders a pattern may hold only a-z, 0-9, '.', '_' and '-'"))
    return pattern


class UserNaming(Strict):
    pattern: str = "{family}{given}"
    latin_pattern: str | None = Field(
        None,
        description="Pattern for names not written in Han, Hangul or kana, whose usual order is "
        "given name first (José Núñez -> josenunez with '{given}{family}'); default: pattern.",
    )
    transliterate: Literal["pinyin", "ascii", "none"] = "pinyin"
    collision: Literal["number", "fail"] = Field(
        "number", description="number: zhangwei, zhangwei2, ...; fail: report a validation error."
    )

    @model_validator(mode="after")
    def _pattern(self) -> UserNaming:
        _check_pattern(self.pattern, PLACEHOLDERS_USER)
        if self.latin_pattern is not None:
            _check_pattern(self.latin_pattern, PLACEHOLDERS_USER)
        return self


class GroupNaming(Strict):
    pattern: str = "{key}"

    @model_validator(mode="after")
    def _pattern(self) -> GroupNaming:
        _check_pattern(self.pattern, PLACEHOLDERS_GROUP)
        return self


class NamingFile(Strict):
    users: UserNaming = Field(default_factory=UserNaming)
    groups: GroupNaming = Field(default_factory=GroupNaming)
    reserved: list[Annotated[str, StringConstraints(pattern=NAME_PART_PATTERN)]] = Field(default_factory=list)


# --- permissions.yaml ---------------------------------------------------------------


class Profile(Strict):
    services: list[Service] = Field(default_factory=list)
    licenses: dict[ProviderKind, NonEmpty] = Field(
        default_factory=dict, description="The licence (SKU) per provider kind."
    )


class RoleEntry(Strict):
    admin_role: AdminRole
    members: list[UserId] = Field(default_factory=list)


class PermissionsFile(Strict):
    profiles: dict[Key, Profile] = Field(default_factory=dict)
    roles: dict[Key, RoleEntry] = Field(default_factory=dict)


# --- departments.yaml ----------------------------------------------------------------


class Department(Strict):
    key: Key
    name: NonEmpty
    description: str | None = None
    children: list[Department] = Field(default_factory=list)


class DepartmentsFile(Strict):
    departments: list[Department] = Field(default_factory=list)


# --- users/*.yaml ------------------------------------------------------------------------


class UserEntry(Strict):
    id: UserId
    given_name: NonEmpty
    family_name: NonEmpty
    display_name: NonEmpty | None = None
    email: Email | None = None
    aliases: list[AddressOrLocal] | None = Field(None, description="Absent: aliases are not managed.")
    department: Key | None = None
    title: NonEmpty | None = None
    manager: UserId | None = None
    profile: Key | None = None
    phone: Annotated[str, StringConstraints(pattern=PHONE_PATTERN)] | None = None
    personal_email: Email | None = None
    locale: Locale | None = None
    status: Status = "active"
    offboarded_on: dt.date | None = None
    password_reset: dt.date | None = Field(
        None, description="Ask for a new password (a forgotten one, or after a security event): the first apply on "
        "or after this day, within security.password_reset_within_days, resets it once, signs the person out and "
        "mails the new password the way the onboarding mail sends a first one. Set a later date to ask again; "
        "the line stays in git as the record.")



# --- groups/*.yaml ---------------------------------------------------------------------------


class GroupEntry(Strict):
    key: Key
    type: Literal["mailbox", "list", "team", "security"] = "list"
    email: Email | None = None
    name: NonEmpty | None = None
    description: str | None = None
    members: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=list, description="User ids or other group keys."
    )
    departments: list[Key] = Field(default_factory=list)
    owners: list[UserId] = Field(default_factory=list)
    aliases: list[AddressOrLocal] | None = None
    external_members: list[Email] = Field(default_factory=list)


# Each file kind: the JSON Schema file it points at.
SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "org.schema.json": OrgFile,
    "domains.schema.json": DomainsFile,
    "naming.schema.json": NamingFile,
    "permissions.schema.json": PermissionsFile,
    "departments.schema.json": DepartmentsFile,
    "user.schema.json": UserEntry,
    "group.schema.json": GroupEntry,
}
