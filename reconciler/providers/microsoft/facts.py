"""Facts of Microsoft 365 (see reconciler.providers.facts)."""

from reconciler.i18n import N_
from reconciler.providers.facts import DnsFacts, IncidentFacts, ProviderFacts

MICROSOFT = ProviderFacts(
    kind="microsoft",
    display_name="Microsoft 365",
    links={
        "sign_in": "https://www.office.com",
        "mail": "https://outlook.office.com/mail/",
        "calendar": "https://outlook.office.com/calendar/",
        "contacts": "https://outlook.office.com/people/",
    },
    old_address_on_rename="keeps-unlisted",
    old_address_note=("Exchange Online normally keeps the old address on the mailbox as a secondary (proxy) "
                      "address; see the mailbox's email addresses in the Exchange admin center, and remove it "
                      "there if it must stop receiving mail"),
    restore_days=30,  # deleted users stay in Entra ID's deleted items for 30 days
    incident=IncidentFacts(
        removes=frozenset({"inbox-rule"}),  # DELETE /users/{id}/mailFolders/inbox/messageRules/{id}
        console="Exchange admin center > Recipients > Mailboxes > the mailbox (Mail flow settings > Email "
                "forwarding; Delegation)",
        notes=(N_("revokeSignInSessions (done by the freeze) also invalidates every refresh token the person's apps "
                  "hold, so OAuth grants and app sessions must sign in again; Microsoft Graph has no per-app token "
                  "list to revoke one by one."),
               N_("Graph does not expose the mailbox's forwarding address (Exchange's ForwardingSmtpAddress) or its "
                  "delegates (mailbox permissions): check them in Exchange admin center > Recipients > Mailboxes > "
                  "the mailbox > Mail flow settings > Email forwarding, and > Delegation."))),
    # Licence names admins know, by skuPartNumber.
    sku_names={
        "O365_BUSINESS_ESSENTIALS": "business-basic",
        "O365_BUSINESS_PREMIUM": "business-premium",
        "O365_BUSINESS": "apps-for-business",
        "SPB": "business-premium",
        "STANDARDPACK": "office-e1",
        "ENTERPRISEPACK": "office-e3",
        "SPE_E3": "m365-e3",
        "SPE_E5": "m365-e5",
        "EXCHANGESTANDARD": "exchange-online",
    },
    tells_dns_records=True,  # Graph: serviceConfigurationRecords and verificationDnsRecords
    dns=DnsFacts(
        mx=None,  # <domain-with-dashes>.mail.protection.outlook.com: per domain (reconciler.dns.expected)
        mx_priority=0,
        spf="v=spf1 include:spf.protection.outlook.com -all",
        autodiscover="autodiscover.outlook.com",
        verification=r"MS=ms[0-9]+",
        verification_hint="MS=ms<number from the Microsoft 365 admin center>",
    ),
)
