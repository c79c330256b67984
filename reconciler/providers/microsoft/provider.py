"""The Microsoft 365 provider: Entra ID users, groups, licences and roles through Microsoft
Graph, over msgraph-sdk's HTTP pipeline. It only translates; the core diffs and orders.

Aliases (Exchange proxy addresses) and distribution lists are Exchange objects that Graph
cannot write: the provider declares them unsupported and the plan says so plainly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from reconciler.activity import FIGURES, ActivityReport, UsageReport
from reconciler.changes import Change, ChangeResult, PlanWarning
from reconciler.errors import ProviderError
from reconciler.i18n import T_
from reconciler.mailbox import MailboxHealth
from reconciler.model.files import MicrosoftProviderConfig
from reconciler.model.records import ProviderDomainRecords
from reconciler.providers.base import AccessResult, BaseProvider, Capability
from reconciler.providers.microsoft.client import CLOUDS, TIMEOUT, build_http
from reconciler.providers.microsoft.fetch import Lookup, fetch_state
from reconciler.providers.microsoft.fit import fit_default_domain, fit_group_addresses, group_binds
from reconciler.providers.microsoft.fresh import ask_again, names_any, not_found
from reconciler.providers.microsoft.graph import Answer, Call, GraphHttp, GraphLimits, GraphPacing
from reconciler.providers.microsoft.licences import disabled_plans, services_of
from reconciler.providers.microsoft.mutate import Mutations, Step
from reconciler.providers.microsoft.swaps import pair_licence_swaps
from reconciler.providers.microsoft.translate import SECURITY, domain_from_graph, group_kind
from reconciler.providers.said import said
from reconciler.providers.steps import StepRounds
from reconciler.state import KIND_ORDER, Domain, State

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
ALREADY_THERE = "already exist"  # Graph's answer to adding a member twice
DEFAULT_LIMITS = GraphLimits()


class MicrosoftProvider(BaseProvider):
    name = "microsoft"
    supports = frozenset(KIND_ORDER) - {"alias", "orgunit"}
    # No org units (departments are the department attribute), no group kinds to tell apart
    # beyond security vs Microsoft 365, no alias domains (every domain is verified on its own).
    ignores: frozenset[str] = frozenset({"user.orgunit", "domain.alias_of"})

    def __init__(self, config: MicrosoftProviderConfig, *, sleep: Sleep | None = None,
                 clock: Callable[[], float] | None = None, timeout: float = TIMEOUT,
                 limits: GraphLimits = DEFAULT_LIMITS) -> None:
        """`sleep` waits out throttling, lost answers and replication (tests pass one that moves a
        fake clock) and `clock` is the time Graph's budgets are kept on (by default: real time, plus
        whatever an injected `sleep` skipped); `timeout`: how long one request may go unanswered
        before it counts as lost; `limits`: Graph's documented budgets for one app in one tenant."""
        self.config = config
        self.sleep: Sleep | None = sleep
        if sleep is not None and clock is None:  # a sleeper that does not wait: its time still passes
            skipped = [0.0]
            injected = sleep

            async def counted(seconds: float) -> None:
                skipped[0] += max(0.0, seconds)
                await injected(seconds)

            self.sleep = counted
            clock = lambda: time.monotonic() + skipped[0]  # noqa: E731
        # One pacing for the provider's life: every fetch and wave draws on the same budgets.
        self.pacing = GraphPacing(limits, clock or time.monotonic)
        self.timeout = timeout
        self.lookup = Lookup()
        self.mutations = Mutations(self.lookup, config.usage_location, f"{CLOUDS[config.cloud].graph}/v1.0")
        self.created: set[str] = set()  # ids of the objects this provider created (or restored)
        self.requests = 0

    def _run(self, work: Callable[[GraphHttp], Awaitable[T]]) -> T:
        async def go() -> T:
            client, base, transport = build_http(self.config.tenant, self.config.client_id, self.config.cloud,
                                                   timeout=self.timeout)
            http = GraphHttp(client, base, sleep=self.sleep or asyncio.sleep, pacing=self.pacing)
            self.mutations.graph = base  # references (@odata.id) name objects where the requests go
            try:
                return await work(http)
            finally:
                self.requests += http.requests
                await client.aclose()
                await transport.aclose()

        try:
            return asyncio.run(go())
        except OSError as exc:
            raise said(ProviderError(), T_("cannot reach Microsoft Graph: {error}", error=str(exc))) from None

    def list_domains(self) -> list[Domain]:
        """Every domain of the tenant (for `reconciler import`)."""
        async def read(http: GraphHttp) -> list[Domain]:
            return [domain_from_graph(d) for d in await http.get_all("/domains")]

        return self._run(read)

    def fetch(self, domains: Sequence[str]) -> State:
        state = self._run(lambda http: fetch_state(http, domains, self.lookup))
        self.pacing.tenant_size(self.lookup.users_read)  # the tenant's size sets Graph's budget
        return state

    def dns_records(self, domain: str) -> ProviderDomainRecords | None:
        """What Microsoft 365 says this domain must publish (for `reconciler dns`)."""
        from reconciler.providers.microsoft.dns import domain_records

        return self._run(lambda http: domain_records(http, domain))

    def adapt_desired(self, desired: State) -> list[PlanWarning]:
        """What org/ asks for, as Microsoft 365 can hold it; what it cannot is said once."""
        self._services_as_licences_give_them(desired)
        for group in list(desired.of("group").values()):
            # mailbox, list and team are all Microsoft 365 groups here; security stays security.
            kind = group_kind(getattr(group, "type", None))
            if kind is not None:
                desired.add(group.model_copy(update={"type": kind}))
        warnings = self._drop_impossible_members(desired)
        warnings += fit_default_domain(desired, self.lookup.default_domain)
        warnings += fit_group_addresses(desired, self.lookup)
        # Kept for the groups' creation, which binds their owners (an apply plans with this provider).
        self.mutations.binds = group_binds(desired)
        return warnings

    def hold_changes(self, changes: Sequence[Change]) -> tuple[list[Change], list[PlanWarning]]:
        """Nothing waits; a licence swap becomes one change (swaps.py), never a window without one."""
        return pair_licence_swaps(changes), []

    def _services_as_licences_give_them(self, desired: State) -> None:
        """Services ride on licences' service plans, and some plans carry two services (Exchange:
        mail and calendar). Without a licence in org/ services cannot be granted at all."""
        skus: dict[str, list[str]] = {}
        for lic in desired.of("license").values():
            sku_id = self.lookup.sku_ids.get(str(getattr(lic, "sku", "")))
            if sku_id:
                skus.setdefault(str(getattr(lic, "user", "")), []).append(sku_id)
        for user in list(desired.users().values()):
            if user.services is None:
                continue
            held = skus.get(user.email)
            # Kept for the licence assignment, which switches the unwanted plans off.
            self.mutations.wanted_services[user.email] = user.services
            assigned = [{"skuId": s, "disabledPlans": disabled_plans(self.lookup.skus[s], user.services)}
                        for s in held or []]
            services = services_of({"assignedLicenses": assigned}, self.lookup.skus) if held else None
            desired.add(user.model_copy(update={"services": services}))

    def _drop_impossible_members(self, desired: State) -> list[PlanWarning]:
        groups = desired.of("group")
        dropped = []
        for key, m in list(desired.of("membership").items()):
            member_type = getattr(m, "member_type", "user")
            parent = groups.get(getattr(m, "group", ""))
            nested = member_type == "group" and getattr(parent, "type", None) != SECURITY
            if member_type == "external" or nested:
                del desired.resources["membership"][key]
                dropped.append(key)
        if not dropped:
            return []
        shown = ", ".join(dropped[:10]) + (" ..." if len(dropped) > 10 else "")
        return [PlanWarning(code="unsupported", subject="membership",
                            message=T_("Microsoft 365 groups hold only people of the tenant (invite outside "
                                       "addresses as guests; nest groups only in security groups); not planned "
                                       "({count}): {memberships}", count=len(dropped), memberships=shown))]

    def review_changes(self, changes: Sequence[Change]) -> list[PlanWarning]:
        """Seats: say before apply when the plan needs more licences than the tenant has left."""
        needed: dict[str, int] = {}
        for change in changes:
            if change.kind != "license":
                continue
            if change.after is not None and change.action in ("create", "update"):
                sku = str(change.after["sku"])
                needed[sku] = needed.get(sku, 0) + 1
            if change.before is not None and change.action in ("delete", "update"):
                sku = str(change.before["sku"])
                needed[sku] = needed.get(sku, 0) - 1
        warnings = [
            PlanWarning(code="no-data-transfer", severity="medium", subject=c.key,
                        message=_no_transfer(c.key, c.transfer_to))
            for c in changes if "transfer_data" in c.effects]
        for sku, count in sorted(needed.items()):
            subscribed = self.lookup.skus.get(self.lookup.sku_ids.get(sku, ""), {})
            enabled = int((subscribed.get("prepaidUnits") or {}).get("enabled", 0))
            free = enabled - int(subscribed.get("consumedUnits", 0))
            if subscribed and count > free:
                warnings.append(PlanWarning(code="license-seats", severity="high", subject=sku,
                    message=T_("{sku}: the plan assigns {count} more licences but the tenant has {free} free; "
                               "buy {more} more seats or those assignments will fail", sku=sku, count=count,
                               free=free, more=count - free)))
        return warnings

    def apply(self, wave: Sequence[Change], passwords: Mapping[str, str]) -> list[ChangeResult]:
        if not self.lookup.fetched:  # a saved plan applied by a fresh provider: read the ids first
            self.fetch([])
        # People created in this wave: a manager reference to one waits for its creation.
        self.mutations.creating = {c.key for c in wave if c.kind == "user" and c.action == "create"}
        depth = 0

        def steps_of(change: Change) -> list[Step]:
            nonlocal depth
            steps = self.mutations.steps(change, passwords.get(change.key))
            depth = max(depth, len(steps))
            return steps

        rounds: StepRounds[Call] = StepRounds(wave, steps_of)
        self._run(lambda http: self._run_rounds(http, rounds, depth))
        return rounds.results()

    async def _run_rounds(self, http: GraphHttp, rounds: StepRounds[Call], depth: int) -> None:
        for _round in range(depth):  # a round may have no calls (a step with nothing to do) and later ones some
            batch = rounds.next_round()
            if not batch:
                continue
            answers = await http.batch([call for _, call in batch])
            # A 404 for an object this apply made, or one the change needs, is replication lag.
            lagging = [k for k, (i, call) in enumerate(batch)
                       if not_found(answers[k]) and names_any(call, self.created | self._needed_ids(rounds.wave[i]))]

            async def resend(positions: list[int], batch: list[tuple[int, Call]] = batch) -> list[Answer]:
                return await http.batch([batch[k][1] for k in positions])

            answers = await ask_again(answers, lagging, resend, http.sleep, lambda k: k)
            for (i, __), answer in zip(batch, answers, strict=True):
                if answer.ok or self._already_done(answer) or self._gone_already(rounds.wave[i], answer):
                    self._remember(rounds.wave[i], answer)
                else:
                    rounds.fail(i, answer.error)

    def _needed_ids(self, change: Change) -> set[str]:
        """The ids of the users and groups a change depends on (its group, member, licence holder,
        the manager it names: one created moments ago, even by an earlier apply, may still lag)."""
        if change.after is None:
            return set()
        keys = [key for kind, key in change.resource_after().refs() if kind in ("user", "group")]
        if change.kind == "user" and change.after.get("manager"):
            keys.append(str(change.after["manager"]))
        return {oid for key in keys if (oid := self.lookup.ids.get(key))}

    @staticmethod
    def _already_done(answer: Answer) -> bool:
        """A re-run after a crash: the reference we add exists already, exactly as wanted."""
        message = str((answer.body.get("error") or {}).get("message", ""))
        return answer.status == 400 and ALREADY_THERE in message

    @staticmethod
    def _gone_already(change: Change, answer: Answer) -> bool:
        """A frozen account's inbox rule that is not there any more (removed by the person, or by an
        apply that died before it said so): its removal is done."""
        return change.kind == "access" and answer.status == 404

    def _remember(self, change: Change, answer: Answer) -> None:
        body: dict[str, Any] = answer.body
        if change.action in ("create", "restore") and change.kind in ("user", "group") and body.get("id"):
            self.lookup.ids[change.key] = str(body["id"])
            self.created.add(str(body["id"]))
        if change.kind == "license" and change.after is not None and change.action in ("create", "update"):
            held = self.lookup.user_skus.setdefault(str(change.after["user"]), set())
            if change.action == "update" and change.before is not None:
                held.discard(self.lookup.sku_ids.get(str(change.before["sku"]), ""))
            sku_id = self.lookup.sku_ids.get(str(change.after["sku"]))
            if sku_id:
                held.add(sku_id)

    def activity(self, addresses: Sequence[str] | None = None,
                 figures: Collection[str] = FIGURES) -> ActivityReport:
        """Last sign-in, MFA registration and mailbox storage per user (None: every user; `figures`:
        which are wanted); a source the app or the tenant's licences do not allow leaves its figure
        unavailable, with why."""
        from reconciler.providers.microsoft.activity import read_graph_activity

        return self._run(lambda http: read_graph_activity(http, addresses, figures))

    def usage(self, addresses: Sequence[str] | None, today: dt.date, days: int = 90) -> UsageReport:
        """Storage and mails sent and received per period from the Microsoft 365 usage reports (four
        CSV downloads); Microsoft gives no daily history per person."""
        from reconciler.providers.microsoft.activity import read_graph_usage

        return self._run(lambda http: read_graph_usage(http, addresses))
    def mailbox_health(self, address: str, group: bool = False) -> MailboxHealth:
        """Account, Exchange plan, inbox rules and sign-ins of one mailbox (microsoft/mailbox.py)."""
        from reconciler.providers.microsoft.mailbox import read_mailbox

        return self._run(lambda http: read_mailbox(http, address.lower(), group))

    def check_access(self, capabilities: Collection[Capability]) -> list[AccessResult]:
        """One harmless read or refused-before-found probe per capability (access.py)."""
        from reconciler.providers.microsoft.access import check_access

        return self._run(lambda http: check_access(http, self.config.client_id, capabilities))

    def close(self) -> None:
        """Each fetch and apply closes its own HTTP client."""


def _no_transfer(leaver: str, successor: str | None) -> str:
    if successor:
        return T_("{leaver}: Microsoft Graph cannot hand OneDrive files or the mailbox over to {successor}; give them "
                  "access in the admin center (OneDrive: 'Access files'; mailbox: delegate or convert to shared) "
                  "before the account is deleted", leaver=leaver, successor=successor)
    return T_("{leaver}: Microsoft Graph cannot hand OneDrive files or the mailbox over to a successor; give them "
              "access in the admin center (OneDrive: 'Access files'; mailbox: delegate or convert to shared) before "
              "the account is deleted", leaver=leaver)
