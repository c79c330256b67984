"""Providers and their selection: `--provider local|local:PATH|google|microsoft`, else org.yaml.

`open_provider` is the one way to get a provider: a context manager that closes it (locks,
connections) however the work ends. Heavy SDKs are imported only for the provider opened.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import UserError
from reconciler.i18n import _
from reconciler.model.files import (
    AlimailProviderConfig,
    ExmailProviderConfig,
    GoogleProviderConfig,
    LocalProviderConfig,
    MicrosoftProviderConfig,
)
from reconciler.model.org import Org
from reconciler.providers.base import BaseProvider
from reconciler.providers.facts import facts_of

__all__ = ["KNOWN", "BaseProvider", "open_provider", "provider_kind"]

KNOWN = ("local", "local:PATH", "google", "microsoft", "exmail", "alimail")
KINDS = ("local", "google", "microsoft", "exmail", "alimail")


def provider_kind(spec: str | None, org: Org) -> str:
    """The kind a `--provider` value (or, without one, org.yaml) names: "local:PATH" is local.
    Every command checks the name this one way: `--provider aliyun` or `Google` is an error."""
    kind = (spec or org.settings.provider.kind).partition(":")[0]
    if kind not in KINDS:
        if kind.lower() in KINDS:
            raise UserError(_("unknown provider {name} (did you mean {kind}?); use one of {known}").format(
                name=repr(spec), kind=repr(kind.lower()), known=", ".join(KNOWN)))
        raise UserError(_("unknown provider {name}; use one of {known}").format(
            name=repr(spec), known=", ".join(KNOWN)))
    return kind


@contextlib.contextmanager
def open_provider(spec: str | None, org: Org, *, read_only: bool = False) -> Iterator[BaseProvider]:
    """The provider to talk to, closed when the block ends. `read_only`: the identity for plan,
    drift and audit jobs, where the provider has one."""
    provider = _make_provider(spec, org, read_only=read_only)
    try:
        yield provider
    finally:
        provider.close()


def _make_provider(spec: str | None, org: Org, *, read_only: bool) -> BaseProvider:
    config = org.settings.provider
    kind, arg = provider_kind(spec, org), (spec or config.kind).partition(":")[2]
    if kind == "local":
        from reconciler.providers.local import LocalProvider

        return LocalProvider(_local_path(arg, org))
    if kind == "google":
        if not isinstance(config, GoogleProviderConfig):
            raise _needs_settings("google", "provider: {kind: google, admin: ...}")
        from reconciler.providers.google import GoogleProvider

        override = os.environ.get("RECONCILER_GOOGLE_SERVICE_ACCOUNT", "").strip()
        if override:  # a read-only identity for plan and drift jobs
            config = config.model_copy(update={"service_account": override})
        skus = [p.licenses["google"] for p in org.permissions.profiles.values() if "google" in p.licenses]
        products = sorted({sku.partition("/")[0] for sku in skus} | {"Google-Apps"})
        return GoogleProvider(config, products, read_only=read_only)
    if kind == "microsoft":
        if not isinstance(config, MicrosoftProviderConfig):
            raise _needs_settings("microsoft", "provider: {kind: microsoft, tenant: ..., client_id: ...}")
        from reconciler.providers.microsoft import MicrosoftProvider

        client_id = os.environ.get("AZURE_CLIENT_ID", "").strip()
        if client_id:  # a read-only app registration for plan and drift jobs
            config = config.model_copy(update={"client_id": client_id})
        return MicrosoftProvider(config)
    if kind == "exmail":
        if not isinstance(config, ExmailProviderConfig):
            raise _needs_settings("exmail", "provider: {kind: exmail, corp_id: ..., domain: ...}")
        from reconciler.providers.exmail import ExmailProvider

        return ExmailProvider(config)
    if kind == "alimail":
        if not isinstance(config, AlimailProviderConfig):
            raise _needs_settings("alimail", "provider: {kind: alimail, app_id: ..., domain: ...}")
        from reconciler.providers.alimail import AlimailProvider

        return AlimailProvider(config)
    raise AssertionError(f"provider_kind let {kind!r} through")


def _needs_settings(kind: str, example: str) -> UserError:
    return UserError(_("--provider {kind} needs {example} in org.yaml").format(kind=kind, example=example))


def _local_path(arg: str, org: Org) -> Path:
    """`local:PATH` as given (relative to here), else org.yaml's path or the default, relative to
    the folder holding org/."""
    if arg:
        return Path(arg)
    config = org.settings.provider
    path = Path(config.path if isinstance(config, LocalProviderConfig) else str(facts_of("local").default_path))
    return path if path.is_absolute() else org.root / path
