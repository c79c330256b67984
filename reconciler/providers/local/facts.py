"""Facts of the embedded local provider (see reconciler.providers.facts)."""

from reconciler.model.files import LocalProviderConfig
from reconciler.providers.facts import ProviderFacts

RESTORE_DAYS = 30  # as Microsoft: deleted users stay restorable for 30 days

LOCAL = ProviderFacts(
    kind="local",
    display_name="reconciler local directory",
    # It has no pages: its welcome templates say so instead of linking.
    old_address_on_rename="keeps",
    old_address_note="the local directory keeps the old address as an alias, as Google does",
    restore_days=RESTORE_DAYS,
    default_path=LocalProviderConfig.model_fields["path"].default,  # the schema's default is the one source
)
