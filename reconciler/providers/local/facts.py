"""Facts of the embedded local provider (see reconciler.providers.facts)."""

from reconciler.i18n import N_
from reconciler.model.files import LocalProviderConfig
from reconciler.providers.facts import IncidentFacts, ProviderFacts

RESTORE_DAYS = 30  # as Microsoft: deleted users stay restorable for 30 days

LOCAL = ProviderFacts(
    kind="local",
    display_name="reconciler local directory",
    # It has no pages: its welcome templates say so instead of linking.
    old_address_on_rename="keeps",
    old_address_note="the local directory keeps the old address as an alias, as Google does",
    restore_days=RESTORE_DAYS,
    # It holds no mail: what trials plant under a record's "mailbox" (rules, delegates, app grants)
    # is what a freeze removes from the file.
    incident=IncidentFacts(
        removes=frozenset({"forwarding", "filter", "inbox-rule", "delegate", "oauth-token", "app-password"}),
        lists_app_grants=True, holds_mail=False, console="the directory file",
        notes=(N_("The local directory holds no mail: its forwarding, rules, delegates and app grants are what was "
                  "planted in the directory file."),)),
    default_path=LocalProviderConfig.model_fields["path"].default,  # the schema's default is the one source
)
