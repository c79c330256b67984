"""The Google Workspace provider: Admin SDK Directory and Licensing through
google-api-python-client. It only translates; the core diffs, orders and checks."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from reconciler.activity import FIGURES, ActivityReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import ProviderError
from reconciler.model.files import GoogleProviderConfig
from reconciler.providers.base import BaseProvider
from reconciler.providers.google.batch import BatchRunner, CallResult, RateLimiter, RetryPolicy, result_of_error
from reconciler.providers.google.client import Clients, build_clients
from reconciler.providers.google.fetch import GoogleFetcher, Lookup, list_all
from reconciler.providers.google.handover import hold_deletes
from reconciler.providers.google.mutate import Mutations
from reconciler.providers.google.translate import (
    domains_from_google,
    group_from_google,
    orgunit_from_google,
    user_from_google,
)
from reconciler.providers.steps import StepRounds
from reconciler.state import KIND_ORDER, Domain, Membership, State, changed_fields, resource_from_dict


@contextlib.contextmanager
def google_errors(doing: str) -> Iterator[None]:
    """Whole-call failures (auth, permissions, network) as one clear line, not a traceback."""
    from google.auth.exceptions import GoogleAuthError
    from googleapiclient.errors import HttpError

    try:
        yield
    except HttpError as exc:
        raise ProviderError(f"{doing}: {result_of_error(exc).error}") from None
    except GoogleAuthError as exc:
        raise ProviderError(f"{doing}: Google refused the credentials: {exc}") from None
    except OSError as exc:
        raise ProviderError(f"{doing}: cannot reach Google: {exc}") from None


class GoogleProvider(BaseProvider):
    name = "google"
    supports = frozenset(KIND_ORDER)

    def __init__(self, config: GoogleProviderConfig, products: Sequence[str], *, read_only: bool = False,
                 clients: Clients | None = None) -> None:
        self.config = config
        self.clients = clients or build_clients(config.admin, config.service_account, read_only)
        self.service_groups: dict[str, str] = {str(k): v.lower() for k, v in config.service_groups.items()}
        # Fields Google has no place for: org/ may set them, the plan says they are not managed here.
        ignored = {"group.type", "orgunit.description"}
        if not self.service_groups:
            ignored.add("user.services")
        self.ignores = frozenset(ignored)
        limit = config.rate_limit
        self.runner = BatchRunner(
            self._batch_uri, RateLimiter(limit.calls, limit.per_seconds),
            RetryPolicy(attempts=limit.retries, base_seconds=limit.backoff_seconds))
        self.lookup = Lookup()
        self.fetcher = GoogleFetcher(self.clients, self.runner, config.customer, products, self.service_groups)
        self.mutations = Mutations(self.clients, config.customer, self.lookup, self.service_groups)

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        """Services without an access group cannot be granted: they are left out, said once."""
        if not self.service_groups:
            return []
        missing: set[str] = set()
        for user in list(desired.users().values()):
            if user.services is not None:
                missing |= set(user.services) - set(self.service_groups)
                kept = tuple(s for s in user.services if s in self.service_groups)
                desired.add(user.model_copy(update={"services": kept}))
        if not missing:
            return []
        return [PlanWarning(code="unsupported-field", subject="user.services",
                            message=f"services {', '.join(sorted(missing))} have no access group in "
                                    "provider.service_groups: they are not managed here")]

    def _batch_uri(self, request: Any) -> str:
        root = self.clients.root
        if root != "https://admin.googleapis.com/":
            return root + "batch"  # the emulator takes every batch at /batch
        if "licensing.googleapis.com" in request.uri:
            return "https://licensing.googleapis.com/batch"
        return "https://admin.googleapis.com/batch/admin/directory_v1"

    def list_domains(self) -> list[Domain]:
        """Every domain of the tenant (for `reconciler import`)."""
        d, customer = self.clients.directory, self.config.customer
        with google_errors("reading the tenant's domains"):
            return domains_from_google(list_all(d.domains(), "domains", customer=customer),
                                       list_all(d.domainAliases(), "domainAliases", customer=customer))

    def fetch(self, domains: Sequence[str]) -> State:
        with google_errors("reading the Google Workspace tenant"):
            return self.fetcher.fetch(domains, self.lookup)

    def hold_changes(self, changes: Sequence[Change]) -> tuple[list[Change], list[PlanWarning]]:
        """A user's delete waits until the hand-over of their files has completed (handover.py)."""
        if self.clients.datatransfer is None:
            return list(changes), []
        transfers = self.clients.datatransfer.transfers()

        def list_transfers(user_id: str) -> list[dict[str, Any]]:
            with google_errors("its data transfers cannot be read"):
                return list_all(transfers, "dataTransfers", oldOwnerUserId=user_id)

        return hold_deletes(changes, self.lookup.user_ids, list_transfers)

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        if not self.lookup.fetched and any(c.kind == "role" or c.action == "restore" or c.effects for c in wave):
            with google_errors("reading role and user ids"):
                self.fetcher.load_lookup(self.lookup)
        rounds: StepRounds[Any] = StepRounds(wave, lambda change: self.mutations.steps(change,
                                                                                   passwords.get(change.key)))
        first_error: dict[int, CallResult] = {}  # a create's first step refused: maybe it exists already
        while batch := rounds.next_round():
            for (i, _), result in zip(batch, self.runner.run([call for _, call in batch]), strict=True):
                if result.ok:
                    self._remember(result.body or {})
                elif i not in rounds.failures:
                    rounds.fail(i, result.error)
                    if rounds.round == 0:
                        first_error[i] = result
        self._accept_existing(wave, first_error, rounds.failures)
        return rounds.results()

    def _remember(self, body: dict[str, Any]) -> None:
        if body.get("kind") == "admin#directory#user" and body.get("id") and body.get("primaryEmail"):
            self.lookup.user_ids[body["primaryEmail"].lower()] = body["id"]

    def _accept_existing(self, wave: Sequence[Change], first_error: dict[int, CallResult],
                         failures: dict[int, str]) -> None:
        """A 409 on create is success only if what exists is what we wanted (a re-run after a crash)."""
        d = self.clients.directory
        checks: list[tuple[int, Any]] = []
        for i, result in first_error.items():
            change = wave[i]
            if change.action != "create" or result.status != 409 or change.after is None:
                continue
            want = resource_from_dict(change.kind, change.after)
            if change.kind == "user":
                checks.append((i, d.users().get(userKey=change.key)))
            elif change.kind == "group":
                checks.append((i, d.groups().get(groupKey=change.key)))
            elif isinstance(want, Membership):
                checks.append((i, d.members().get(groupKey=want.group, memberKey=want.member)))
            elif change.kind == "alias":
                checks.append((i, d.users().get(userKey=change.key, fields="primaryEmail")
                               if change.after.get("target_kind") == "user" else
                               d.groups().get(groupKey=change.key, fields="email")))
            elif change.kind == "orgunit":
                checks.append((i, d.orgunits().get(customerId=self.config.customer,
                                                   orgUnitPath=change.key.lstrip("/"))))
        if not checks:
            return
        for (i, _), result in zip(checks, self.runner.run([c for _, c in checks]), strict=True):
            if result.ok and self._matches(wave[i], result.body or {}):
                failures.pop(i, None)

    def _matches(self, change: Change, body: dict[str, Any]) -> bool:
        assert change.after is not None
        want = resource_from_dict(change.kind, change.after)
        if change.kind == "user":
            have: Any = user_from_google(body, want.services)  # type: ignore[attr-defined]
        elif change.kind == "group":
            have = group_from_google(body)
            want = want.model_copy(update={"type": None})
        elif change.kind == "orgunit":
            have = orgunit_from_google(body)
            want = want.model_copy(update={"description": None})
        elif change.kind == "membership":
            return body.get("role", "MEMBER") == change.after.get("role", "MEMBER")
        else:  # alias: the address leads to the intended owner
            return str(body.get("primaryEmail") or body.get("email", "")).lower() == change.after["target"]
        return not changed_fields(want, have)

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        """Last sign-in, 2-step verification and storage per user (None: every user; `figures`: which
        are wanted); an API the credentials may not use leaves its figures unavailable, with why."""
        import datetime as dt

        from reconciler.providers.google.activity import read_google_activity

        with google_errors("reading how accounts are used"):
            return read_google_activity(self.clients, self.config.customer, addresses, dt.datetime.now(dt.UTC).date(),
                                 figures)

    def close(self) -> None:
        """Close the HTTP connections of the API clients (they would linger until exit)."""
        for client in (self.clients.directory, self.clients.licensing, self.clients.datatransfer,
                       self.clients.reports):
            if client is not None:
                client.close()
