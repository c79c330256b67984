"""What reading a remote tenant costs: exact HTTP requests of the fetch (everything a no-change plan
reads) for 300 people and 40 groups written straight into the emulators (tests/seeded_tenants.py),
with a group over one page of members (Google: 200 a page), more people than one page with
$expand holds (Graph: 100) and a group with more owners than Graph expands (20). Every list is
read side by side in batches; what was read must be the whole tenant, to the last member."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from reconciler.errors import ProviderError
from reconciler.providers.microsoft.client import ENDPOINT_ENV as GRAPH_ENDPOINT_ENV
from reconciler.providers.microsoft.fetch import RANGE_BOUNDS, user_ranges
from reconciler.providers.microsoft.reads import Listing, _this_round
from reconciler.state import Membership, Role, State
from tests.emulators.google import GoogleEmulator
from tests.emulators.graph import GraphEmulator, users
from tests.google_support import emulator, provider  # noqa: F401
from tests.graph_clock import FakeClock
from tests.seeded_tenants import Tenant, seed_google, seed_graph, tenant
from tests.test_microsoft_provider import provider as graph_provider

SHAPE = tenant(300, 40, departments=1, owners=25)  # d0: all 300 people; list0: 25 owners


def _holds(state: State, shape: Tenant, *, managers: bool) -> None:
    """The fetched state is the seeded tenant: every person (and manager), every membership and owner."""
    users = state.users()
    for address, given, family, manager in shape.people:
        assert users[address].given_name == given and users[address].family_name == family
        if managers:
            assert users[address].manager == (manager or None), address
    memberships = {(m.group, m.member): m.role for m in state.of("membership").values()
                   if isinstance(m, Membership)}
    for group, members in shape.groups.items():
        owners = set(shape.owners.get(group, []))
        for member in set(members) | owners:
            assert memberships.get((group, member)) == ("OWNER" if member in owners else "MEMBER"), (group, member)
    assert len(memberships) == shape.memberships


def test_google_reads_300_people_and_40_groups_in_5_requests(emulator: GoogleEmulator) -> None:  # noqa: F811
    seed_google(emulator, SHAPE)
    # A fake clock: a batch holds what Google ran in about a second in the last one, so on the real
    # clock a machine under load made smaller batches (6 requests now and then) and the count flaky.
    google = provider(clock=FakeClock())
    state = google.fetch(["acme.com"])
    google.close()
    stats = emulator.stats()
    # 1 customers.get (alone: the licence list needs the customer's id); 1 Directory batch with the
    # first page of domains, domain aliases, org units, users, deleted users, groups, roles and role
    # assignments, beside 1 Licensing batch; 1 batch of the 40 groups' members (200 a page); 1 with
    # page 2 of d0's 300. (Read one list after another, 12 requests.)
    assert stats["requests"] == 5, stats["by_method"]
    assert stats["batches"] == 4
    _holds(state, SHAPE, managers=False)
    assert len(state.of("license")) == 300
    assert [(r.role, r.user) for r in state.of("role").values() if isinstance(r, Role)] == [
        ("super-admin", "admin@acme.com")]


def test_an_apply_without_a_fetch_reads_its_ids_in_one_batch(emulator: GoogleEmulator) -> None:  # noqa: F811
    """A saved plan's apply reads the ids its changes need (users, deleted users, roles and their
    assignments) side by side too: 1 request for 300 people (4 one list after another), the same ids
    as the plan's fetch."""
    seed_google(emulator, SHAPE)
    fetched = provider(clock=FakeClock())
    fetched.fetch(["acme.com"])
    fetched.close()
    emulator.reset_stats()
    google = provider(clock=FakeClock())
    google.fetcher.load_lookup(google.lookup)
    google.close()
    assert emulator.stats()["requests"] == 1, emulator.stats()["by_method"]
    for name in ("user_ids", "deleted_ids", "role_ids", "assignments"):
        assert getattr(google.lookup, name) == getattr(fetched.lookup, name), name
    assert google.lookup.assignments and len(google.lookup.user_ids) == 301


def test_a_group_whose_members_cannot_be_read_is_named(emulator: GoogleEmulator) -> None:  # noqa: F811
    seed_google(emulator, tenant(30, 5))
    emulator.fail_next("GET", r"/groups/list1@acme.com/members$", 403, "forbidden", "Not Authorized to access "
                       "this resource/api")
    google = provider()
    with pytest.raises(ProviderError) as failed:
        google.fetch(["acme.com"])
    google.close()
    assert str(failed.value) == ("reading the Google Workspace tenant: members of list1@acme.com: 403 forbidden: "
                                 "Not Authorized to access this resource/api")


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    emu = GraphEmulator(domains=("acme.com",), skus={"O365_BUSINESS_PREMIUM": 2000}, clock=FakeClock()).start()
    monkeypatch.setenv(GRAPH_ENDPOINT_ENV, emu.url)
    try:
        yield emu
    finally:
        emu.stop()


def _fetched_seeded(graph: GraphEmulator) -> tuple[State, dict[str, Any]]:
    """The state a fetch reads from the emulator seeded with SHAPE, and the requests it took."""
    seed_graph(graph, SHAPE)
    graph.reset_stats()
    microsoft = graph_provider()
    state = microsoft.fetch(["acme.com"])
    microsoft.close()
    return state, graph.stats()


