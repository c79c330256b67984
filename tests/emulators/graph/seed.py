"""The fixed parts of a tenant: licence SKUs with their service plans, built-in directory roles,
and the DNS records Microsoft asks a domain to publish.

Identifiers are the real, tenant-independent ones: ``skuId`` and ``servicePlanId`` GUIDs as
Microsoft's "Product names and service plan identifiers for licensing" and real
``Get-MgSubscribedSku`` output list them, role template ids as the Entra built-in roles
reference does. Each SKU carries a subset of its real service plans (the ones a directory
provider maps services to), not all of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Plan:
    name: str
    plan_id: str
    service: str


EXCHANGE_STANDARD = Plan("EXCHANGE_S_STANDARD", "9aaf7827-d63c-4b61-89c3-182f06f82e5c", "exchange")
EXCHANGE_ENTERPRISE = Plan("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0", "exchange")
SHAREPOINT_STANDARD = Plan("SHAREPOINTSTANDARD", "c7699d2e-19aa-44de-8edf-1736da088ca1", "SharePoint")
SHAREPOINT_ENTERPRISE = Plan("SHAREPOINTENTERPRISE", "5dbe027f-2339-4123-9542-606e4d348a72", "SharePoint")
OFFICE_WEB = Plan("SHAREPOINTWAC", "e95bec33-7c88-4a70-8e19-b10bd9d0c014", "SharePoint")
TEAMS = Plan("TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929", "TeamspaceAPI")
SKYPE = Plan("MCOSTANDARD", "0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MicrosoftCommunicationsOnline")
OFFICE_BUSINESS = Plan("OFFICE_BUSINESS", "094e7854-93fc-4d55-b2c0-3ab5369ebdc1", "MicrosoftOffice")
OFFICE_ENTERPRISE = Plan("OFFICESUBSCRIPTION", "43de0ff5-c92c-492b-9116-175376d08c38", "MicrosoftOffice")
BOOKINGS = Plan("MICROSOFTBOOKINGS", "199a5c09-e0ca-4e37-8f7c-b05d533e1ea2", "MicrosoftOffice")
SWAY = Plan("SWAY", "a23b959c-7ce8-4e57-9140-b90eb88a9e97", "Sway")
YAMMER = Plan("YAMMER_ENTERPRISE", "7547a3fe-08ee-4ccb-b430-5077c5041653", "YammerEnterprise")
PLANNER = Plan("PROJECTWORKMANAGEMENT", "b737dad2-2f6c-4c65-90e3-ca563267e8b9", "ProjectWorkManagement")
INTUNE = Plan("INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "SCO")
ENTRA_P1 = Plan("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AADPremiumService")
MFA = Plan("MFA_PREMIUM", "8a256a2b-b617-496d-b51b-e76466e88db0", "MultiFactorService")
RMS = Plan("RMS_S_ENTERPRISE", "bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMSOnline")
RMS_PREMIUM = Plan("RMS_S_PREMIUM", "6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMSOnline")
CLOUD_APP_DISCOVERY = Plan("ADALLOM_S_DISCOVERY", "932ad362-64a8-4783-9106-97849a1a30b9", "Adallom")
# No mailbox: the Exchange bits other plans of a licence without a full Exchange plan rely on.
EXCHANGE_FOUNDATION = Plan("EXCHANGE_S_FOUNDATION", "113feb6c-3fe4-4440-bddc-54d774bf0318", "exchange")

EXCHANGE_PLANS = frozenset({EXCHANGE_STANDARD.plan_id, EXCHANGE_ENTERPRISE.plan_id})
_SHAREPOINT = (SHAREPOINT_STANDARD.plan_id, SHAREPOINT_ENTERPRISE.plan_id)


@dataclass(frozen=True)
class Sku:
    """A licence. ``needs`` maps a plan to the plans (any one of them) it cannot work without; a
    need whose plans this SKU does not carry may be met by another licence of the user."""

    part_number: str
    sku_id: str
    plans: tuple[Plan, ...]
    needs: tuple[tuple[str, tuple[str, ...]], ...] = ()


# Office for the web needs SharePoint: the admin center says "To assign a license that contains
# Office for the web, you must also assign one of the following service plans: SharePoint
# Online (Plan 2), SharePoint Online Kiosk, SharePoint Online (Plan 1)".
_OFFICE_WEB_NEEDS = ((OFFICE_WEB.plan_id, _SHAREPOINT),)


_BASIC = (EXCHANGE_STANDARD, SHAREPOINT_STANDARD, OFFICE_WEB, TEAMS, SKYPE, SWAY, YAMMER, PLANNER)
SKUS: dict[str, Sku] = {sku.part_number: sku for sku in (
    Sku("O365_BUSINESS_ESSENTIALS", "3b555118-da6a-4418-894f-7df1e2096870", _BASIC, _OFFICE_WEB_NEEDS),
    Sku("O365_BUSINESS_PREMIUM", "f245ecc8-75af-4f8e-b61f-27d8114de5f3", (*_BASIC, OFFICE_BUSINESS, BOOKINGS),
        _OFFICE_WEB_NEEDS),
    Sku("SPB", "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        (*_BASIC, OFFICE_BUSINESS, BOOKINGS, INTUNE, ENTRA_P1, MFA, RMS, RMS_PREMIUM), _OFFICE_WEB_NEEDS),
    Sku("EXCHANGESTANDARD", "4b9405b0-7788-4568-add1-99614e613b69", (EXCHANGE_STANDARD,)),
    Sku("ENTERPRISEPACK", "6fd2c87f-b296-42f0-b197-1e91e994b900",
        (EXCHANGE_ENTERPRISE, SHAREPOINT_ENTERPRISE, OFFICE_WEB, OFFICE_ENTERPRISE, TEAMS, SKYPE, SWAY, YAMMER,
         PLANNER, BOOKINGS, RMS), _OFFICE_WEB_NEEDS),
    Sku("SPE_E3", "05e9a617-0261-4cee-bb44-138d3ef5d965",
        (EXCHANGE_ENTERPRISE, SHAREPOINT_ENTERPRISE, OFFICE_WEB, OFFICE_ENTERPRISE, TEAMS, SKYPE, SWAY, YAMMER,
         PLANNER, BOOKINGS, INTUNE, ENTRA_P1, MFA, RMS, RMS_PREMIUM, CLOUD_APP_DISCOVERY), _OFFICE_WEB_NEEDS),
    # Microsoft Teams Essentials (Microsoft Entra identity): Teams without a mailbox, on the
    # Exchange Foundation plan (which carries no mail of its own). Only these two of its plans.
    Sku("TEAMS_ESSENTIALS_AAD", "3ab6abff-666f-4424-bfb7-f0bc274ec7bc", (EXCHANGE_FOUNDATION, TEAMS),
        ((TEAMS.plan_id, (EXCHANGE_FOUNDATION.plan_id,)),)),
)}


def sku_by_id(sku_id: str) -> Sku | None:
    return next((sku for sku in SKUS.values() if sku.sku_id == sku_id.lower()), None)


@dataclass(frozen=True)
class RoleTemplate:
    template_id: str
    display_name: str
    description: str


ROLE_TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate("62e90394-69f5-4237-9190-012177145e10", "Global Administrator",
                 "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra "
                 "identities."),
    RoleTemplate("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator",
                 "Can manage all aspects of users and groups, including resetting passwords for limited admins."),
    RoleTemplate("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator",
                 "Can reset passwords for non-administrators and Helpdesk Administrators."),
    RoleTemplate("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator",
                 "Can manage all aspects of the Exchange product."),
    RoleTemplate("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator",
                 "Members of this role can create/manage groups, create/manage groups settings like naming and "
                 "expiration policies, and view groups activity and audit reports."),
    RoleTemplate("4d6ac14f-3453-41d0-bef9-a3e0c569773a", "License Administrator",
                 "Can manage product licenses on users and groups."),
    RoleTemplate("966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator",
                 "Can reset passwords for non-administrators and Password Administrators."),
    RoleTemplate("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader",
                 "Can read everything that a Global Administrator can, but not update anything."),
    RoleTemplate("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator",
                 "Can manage all aspects of the SharePoint service."),
    RoleTemplate("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator",
                 "Can read security information and reports, and manage configuration in Microsoft Entra ID and "
                 "Office 365."),
    RoleTemplate("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator",
                 "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity "
                 "Management."),
    RoleTemplate("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator",
                 "Can access to view, set and reset authentication method information for any non-admin user."),
    RoleTemplate("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator",
                 "Can access to view, set and reset authentication method information for any user (admin or "
                 "non-admin)."),
)
GLOBAL_ADMINISTRATOR = ROLE_TEMPLATES[0].template_id


def role_named(name: str) -> RoleTemplate:
    found = next((role for role in ROLE_TEMPLATES if name in (role.display_name, role.template_id)), None)
    if found is None:
        raise ValueError(f"unknown directory role {name!r}")
    return found


def template(template_id: str) -> RoleTemplate | None:
    return next((role for role in ROLE_TEMPLATES if role.template_id == template_id.lower()), None)


# ----------------------------------------------------------------------------- DNS records

TTL = 3600


def verification_code(domain: str) -> str:
    """``ms12345678``: stable per domain, like the code a tenant keeps for its domain."""
    digits = int(hashlib.sha256(domain.lower().encode()).hexdigest(), 16) % 100_000_000
    return f"ms{digits:08d}"


def _record(domain: str, kind: str, label: str, supported: str | None, number: int, **extra: Any) -> dict[str, Any]:
    record_id = hashlib.md5(f"{domain}/{kind}/{label}/{number}".encode(), usedforsecurity=False).hexdigest()
    return {"@odata.type": f"#microsoft.graph.domainDns{kind}Record", "id": record_id, "isOptional": False,
            "label": label, "recordType": kind, "supportedService": supported, "ttl": TTL, **extra}


def verification_records(domain: str) -> list[dict[str, Any]]:
    code = verification_code(domain)
    return [
        _record(domain, "Txt", domain, None, 0, text=f"MS={code}"),
        _record(domain, "Mx", domain, None, 1, mailExchange=f"{code}.msv1.invalid", preference=32767),
    ]


def service_records(domain: str, services: list[str]) -> list[dict[str, Any]]:
    """The records each supported service of the domain needs (Email, OfficeCommunicationsOnline, Intune)."""
    records: list[dict[str, Any]] = []
    if "Email" in services:
        records += [
            _record(domain, "Mx", domain, "Email", 0, mailExchange=f"{domain.replace('.', '-')}.mail.protection"
                    ".outlook.com", preference=0),
            _record(domain, "Txt", domain, "Email", 1, text="v=spf1 include:spf.protection.outlook.com -all"),
            _record(domain, "CName", f"autodiscover.{domain}", "Email", 2, canonicalName="autodiscover.outlook.com"),
        ]
    if "OfficeCommunicationsOnline" in services:
        records += [
            _record(domain, "CName", f"sip.{domain}", "OfficeCommunicationsOnline", 3,
                    canonicalName="sipdir.online.lync.com"),
            _record(domain, "CName", f"lyncdiscover.{domain}", "OfficeCommunicationsOnline", 4,
                    canonicalName="webdir.online.lync.com"),
            _record(domain, "Srv", domain, "OfficeCommunicationsOnline", 5, nameTarget="sipdir.online.lync.com",
                    port=443, priority=100, protocol="_tls", service="_sip", weight=1),
            _record(domain, "Srv", domain, "OfficeCommunicationsOnline", 6, nameTarget="sipfed.online.lync.com",
                    port=5061, priority=100, protocol="_tcp", service="_sipfederationtls", weight=1),
        ]
    if "Intune" in services:
        records += [
            _record(domain, "CName", f"enterpriseregistration.{domain}", "Intune", 7,
                    canonicalName="enterpriseregistration.windows.net"),
            _record(domain, "CName", f"enterpriseenrollment.{domain}", "Intune", 8,
                    canonicalName="enterpriseenrollment.manage.microsoft.com"),
        ]
    return records
