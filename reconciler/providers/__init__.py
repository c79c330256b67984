"""Provider selection: `--provider local|local:PATH|google|microsoft`, else org.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.errors import UserError
from reconciler.model.files import GoogleProviderConfig, LocalProviderConfig, MicrosoftProviderConfig, ProviderKind
from reconciler.model.org import Org
from reconciler.providers.base import ChangeResult, Provider

__all__ = ["KNOWN", "ChangeResult", "Provider", "open_provider"]

KNOWN = ("local", "local:PATH", "google", "microsoft")


def open_provider(spec: str | None, org: Org, *, read_only: bool = False) -> tuple[Provider, ProviderKind]:
    """The provider to talk to and its kind (the key for licences in permissions.yaml)."""
    config = org.settings.provider
    kind, _, arg = (spec or config.kind).partition(":")
    if kind == "local":
        from reconciler.providers.local import LocalProvider

        if arg:
            path = Path(arg)
        elif isinstance(config, LocalProviderConfig):
            path = Path(config.path)
        else:
            path = Path(LocalProviderConfig(kind="local").path)
        if not path.is_absolute() and not arg:
            path = org.root / path  # org.yaml paths are relative to the folder holding org/
        return LocalProvider(path), "local"
    if kind == "google":
        if not isinstance(config, GoogleProviderConfig):
            raise UserError("--provider google needs provider: {kind: google, admin: ...} in org.yaml")
        from reconciler.providers.google import GoogleProvider

        override = os.environ.get("RECONCILER_GOOGLE_SERVICE_ACCOUNT", "").strip()
        if override:  # a read-only identity for plan and drift jobs
            config = config.model_copy(update={"service_account": override})
        skus = [p.licenses["google"] for p in org.permissions.profiles.values() if "google" in p.licenses]
        products = sorted({sku.partition("/")[0] for sku in skus} | {"Google-Apps"})
        return GoogleProvider(config, products, read_only=read_only), "google"
    if kind == "microsoft":
        if not isinstance(config, MicrosoftProviderConfig):
            raise UserError("--provider microsoft needs provider: {kind: microsoft, tenant: ..., client_id: ...} "
                            "in org.yaml")
        from reconciler.providers.microsoft import MicrosoftProvider

        client_id = os.environ.get("AZURE_CLIENT_ID", "").strip()
        if client_id:  # a read-only app registration for plan and drift jobs
            config = config.model_copy(update={"client_id": client_id})
        return MicrosoftProvider(config), "microsoft"
    raise UserError(f"unknown provider {spec!r}; use one of {', '.join(KNOWN)}")

