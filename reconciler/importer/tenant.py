"""What `reconciler import` needs around `import_tenant`: the provider block from command-line
options (there is no org.yaml yet), the tenant's domains, and the plan the written tree gives.

Heavy SDKs are imported only for the provider asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError

from reconciler.errors import UserError
from reconciler.model.files import OrgFile
from reconciler.model.loader import load_org
from reconciler.model.messages import describe
from reconciler.model.org import Org
from reconciler.plan.build import build_plan
from reconciler.plan.model import Change, Plan
from reconciler.providers.base import ChangeResult, Provider
from reconciler.state import Domain, Kind, State

# Microsoft's initial domain: every tenant has one, people rarely have mail there.
INITIAL_DOMAIN_SUFFIX = ".onmicrosoft.com"


def _validated(block: dict[str, Any]) -> dict[str, Any]:
    try:
        OrgFile(name="import", provider=block)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"][1:] if p not in ("local", "google", "microsoft")]
            problems.append(f"{'.'.join(loc) or 'provider'}: {describe(error, OrgFile)}")
        raise UserError(f"provider settings: {'; '.join(problems)}") from None
    return block


def _local_path(arg: str, into: Path) -> str:
    """A path given on the command line (relative to here) as org.yaml holds it (relative to
    the folder holding org/), absolute where it lies outside that folder."""
    if not arg:
        return ".reconciler/directory.json"
    path = Path(arg).resolve()
    try:
        return path.relative_to(into.resolve().parent).as_posix()
    except ValueError:
        return path.as_posix()


def provider_block(spec: str, into: Path, *, admin: str | None = None, customer: str = "my_customer",
                   tenant: str | None = None, client_id: str | None = None,
                   config_file: Path | None = None) -> dict[str, Any]:
    """org.yaml's `provider:` from `--provider` and its options, or from a YAML file holding one
    (an org.yaml will do) for what the options do not cover (service groups, rate limits)."""
    kind, _, arg = spec.partition(":")
    if config_file is not None:
        try:
            data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"{config_file}: cannot read the provider settings: {exc}") from None
        block = data.get("provider", data) if isinstance(data, dict) else None
        if not isinstance(block, dict) or block.get("kind") != kind:
            raise UserError(f"{config_file}: no provider block of kind {kind} (provider: {{kind: {kind}, ...}})")
        return _validated(dict(block))
    if kind == "local":
        return _validated({"kind": "local", "path": _local_path(arg, into)})
    if kind == "google":
        if not admin:
            raise UserError("--provider google needs --admin ADDRESS: the admin the service account acts as")
        return _validated({"kind": "google", "customer": customer, "admin": admin})
    if kind == "microsoft":
        if not tenant or not client_id:
            raise UserError("--provider microsoft needs --tenant TENANT and --client-id APP_ID")
        return _validated({"kind": "microsoft", "tenant": tenant, "client_id": client_id})
    raise UserError(f"unknown provider {spec!r}; use local, local:PATH, google or microsoft")


def bare_org(into: Path, block: Mapping[str, Any]) -> Org:
    """An Org with only the provider settings: what `open_provider` needs before org/ exists."""
    return Org(root=into.resolve().parent, org_dir=into,
               settings=OrgFile(name="import", provider=dict(block)),
               settings_where=None)


def tenant_domains(provider: Provider) -> list[Domain]:
    """Every domain the tenant holds (primary, secondary, aliases)."""
    listed = getattr(provider, "list_domains", None)
    if listed is not None:
        return list(listed())
    if provider.name == "local":
        data = cast(Any, provider).data["domains"]
        return [Domain(name=name, **record) for name, record in data.items()]
    if provider.name == "google":
        from reconciler.providers.google.fetch import list_all
        from reconciler.providers.google.provider import google_errors
        from reconciler.providers.google.translate import domains_from_google

        google = cast(Any, provider)
        d, customer = google.clients.directory, google.config.customer
        with google_errors("reading the tenant's domains"):
            return domains_from_google(list_all(d.domains(), "domains", customer=customer),
                                       list_all(d.domainAliases(), "domainAliases", customer=customer))
    if provider.name == "microsoft":
        from reconciler.providers.microsoft.translate import domain_from_graph

        raw = cast(Any, provider)._run(lambda http: http.get_all("/domains"))
        return [domain_from_graph(d) for d in raw]
    raise UserError(f"cannot list the domains of provider {provider.name}; name them with --domain")


def select_domains(domains: Sequence[Domain], wanted: Sequence[str] | None) -> list[str]:
    """The domains to import: those named (with their aliases), or all but Microsoft's initial one."""
    names = {d.name for d in domains}
    if wanted:
        chosen = {w.lower() for w in wanted}
        unknown = sorted(chosen - names)
        if unknown:
            raise UserError(f"the tenant has no domain {', '.join(unknown)}; it has {', '.join(sorted(names))}")
        chosen |= {d.name for d in domains if d.alias_of in chosen}
        return sorted(chosen)
    chosen = {n for n in names if not n.endswith(INITIAL_DOMAIN_SUFFIX)} or names
    return sorted(chosen)


class _Fetched:
    """A provider whose fetch answers with the State already read: planning the written tree
    costs no second bulk read. Everything else is the provider's own."""

    def __init__(self, provider: Provider, state: State) -> None:
        self._provider = provider
        self._state = state
        self.name = provider.name
        self.supports: frozenset[Kind] = provider.supports
        self.ignores: frozenset[str] = provider.ignores

    def fetch(self, domains: Sequence[str]) -> State:
        return self._state

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        raise AssertionError("an import never applies")

    def close(self) -> None:
        """The caller closes the provider it opened."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)  # adapt_desired, review_changes


def first_plan(into: Path, provider: Provider, kind: str, state: State) -> Plan:
    """The plan the written org/ gives against the State it was written from (no second fetch)."""
    org, issues = load_org(into)
    return build_plan(org, issues, _Fetched(provider, state), cast(Any, kind)).plan

