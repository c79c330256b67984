"""What `reconciler import` needs around `import_tenant`: the provider block from command-line
options (there is no org.yaml yet), the domains to import, and the plan the written tree gives.

Heavy SDKs are imported only for the provider asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reconciler.changes import Plan
from reconciler.errors import UserError
from reconciler.i18n import _
from reconciler.importer.report import ImportReport
from reconciler.importer.run import import_tenant
from reconciler.model.files import OrgFile
from reconciler.model.messages import describe
from reconciler.model.org import Org
from reconciler.plan.build import build_plan
from reconciler.plan.prepare import load_checked
from reconciler.providers.base import BaseProvider
from reconciler.providers.facts import facts_of
from reconciler.state import Domain, State

# Microsoft's initial domain: every tenant has one, people rarely have mail there.
INITIAL_DOMAIN_SUFFIX = ".onmicrosoft.com"


def _validated(block: dict[str, Any]) -> dict[str, Any]:
    try:
        OrgFile(name="import", provider=block)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"][1:] if p not in ("local", "google", "microsoft", "exmail", "alimail")]
            problems.append(f"{'.'.join(loc) or 'provider'}: {describe(error, OrgFile)}")
        raise UserError(_("provider settings: {problems}").format(problems=_("; ").join(problems))) from None
    return block


def _local_path(arg: str, into: Path) -> str:
    """A path given on the command line (relative to here) as org.yaml holds it (relative to
    the folder holding org/), absolute where it lies outside that folder."""
    if not arg:
        return str(facts_of("local").default_path)
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
    kind, __, arg = spec.partition(":")
    if config_file is not None:
        try:
            data = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(_("{file}: cannot read the provider settings: {error}").format(file=config_file,
                                                                                          error=exc)) from None
        block = data.get("provider", data) if isinstance(data, dict) else None
        if not isinstance(block, dict) or block.get("kind") != kind:
            raise UserError(_("{file}: no provider block of kind {kind} (provider: {{kind: {kind}, ...}})").format(
                file=config_file, kind=kind))
        return _validated(dict(block))
    if kind == "local":
        return _validated({"kind": "local", "path": _local_path(arg, into)})
    if kind == "google":
        if not admin:
            raise UserError(_("--provider google needs --admin ADDRESS: the admin the service account acts as"))
        return _validated({"kind": "google", "customer": customer, "admin": admin})
    if kind == "microsoft":
        if not tenant or not client_id:
            raise UserError(_("--provider microsoft needs --tenant TENANT and --client-id APP_ID"))
        return _validated({"kind": "microsoft", "tenant": tenant, "client_id": client_id})
    if kind == "exmail":
        raise UserError(_("--provider exmail needs --provider-config FILE holding provider: {{kind: exmail, corp_id: "
                          "..., domain: ...}}").format())
    if kind == "alimail":
        raise UserError(_("--provider alimail needs --provider-config FILE holding provider: {{kind: alimail, "
                          "app_id: ..., domain: ...}}").format())
    raise UserError(_("unknown provider {spec!r}; use local, local:PATH, google, microsoft, exmail or alimail").format(
        spec=spec))


def bare_org(into: Path, block: Mapping[str, Any]) -> Org:
    """An Org with only the provider settings: what `open_provider` needs before org/ exists."""
    return Org(root=into.resolve().parent, org_dir=into,
               settings=OrgFile(name="import", provider=dict(block)),
               settings_where=None)


def select_domains(domains: Sequence[Domain], wanted: Sequence[str] | None) -> list[str]:
    """The domains to import: those named (with their aliases), or all but Microsoft's initial one."""
    names = {d.name for d in domains}
    if not names:
        raise UserError(_("the provider holds no domain, so there is nothing to import (a new local directory file is "
                          "empty until an apply writes it); write org/ by hand, starting from the README"))
    if wanted:
        chosen = {w.lower() for w in wanted}
        unknown = sorted(chosen - names)
        if unknown:
            raise UserError(_("the tenant has no domain {unknown}; it has {domains}").format(
                unknown=", ".join(unknown), domains=", ".join(sorted(names))))
        chosen |= {d.name for d in domains if d.alias_of in chosen}
        return sorted(chosen)
    chosen = {n for n in names if not n.endswith(INITIAL_DOMAIN_SUFFIX)} or names
    return sorted(chosen)


def first_plan(into: Path, provider: BaseProvider, state: State) -> Plan:
    """The plan the written org/ gives against the State it was written from (no second fetch)."""
    org, issues = load_checked(into)
    return build_plan(org, issues, provider, actual=state).plan


def adopt_tenant(provider: BaseProvider, into: Path, config: dict[str, Any], *, wanted: Sequence[str] | None,
                 force: bool, name: str | None, progress: Callable[[int, int], None],
                 say: Callable[[str], None]) -> tuple[ImportReport, Plan]:
    """`reconciler import`: read the chosen domains of the tenant, write org/ for them, and plan
    the written tree against what was read (it should show no changes)."""
    chosen = select_domains(provider.list_domains(), wanted)
    say(_("Reading {domains} from {provider} ...").format(domains=", ".join(chosen), provider=provider.name))
    state = provider.fetch(chosen)
    report = import_tenant(state, provider_config=config, into=into, force=force, progress=progress, name=name)
    say(report.summary())
    if report.problems:
        raise UserError(_("the org/ written to {folder} does not validate (problems above); this is a bug in "
                          "reconciler import: please report it").format(folder=into))
    return report, first_plan(into, provider, state)