def test_graph_reads_300_people_and_40_groups_in_5_requests(graph: GraphEmulator) -> None:
    state, stats = _fetched_seeded(graph)
    # Every read a GET in a $batch of 20. 1: domains, subscribedSkus, the first 100 people (a page
    # with $expand holds 100), deleted users, groups, role assignments. Then the 29 ranges of people
    # with 11 of the 41 short lists (the 40 groups' members, list0's 25 owners: its expansion shows
    # 20) in 2 full batches; the other 30 in 2 more. (Read one list after another, 12 requests.)
    assert stats["requests"] == 5, stats["by_method"]
    assert stats["by_method"]["GET /users"] == 1 + len(RANGE_BOUNDS) + 1
    assert stats["by_method"]["GET /groups/{key}/owners"] == 1
    _holds(state, SHAPE, managers=True)


def test_the_ranges_of_people_miss_no_one_whatever_the_names(graph: GraphEmulator) -> None:
    """Names on a bound, before the first, after the last, in capitals, with digits and signs: each
    is in a range (the ranges cover every string in any order), and read once."""
    odd = ["b@acme.com", "a@acme.com", "zz@acme.com", "zh@acme.com", "Zhang.Wei@acme.com", "0day@acme.com",
           "_svc@acme.com", "~tilde@acme.com", "ch@acme.com", "sh.x@acme.com", "!bang@acme.com", "x'y@acme.com"]
    for address in odd:
        graph.add_user(address, address.split("@")[0])
    for n in range(120):  # more than one page with $expand: the ranges are read
        graph.add_user(f"p{n:03d}@acme.com", f"P {n}")
    microsoft = graph_provider()
    state = microsoft.fetch(["acme.com"])
    microsoft.close()
    assert {a.lower() for a in odd} | {f"p{n:03d}@acme.com" for n in range(120)} <= set(state.users())
    assert len(user_ranges()) == len(RANGE_BOUNDS) + 1


def test_a_group_of_more_than_999_members_is_read_to_its_end(graph: GraphEmulator) -> None:
    """A member list past its first page (999 members) is a chain like the user ranges: its next page
    goes in the next round, and every member is read."""
    shape = tenant(1050, 3, departments=1)  # d0: all 1,050 people
    seed_graph(graph, shape)
    graph.reset_stats()
    microsoft = graph_provider()
    state = microsoft.fetch(["acme.com"])
    microsoft.close()
    _holds(state, shape, managers=True)
    assert graph.stats()["by_method"]["GET /groups/{key}/members"] == 3 + 1  # d0's page 2


def _queue(chains: int, short: int, *, continuing: int = 0) -> list[tuple[Listing, str]]:
    """`chains` chain pages (the first `continuing` of them past their first page), `short` short lists."""
    out = [(Listing(f"/c{i}"), f"/c{i}?$skiptoken=x" if i < continuing else f"/c{i}") for i in range(chains)]
    return out + [(Listing(f"/s{i}", filler=True), f"/s{i}") for i in range(short)]


@pytest.mark.parametrize(("chains", "short", "sent", "held"), [
    (29, 41, 40, 30),   # 1 full batch of chains, the 9 left filled up with 11 short lists
    (25, 5, 20, 10),    # the 5 left and 5 short lists cannot fill a batch: they wait for the next round
    (3, 0, 3, 0),       # nothing else goes this round: the 3 go as they are
    (3, 30, 20, 13),    # 3 chain pages and 17 short lists
    (0, 45, 40, 5),     # no chains left: short lists in full batches, the 5 wait for what those bring
    (0, 7, 7, 0),
    (40, 100, 40, 100),  # chains fill their batches: short lists are kept for the batches chains leave part empty
])
def test_a_round_sends_full_batches(chains: int, short: int, sent: int, held: int) -> None:
    sending, waiting = _this_round(_queue(chains, short))
    assert (len(sending), len(waiting)) == (sent, held)
    assert [item for item in sending if not item[0].filler] == _queue(chains, 0)[:min(chains, sent)]


def test_a_short_list_past_its_first_page_is_a_chain() -> None:
    past = (Listing("/s0", filler=True), "/s0?$skiptoken=x")
    sending, waiting = _this_round([*_queue(20, 0), past, *_queue(0, 30)])
    # It goes now with the 20 chain pages, filled up with 19 short lists (a short list would wait).
    assert past in sending and (len(sending), len(waiting)) == (40, 11)


def test_people_are_read_whole_where_graph_refuses_the_ranges(graph: GraphEmulator,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Microsoft's table of filters on directory objects leaves `ge` on userPrincipalName out: a tenant
    that takes it only as an advanced query (which cannot $expand) refuses 28 of the 29 ranges. The
    list is then read on from the first page, as one chain: everyone is there, at 1 request per 100."""
    monkeypatch.setattr(users, "USER", replace(users.USER, advanced_pairs=frozenset({("userPrincipalName", "ge")})))
    state, stats = _fetched_seeded(graph)
    _holds(state, SHAPE, managers=True)
    assert len(state.users()) == len(SHAPE.people)
    # The first page, the 29 ranges (28 refused, `le 'b'` read), then pages 2 and 3 of the whole list,
    # which travel in the batches of the groups' member lists: as many requests as with the ranges.
    assert stats["by_method"]["GET /users"] == 1 + len(RANGE_BOUNDS) + 1 + 2
    assert stats["requests"] == 5, stats["by_method"]
