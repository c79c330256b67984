"""What the app registration must be granted, and where: the one list the README's Microsoft 365
section spells out (tests/test_microsoft_access.py fails when the two drift apart) and that
`reconciler access` checks.
"""

from __future__ import annotations

from reconciler.i18n import T_

# Microsoft Graph application permissions (admin consent), with what needs each.
APPLICATION_PERMISSIONS: dict[str, str] = {
    "User.ReadWrite.All": "users, their managers, licences and sign-outs",
    "Group.ReadWrite.All": "groups",
    "GroupMember.ReadWrite.All": "group members and owners",
    "Directory.ReadWrite.All": "restoring deleted users",
    "RoleManagement.ReadWrite.Directory": "admin roles",
    "Domain.ReadWrite.All": "adding the domains domains.yaml lists (and reading their DNS records)",
    "Organization.Read.All": "the tenant's licences (subscribedSkus)",
    "AuditLog.Read.All": "last sign-in and 2-step verification (audit, frozen accounts)",
    "Reports.Read.All": "mailbox storage (audit)",
    "MailboxSettings.ReadWrite": "a mailbox's inbox rules (doctor reads them; a freeze removes a frozen account's)",
}
# Entra ID directory roles assigned to the app itself (Graph permissions alone cannot do these).
DIRECTORY_ROLES: dict[str, str] = {
    "User Administrator": "resetting passwords when an account is frozen or offboarded",
    "Privileged Authentication Administrator": "resetting passwords of, and disabling, accounts that hold admin "
                                               "roles",
}
# Built-in role template ids (the same in every tenant).
ROLE_IDS = {
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
}
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"  # holds every other role's rights

# Where, as the Entra admin center names its pages and buttons (in English there).
CONSENT = ("Entra admin center > App registrations > {app} > API permissions > Add a permission > Microsoft Graph > "
           "Application permissions > {name}")
GRANT_CONSENT = "Grant admin consent"
ASSIGN_ROLE = "Entra admin center > Roles & admins > Roles and administrators > {name} > Add assignments"


def grant_permission(name: str, app: str) -> str:
    return T_("missing the application permission {name} ({place}, then {button})", name=name,
              place=CONSENT.format(app=app, name=name), button=GRANT_CONSENT)


def assign_role(name: str, app: str) -> str:
    return T_("missing the directory role {name} ({place} > select the app {app})", name=name,
              place=ASSIGN_ROLE.format(name=name), app=app)
