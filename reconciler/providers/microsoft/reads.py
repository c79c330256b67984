"""Many Graph collections read side by side through `$batch`, each page a GET of a batch.

A collection's own pages follow one another (a page's `@odata.nextLink` is known only when it
comes), but pages of different collections are independent, so every round sends the next page
of every open collection together, 20 to a `$batch` (Graph's limit). What a page starts (a page
of groups: their member lists) is asked of `more` after each round.

The aim is full batches: a read of N pages should cost about N / 20 requests however its pages
are spread. The long chains (the user ranges, the group list, a list past its first page) go
first, every round; short lists (`filler`: a group's members, usually one page) fill the last
batch the chains leave part empty, and are kept for that rather than sent in batches of their
own while chains remain (a round of 3 chain pages alone would be a batch of 3). A last batch
that cannot be filled waits for the next round's pages while any batch is out this round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ProviderError
from reconciler.providers.microsoft.fresh import ask_again
from reconciler.providers.microsoft.graph import MAX_BATCH, Answer, Call, GraphHttp


@dataclass
class Listing:
    """One collection read to its end; `follow=False` reads its first page only and says in
    `truncated` whether there were more."""

    url: str  # relative to /v1.0
    follow: bool = True
    filler: bool = False  # a short list that can wait to fill a batch (see the module's comment)
    # A read that may be refused as a query Graph does not take (400): it ends with `refused`
    # set, for the caller to read another way, instead of failing the whole fetch.
    refusable: bool = False
    items: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    truncated: bool = False
    next_url: str | None = None  # where a truncated listing would have gone on
    refused: str | None = None  # Graph's words, where a refusable read was refused


async def read_lists(http: GraphHttp, listings: Sequence[Listing],
                     more: Callable[[], Sequence[Listing]] = lambda: ()) -> None:
    """Read every listing, and those `more` starts after each round, to their ends. A collection
    just listed whose members are 404 (a group created moments ago) is asked again (fresh.py)."""
    waiting: list[tuple[Listing, str]] = [(listing, listing.url) for listing in listings]
    while waiting:
        sending, waiting = _this_round(waiting)
        calls = [Call("GET", url) for _, url in sending]

        async def resend(positions: list[int], calls: list[Call] = calls) -> list[Answer]:
            return await http.batch([calls[k] for k in positions])

        answers = await ask_again(await http.batch(calls), range(len(calls)), resend, http.sleep, lambda k: k)
        following: list[tuple[Listing, str]] = []
        for (listing, _), answer in zip(sending, answers, strict=True):
            if not answer.ok:
                if listing.refusable and answer.status == 400:
                    listing.refused, listing.done = answer.error, True
                    continue
                raise ProviderError(f"GET {listing.url.split('?')[0]}: {answer.error}")
            listing.items.extend(answer.body.get("value", []))
            next_link = answer.body.get("@odata.nextLink")
            if next_link and listing.follow:
                following.append((listing, http.relative(str(next_link))))
            else:
                listing.truncated = bool(next_link)
                listing.next_url = http.relative(str(next_link)) if next_link else None
                listing.done = True
        # The pages that carry on go first: they are the long chains, each round one step further.
        waiting = following + waiting + [(listing, listing.url) for listing in more()]


def _this_round(waiting: list[tuple[Listing, str]]) -> tuple[list[tuple[Listing, str]], list[tuple[Listing, str]]]:
    """What goes now, and what waits: every chain page in full batches, the last one filled up with
    short lists, or held back for the next round's pages while another batch goes out."""
    chains = [item for item in waiting if not item[0].filler or item[1] != item[0].url]
    short = [item for item in waiting if item[0].filler and item[1] == item[0].url]
    full = len(chains) // MAX_BATCH * MAX_BATCH
    sending, rest = chains[:full], chains[full:]
    if rest and len(rest) + len(short) >= MAX_BATCH:
        room = MAX_BATCH - len(rest)
        sending, rest, short = sending + rest + short[:room], [], short[room:]
    if not chains and len(short) >= MAX_BATCH:  # no chains left to hold room for: short lists in full batches
        count = len(short) // MAX_BATCH * MAX_BATCH
        sending, short = short[:count], short[count:]
    if not sending:  # nothing else is coming this round to join a part-empty batch: it goes as it is
        return rest + short, []
    return sending, rest + short
