"""What the calling app may do: its application permissions and its Entra directory roles.

Every request is made as one app (``App``: its client id, service principal, permissions and
roles). Before a handler runs, the route's permission rule is checked: the app needs one of
the permissions the Graph reference lists for that API (least to most privileged). Without
it Graph answers 403 ``Authorization_RequestDenied`` "Insufficient privileges to complete the
operation."; the audit log sources (``signInActivity``, the authentication methods reports)
answer 403 ``Authentication_MSGraphPermissionMissing`` naming ``AuditLog.Read.All`` instead.

Some writes need a directory role on top (checked in the handlers, which know the target):
resetting a password (``passwordProfile``) needs User Administrator or a role that may reset
passwords, and for a user who holds an admin role Privileged Authentication Administrator (or
Global Administrator); so does disabling such a user (``accountEnabled``).

The defaults are exactly what the README's Microsoft 365 section asks the admin to grant
(tests/test_microsoft_access.py fails when the two drift apart).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import errors, seed

# What README.md "Microsoft 365" step 2 and 3 ask for.
DEFAULT_PERMISSIONS = frozenset({
    "User.ReadWrite.All", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "Directory.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory", "Domain.ReadWrite.All", "Organization.Read.All", "AuditLog.Read.All",
    "Reports.Read.All", "MailboxSettings.ReadWrite",
})
DEFAULT_ROLES = ("User Administrator", "Privileged Authentication Administrator")
DEFAULT_APP_ID = "00000000-0000-0000-0000-000000000001"

_DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
READ_USERS = _DIRECTORY_READ | {"User.Read.All", "User.ReadWrite.All"}
WRITE_USERS = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
READ_GROUPS = _DIRECTORY_READ | {"Group.Read.All", "Group.ReadWrite.All"}
WRITE_GROUPS = frozenset({"Group.ReadWrite.All", "Directory.ReadWrite.All"})
READ_MEMBERS = READ_GROUPS | {"GroupMember.Read.All", "GroupMember.ReadWrite.All"}
WRITE_MEMBERS = frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
READ_DOMAINS = _DIRECTORY_READ | {"Domain.Read.All", "Domain.ReadWrite.All"}
WRITE_DOMAINS = frozenset({"Domain.ReadWrite.All"})
READ_ORGANIZATION = _DIRECTORY_READ | {"Organization.Read.All", "Organization.ReadWrite.All"}
READ_SKUS = READ_ORGANIZATION | {"LicenseAssignment.Read.All"}
ASSIGN_LICENSES = WRITE_USERS | {"LicenseAssignment.ReadWrite.All"}
REVOKE_SESSIONS = WRITE_USERS | {"User.RevokeSessions.All"}
READ_ROLES = _DIRECTORY_READ | {"RoleManagement.Read.Directory", "RoleManagement.Read.All",
                                "RoleManagement.ReadWrite.Directory"}
WRITE_ROLES = frozenset({"RoleManagement.ReadWrite.Directory"})
RESTORE_USERS = frozenset({"User.DeleteRestore.All", "Directory.ReadWrite.All"})
READ_APPS = _DIRECTORY_READ | {"Application.Read.All", "Application.ReadWrite.All"}
AUDIT_LOG = frozenset({"AuditLog.Read.All"})
REPORTS = frozenset({"Reports.Read.All"})
MAILBOX_SETTINGS = frozenset({"MailboxSettings.Read", "MailboxSettings.ReadWrite"})

# (method, route template) -> the permissions any one of which allows it.
RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/users"): READ_USERS, ("GET", "/users/$count"): READ_USERS, ("GET", "/users/delta"): READ_USERS,
    ("GET", "/users/delta()"): READ_USERS, ("GET", "/users/{key}"): READ_USERS,
    ("GET", "/users/{key}/directReports"): READ_USERS, ("GET", "/users/{key}/licenseDetails"): READ_USERS,
    ("GET", "/users/{key}/manager"): READ_USERS, ("GET", "/users/{key}/memberOf"): READ_USERS,
    ("POST", "/users"): WRITE_USERS, ("PATCH", "/users/{key}"): WRITE_USERS, ("DELETE", "/users/{key}"): WRITE_USERS,
    ("PUT", "/users/{key}/manager/$ref"): WRITE_USERS, ("DELETE", "/users/{key}/manager/$ref"): WRITE_USERS,
    ("POST", "/users/{key}/assignLicense"): ASSIGN_LICENSES,
    ("POST", "/users/{key}/revokeSignInSessions"): REVOKE_SESSIONS,
    ("GET", "/groups"): READ_GROUPS, ("GET", "/groups/$count"): READ_GROUPS, ("GET", "/groups/delta"): READ_MEMBERS,
    ("GET", "/groups/delta()"): READ_MEMBERS, ("GET", "/groups/{key}"): READ_GROUPS,
    ("GET", "/groups/{key}/members"): READ_MEMBERS, ("GET", "/groups/{key}/owners"): READ_MEMBERS,
    ("POST", "/groups"): WRITE_GROUPS | {"Group.Create"}, ("PATCH", "/groups/{key}"): WRITE_GROUPS,
    ("DELETE", "/groups/{key}"): WRITE_GROUPS,
    ("POST", "/groups/{key}/members/$ref"): WRITE_MEMBERS, ("POST", "/groups/{key}/owners/$ref"): WRITE_MEMBERS,
    ("DELETE", "/groups/{key}/members/{member}/$ref"): WRITE_MEMBERS,
    ("DELETE", "/groups/{key}/owners/{member}/$ref"): WRITE_MEMBERS,
    ("GET", "/directory/deletedItems/microsoft.graph.user"): READ_USERS,
    ("GET", "/directory/deletedItems/graph.user"): READ_USERS,
    ("GET", "/directory/deletedItems/microsoft.graph.group"): READ_GROUPS,
    ("GET", "/directory/deletedItems/graph.group"): READ_GROUPS,
    ("GET", "/directory/deletedItems/{key}"): _DIRECTORY_READ | READ_USERS | READ_GROUPS,
    ("POST", "/directory/deletedItems/{key}/restore"): RESTORE_USERS | WRITE_GROUPS,
    ("DELETE", "/directory/deletedItems/{key}"): RESTORE_USERS | WRITE_GROUPS,
    ("GET", "/directoryObjects/{key}"): READ_USERS | READ_GROUPS,
    ("GET", "/organization"): READ_ORGANIZATION | {"User.Read.All"},
    ("GET", "/domains"): READ_DOMAINS, ("GET", "/domains/{key}"): READ_DOMAINS,
    ("GET", "/domains/{key}/verificationDnsRecords"): READ_DOMAINS,
    ("GET", "/domains/{key}/serviceConfigurationRecords"): READ_DOMAINS,
    ("POST", "/domains"): WRITE_DOMAINS, ("PATCH", "/domains/{key}"): WRITE_DOMAINS,
    ("DELETE", "/domains/{key}"): WRITE_DOMAINS,
    ("GET", "/subscribedSkus"): READ_SKUS, ("GET", "/subscribedSkus/{key}"): READ_SKUS,
    ("GET", "/directoryRoles"): READ_ROLES, ("POST", "/directoryRoles"): WRITE_ROLES,
    ("GET", "/directoryRoles/{key}/members"): READ_ROLES, ("POST", "/directoryRoles/{key}/members/$ref"): WRITE_ROLES,
    ("DELETE", "/directoryRoles/{key}/members/{member}/$ref"): WRITE_ROLES,
    ("GET", "/roleManagement/directory/roleDefinitions"): READ_ROLES,
    ("GET", "/roleManagement/directory/roleAssignments"): READ_ROLES,
    ("GET", "/roleManagement/directory/roleAssignments/{key}"): READ_ROLES,
    ("POST", "/roleManagement/directory/roleAssignments"): WRITE_ROLES,
    ("DELETE", "/roleManagement/directory/roleAssignments/{key}"): WRITE_ROLES,
    ("GET", "/servicePrincipals(appId='{app_id}')"): READ_APPS,
    ("GET", "/reports/authenticationMethods/userRegistrationDetails"): AUDIT_LOG,
    ("GET", "/reports/getMailboxUsageDetail(period='{period}')"): REPORTS,
    ("GET", "/reports/getEmailActivityUserDetail(period='{period}')"): REPORTS,
    ("GET", "/users/{key}/mailFolders/inbox/messageRules"): MAILBOX_SETTINGS,
    ("DELETE", "/users/{key}/mailFolders/inbox/messageRules/{rule}"): frozenset({"MailboxSettings.ReadWrite"}),
    ("GET", "/auditLogs/signIns"): AUDIT_LOG,
}
# Roles that may reset the password of a user without admin roles; of an admin, only the last two.
RESET_ANY_USER = ("Privileged Authentication Administrator", "Global Administrator")
RESET_ORDINARY_USER = ("User Administrator", "Helpdesk Administrator", "Password Administrator",
                       "Authentication Administrator", *RESET_ANY_USER)


@dataclass
class App:
    """The app registration every request comes from, as its service principal in this tenant."""

    app_id: str
    permissions: set[str]
    roles: set[str]                 # directory role template ids assigned to the service principal
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def of(cls, app_id: str, permissions: Iterable[str], roles: Iterable[str]) -> App:
        sp = str(uuid.uuid5(uuid.NAMESPACE_URL, f"servicePrincipal/{app_id}"))
        return cls(app_id, set(permissions), {seed.role_named(r).template_id for r in roles}, sp)

    def holds(self, role_names: Iterable[str]) -> bool:
        return bool(self.roles & {seed.role_named(name).template_id for name in role_names})


def check(app: App, method: str, template: str) -> None:
    """Refuse the call when the app holds none of the permissions its API accepts."""
    allowed = RULES.get((method, template), frozenset({"Directory.ReadWrite.All"}))
    if app.permissions & allowed:
        return
    if allowed == AUDIT_LOG:
        raise errors.permission_missing("AuditLog.Read.All")
    raise errors.authorization_denied()


def check_sign_in_activity(app: App) -> None:
    """``signInActivity`` (in ``$select`` or ``$filter``) needs AuditLog.Read.All as well."""
    if "AuditLog.Read.All" not in app.permissions:
        raise errors.permission_missing("AuditLog.Read.All")


def check_sensitive_update(app: App, target_is_admin: bool, changes: Iterable[str]) -> None:
    """A password reset needs a directory role that may reset this user's password; disabling a
    user who holds an admin role needs Privileged Authentication Administrator (or Global
    Administrator)."""
    names = set(changes)
    if "passwordProfile" in names and not app.holds(RESET_ANY_USER if target_is_admin else RESET_ORDINARY_USER):
        raise errors.authorization_denied()
    if "accountEnabled" in names and target_is_admin and not app.holds(RESET_ANY_USER):
        raise errors.authorization_denied()
