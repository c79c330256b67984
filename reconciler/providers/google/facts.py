"""Facts of Google Workspace (see reconciler.providers.facts)."""

from reconciler.i18n import N_
from reconciler.providers.facts import DnsFacts, IncidentFacts, ProviderFacts

GOOGLE = ProviderFacts(
    kind="google",
    display_name="Google Workspace",
    links={
        "sign_in": "https://accounts.google.com",
        "mail": "https://mail.google.com",
        "calendar": "https://calendar.google.com",
        "contacts": "https://contacts.google.com",
    },
    old_address_on_rename="keeps",
    old_address_note="Google keeps the old address as an alias",
    restore_days=20,
    incident=IncidentFacts(
        removes=frozenset({"forwarding", "filter", "delegate", "oauth-token", "app-password"}),
        lists_app_grants=True,
        console="Admin console > Directory > Users > (the person) > Security; Gmail settings as the person",
        notes=(N_("Google's sign-out (users.signOut) ends web and device sessions; the OAuth tokens and app "
                  "passwords listed here are revoked one by one, since a token outlives a sign-out."),
               N_("Google's login audit gives sign-in addresses but no places: see Admin console > Reporting > "
                  "Audit and investigation > User log events.")),
    ),  # Google keeps a deleted user restorable for 20 days
    # Licence names admins know, by "productId/skuId".
    sku_names={
        "Google-Apps/1010020027": "business-starter",
        "Google-Apps/1010020028": "business-standard",
        "Google-Apps/1010020025": "business-plus",
        "Google-Apps/1010020026": "enterprise-standard",
        "Google-Apps/1010020020": "enterprise-plus",
        "Google-Apps/1010060003": "enterprise-essentials",
        "Google-Apps/Google-Apps-Lite": "apps-lite",
    },
    dns=DnsFacts(
        mx="smtp.google.com",
        mx_priority=1,
        # Google's older five-host set (and the googlemail.com backups of very old tenants) still work.
        mx_accepted=(r"smtp\.google\.com", r"(alt[1-4]\.)?aspmx\.l\.google\.com", r"aspmx[2-5]\.googlemail\.com"),
        spf="v=spf1 include:_spf.google.com ~all",
        verification=r"google-site-verification=\S+",
        verification_hint="google-site-verification=<token from the Admin console>",
        dkim_hint="v=DKIM1; k=rsa; p=<public key from the Admin console: Apps > Google Workspace > Gmail > "
                  "Authenticate email>",
    ),
)
