"""The Google Workspace provider: Admin SDK Directory and Licensing through
google-api-python-client. It only translates; the core diffs, orders and checks."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from reconciler.activity import FIGURES, ActivityReport, UsageReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import ProviderError
from reconciler.i18n import N_, T_, Text, english, said
from reconciler.mailbox import AppGrants, MailboxHealth
from reconciler.model.files import GoogleProviderConfig
from reconciler.providers.base import AccessResult, BaseProvider, Capability
from reconciler.providers.google.batch import (
    BatchRunner,
    CallResult,
    Fresh,
    RateLimiter,
    RetryPolicy,
    batch_endpoint,
    result_of_error,
)
from reconciler.providers.google.client import Clients, build_clients
from reconciler.providers.google.fetch import GoogleFetcher, Lookup, ReadFailed, list_all
from reconciler.providers.google.handover import Unreadable, delete_blocker, hold_deletes
from reconciler.providers.google.licences import pair_sku_changes, settle_conflicts
from reconciler.providers.google.mutate import Mutations
from reconciler.providers.google.translate import (
    domains_from_google,
)
from reconciler.providers.steps import StepRounds
from reconciler.state import (
    KIND_ORDER,
    Alias,
    Domain,
    License,
    Membership,
    Role,
    State,
    resource_from_dict,
)

REFUSED = {401, 403}


@contextlib.contextmanager
def google_errors(doing: str) -> Iterator[None]:
    """Whole-call failures (auth, permissions, network) as one clear line, not a traceback, said
    in the reader's language and kept in English for JSON that carries it (`said`: a doctor's
    "not available"). `doing` is a Text, or marked with N_ by the caller."""
    what = doing if isinstance(doing, Text) else T_(doing)
    import http.client

    import httplib2  # type: ignore[import-untyped]
    from google.auth.exceptions import GoogleAuthError, TransportError
    from googleapiclient.errors import HttpError

    try:
        yield
    except HttpError as exc:
        raise said(ProviderError(), T_("{doing}: {error}", doing=what, error=result_of_error(exc).error)) from None
    except ReadFailed as exc:  # a list call of the fetch's batches
        if exc.group:
            raise said(ProviderError(), T_("{doing}: members of {group}: {error}", doing=what, group=exc.group,
                                           error=exc.result.error)) from None
        raise said(ProviderError(), T_("{doing}: {error}", doing=what, error=exc.result.error)) from None
    except TransportError as exc:  # a GoogleAuthError, but no refusal: the token request got no answer
        raise said(ProviderError(), T_("{doing}: cannot reach Google: {error}", doing=what, error=str(exc))) from None
    except GoogleAuthError as exc:  # which scopes to grant and where, or what keyless sign-in lacks: said in full
        refusal = getattr(exc, "said", None)
        raise said(ProviderError(), T_("{doing}: Google refused the credentials: {error}", doing=what,
                                       error=refusal if isinstance(refusal, Text) else str(exc))) from None
    except (OSError, http.client.HTTPException, httplib2.HttpLib2Error) as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise said(ProviderError(), T_("{doing}: cannot reach Google: {error}", doing=what, error=error)) from None


class GoogleProvider(BaseProvider):
    name = "google"
    supports = frozenset(KIND_ORDER)

    def __init__(self, config: GoogleProviderConfig, products: Sequence[str], *, read_only: bool = False,
                 clients: Clients | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.products = list(products)
        limit = config.rate_limit
        # One quota book for the provider's life: the plan's reads and the apply's batches are the same
        # minute of Google's quota (its per-minute quota is the admin's, in the project's credentials).
        self.limiter = RateLimiter(limit.calls, limit.per_seconds, clock=clock, sleep=sleep)
        self.clients = clients or build_clients(config.admin, config.service_account, read_only, sleep, self.limiter)
        self.service_groups: dict[str, str] = {str(k): v.lower() for k, v in config.service_groups.items()}
        # Fields Google has no place for: org/ may set them, the plan says they are not managed here.
        ignored = {"group.type", "orgunit.description"}
        if not self.service_groups:
            ignored.add("user.services")
        self.ignores = frozenset(ignored)
        self.clock = clock  # backoff and "created moments ago" are measured on it (tests pass a fake)
        self.runner = BatchRunner(
            self._batch_uri, self.limiter,
            RetryPolicy(attempts=limit.retries, base_seconds=limit.backoff_seconds), sleep=sleep, clock=clock)
        self.lookup = Lookup()
        self.fetcher = GoogleFetcher(self.clients, self.runner, config.customer, products, self.service_groups)
        self.mutations = Mutations(self.clients, config.customer, self.lookup, self.service_groups)
        # Users and groups this provider created, by (kind, address), with the time on `clock`:
        # Google may not find them by key for a while, so a 404 about them is retried (batch.py).
        self.created: dict[tuple[str, str], float] = {}

    def acting_as(self) -> str | None:
        """Every call is made as `provider.admin` (domain-wide delegation or keyless impersonation)."""
        return self.config.admin.lower()

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        """Services without an access group cannot be granted: they are left out, said once. So are
        memberships the last fetch left out (everyone in the organisation as a group member)."""
        warnings = [PlanWarning(code="unmanaged-member", severity="info", subject=group, message=T_(
            "{group} has everyone in the organisation as a member; that membership has no address, so it is "
            "left as it is here (change it in the Admin console)", group=group))
            for group in sorted(set(self.fetcher.whole_customer))]
        if not self.service_groups:
            return warnings
        missing: set[str] = set()
        for user in list(desired.users().values()):
            if user.services is not None:
                missing |= set(user.services) - set(self.service_groups)
                kept = tuple(s for s in user.services if s in self.service_groups)
                desired.add(user.model_copy(update={"services": kept}))
        if not missing:
            return warnings
        return [*warnings, PlanWarning(code="unsupported-field", subject="user.services",
                                       message=T_("services {services} have no access group in "
                                                  "provider.service_groups: they are not managed here",
                                                  services=", ".join(sorted(missing))))]

    def _batch_uri(self, request: Any) -> str:
        return batch_endpoint(request.uri, self.clients.root)

    def list_domains(self) -> list[Domain]:
        """Every domain of the tenant (for `reconciler import`)."""
        d, customer = self.clients.directory, self.config.customer
        with google_errors(N_("reading the tenant's domains")):
            return domains_from_google(list_all(d.domains(), "domains", customer=customer),
                                       list_all(d.domainAliases(), "domainAliases", customer=customer))

    def fetch(self, domains: Sequence[str]) -> State:
        with google_errors(N_("reading the Google Workspace tenant")):
            return self.fetcher.fetch(domains, self.lookup)

    # ------------------------------------------------------------------------------ plan

    def hold_changes(self, changes: Sequence[Change]) -> tuple[list[Change], list[PlanWarning]]:
        """A SKU change becomes one reassignment (licences.py); a user's delete waits until the
        hand-over of their files has completed (handover.py)."""
        paired = pair_sku_changes(changes)
        if self.clients.datatransfer is None:
            return paired, []
        return hold_deletes(paired, self.lookup.user_ids, self._transfers_of)

    def _transfers_of(self, user_id: str) -> list[dict[str, Any]]:
        """The transfers `user_id` handed over; Unreadable if this identity may not read any."""
        from google.auth.exceptions import RefreshError
        from googleapiclient.errors import HttpError

        try:
            return list_all(self.clients.datatransfer.transfers(), "dataTransfers", oldOwnerUserId=user_id)
        except RefreshError as exc:
            raise said(Unreadable(), T_("Google refused a Data Transfer token: {error}", error=str(exc))) from None
        except HttpError as exc:
            result = result_of_error(exc)
            if result.status in REFUSED:
                raise said(Unreadable(), T_("the Data Transfer API refused to list transfers: {error}",
                                            error=result.error)) from None
            raise ProviderError(f"its data transfers cannot be read: {result.error}") from None
        except OSError as exc:
            raise ProviderError(f"its data transfers cannot be read: cannot reach Google: {exc}") from None

    # ------------------------------------------------------------------------------ apply

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        # Calls that fail one by one are each change's result; what fails the whole wave (the ids it
        # needs cannot be read) is a ProviderError, never a library's exception.
        with google_errors(N_("applying changes")):
            return self._apply(wave, passwords)

    def _apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        if wave and all(c.kind == "access" for c in wave):  # a frozen account's: one call each (incident.py)
            from reconciler.providers.google.incident import remove_access

            return [remove_access(self.clients, change) for change in wave]
        if not self.lookup.fetched and any(c.kind == "role" or c.action == "restore" or c.effects
                                           or (c.kind, c.action) == ("user", "delete") for c in wave):
            self.fetcher.load_lookup(self.lookup)
        rounds: StepRounds[Any] = StepRounds(wave, lambda change: self.mutations.steps(change,
                                                                                   passwords.get(change.key)))
        for i, why in self._held_deletes(wave).items():
            rounds.fail(i, why)
        first_error: dict[int, CallResult] = {}  # a licence refused with 409: the user may hold another SKU
        while batch := rounds.next_round():
            fresh = {i: self._fresh(wave[i], rounds.round) for i in {i for i, _ in batch}}  # once per change
            calls = [call for _, call in batch]
            checks = [self.mutations.checks.get(id(call)) for call in calls]  # creates: read back when unsure
            results = self.runner.run(calls, [fresh[i] for i, _ in batch], checks)
            self.mutations.checks.clear()
            found: list[int] = []
            for (i, __), result in zip(batch, results, strict=True):
                if result.ok:
                    self._remember(wave[i], rounds.round, result.body or {})
                    if result.read_back and rounds.round == 0 and (wave[i].kind, wave[i].action) == ("user", "create"):
                        found.append(i)
                elif i not in rounds.failures:
                    rounds.fail(i, result.error)
                    if rounds.round == 0:
                        first_error[i] = result
            self._set_passwords(wave, [i for i in found if i not in rounds.failures], passwords, rounds)
        for i, change in enumerate(wave):
            if change.label in self.mutations.shortfalls:
                rounds.fail(i, self.mutations.shortfalls.pop(change.label))
        settle_conflicts(wave, first_error, rounds.failures, self.mutations.license_assignments, self._skus_of,
                         self.runner.run)
        return rounds.results()

    def _set_passwords(self, wave: Sequence[Change], found: list[int], passwords: Mapping[str, str],
                       rounds: StepRounds[Any]) -> None:
        """New users found made by reading them back: their insert's answer was lost, or another apply
        made them. Their password is set to the one this apply holds, so that the one mailed is theirs."""
        wanted = [i for i in found if passwords.get(wave[i].key)]
        calls = [self.mutations.users.patch(userKey=wave[i].key, body={
            "password": passwords[wave[i].key], "changePasswordAtNextLogin": True}) for i in wanted]
        for i, result in zip(wanted, self.runner.run(calls, [self._fresh(wave[i], 1) for i in wanted]), strict=True):
            if not result.ok:
                rounds.fail(i, f"it exists, but its initial password could not be set: {result.error}")

    def _held_deletes(self, wave: Sequence[Change]) -> dict[int, str]:
        """User deletes that must not happen now: asked again at apply time, so that a plan made by
        an identity that could not read hand-overs is never applied beyond what it said."""
        held: dict[int, str] = {}
        if self.clients.datatransfer is None:
            return held
        for i, change in enumerate(wave):
            user_id = self.lookup.user_ids.get(change.before_key) if (change.kind, change.action) == (
                "user", "delete") else None
            if user_id is None:
                continue
            try:
                why = delete_blocker(self._transfers_of(user_id), change.transfer_to)
            except Unreadable as exc:
                why = T_("the hand-over of its files cannot be checked ({error})",
                         error=english(exc)) if change.transfer_to else None
            except ProviderError as exc:
                why = str(exc)
            if why is not None:
                held[i] = T_("not deleted: {why}; run plan again: it hands the files over first if needed, and "
                             "deletes once that completed", why=why)
        return held

    def _fresh(self, change: Change, step: int) -> Fresh:
        """The keys of this change's calls that name a user or group created moments ago."""
        def at(kind: str, address: str | None) -> float | None:
            return self.created.get((kind, address or ""))

        keys: dict[str, float | None] = {}
        if not self.created:
            return {}
        if change.kind == "user" and step > 0:  # after its own insert: patch, access groups, effects
            keys = {"userKey": at("user", change.key), "memberKey": at("user", change.key)}
            return {k: v for k, v in keys.items() if v is not None}
        if change.kind not in ("membership", "alias", "license", "role"):
            return {}
        resource = resource_from_dict(change.kind, change.after if change.after is not None else change.before or {})
        if isinstance(resource, Membership):
            keys = {"groupKey": at("group", resource.group),
                    "memberKey": at(resource.member_type if resource.member_type != "external" else "user",
                                    resource.member)}
        elif isinstance(resource, Alias):
            keys = {f"{resource.target_kind}Key": at(resource.target_kind, resource.target)}
        elif isinstance(resource, License | Role):
            keys = {"userId": at("user", resource.user), "userKey": at("user", resource.user)}
        return {k: v for k, v in keys.items() if v is not None}

    def _remember(self, change: Change, step: int, body: dict[str, Any]) -> None:
        if body.get("kind") == "admin#directory#user" and body.get("id") and body.get("primaryEmail"):
            self.lookup.user_ids[body["primaryEmail"].lower()] = body["id"]
        if change.action == "create" and change.kind in ("user", "group") and step == 0:
            self.created[(change.kind, change.key)] = self.clock()

    def _skus_of(self, product: str) -> set[str]:
        """The SKU ids a user of `product` may hold: those seen in the tenant and those Google names."""
        known = {s for s in self.lookup.skus if s.startswith(product + "/")} | {
            s for s in self.facts.sku_names if s.startswith(product + "/")}
        return {s.partition("/")[2] for s in known}

    # ------------------------------------------------------------------------------ other hooks

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        """Last sign-in, 2-step verification and storage per user (None: every user; `figures`: which
        are wanted); an API the credentials may not use leaves its figures unavailable, with why."""
        from reconciler.providers.google.activity import read_google_activity

        with google_errors(N_("reading how accounts are used")):
            return read_google_activity(self.clients, self.config.customer, addresses, dt.datetime.now(dt.UTC).date(),
                                 figures)

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport:
        """Storage and mails sent and received per day from the Reports API (one report a day for
        every user, `days` days back from the newest complete one)."""
        from reconciler.providers.google.activity import read_google_usage

        with google_errors(N_("reading mail usage")):
            return read_google_usage(self.clients, addresses, today, days)
    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        """Directory state, Gmail's forwarding, filters and delegates of one mailbox (google/mailbox.py)."""
        from reconciler.providers.google.mailbox import read_mailbox

        with google_errors(T_("reading the mailbox of {address}", address=address)):
            return read_mailbox(self.clients, self.config.customer, address.lower(), group)

    def app_grants(self, address: str) -> AppGrants:
        """A frozen account's OAuth tokens and app passwords (Directory tokens.list, asps.list)."""
        from reconciler.providers.google.incident import read_app_grants

        with google_errors(T_("reading the OAuth tokens and app passwords of {address}", address=address)):
            return read_app_grants(self.clients, address.lower())

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        """One harmless read or token request per capability (access.py)."""
        from reconciler.providers.google.access import AccessCheck

        return AccessCheck(self.clients, self.config, self.products, self.lookup).run(capabilities)

    def close(self) -> None:
        """Close the HTTP connections of the API clients (they would linger until exit)."""
        for client in (self.clients.directory, self.clients.licensing, self.clients.datatransfer,
                       self.clients.reports, self.clients.groups_settings, self.clients.user_security):
            if client is not None:
                client.close()
