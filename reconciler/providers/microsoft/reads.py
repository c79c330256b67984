"""Many Graph collections read side by side through `$batch`, each page a GET of a batch.

A collection's own pages follow one another (a page's `@odata.nextLink` is known only when it
comes), but pages of different collections are independent, so every round sends the next page
of every open collection together, 20 to a `$batch` (Graph's limit). A round sends only full
batches while more work waits (the rest joins the next round, with the pages its answers open),
so a read of N pages costs about N / 20 requests, however the pages are spread over collections.

What a page starts (a page of groups: their member lists) is asked of `more` after each round.
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
    items: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    truncated: bool = False


async def read_lists(http: GraphHttp, listings: Sequence[Listing],
                     more: Callable[[], Sequence[Listing]] = lambda: ()) -> None:
    """Read every listing, and those `more` starts after each round, to their ends. A collection
    just listed whose members are 404 (a group created moments ago) is asked again (fresh.py)."""
    waiting: list[tuple[Listing, str]] = [(listing, listing.url) for listing in listings]
    while waiting:
        # Only full batches while the rest can wait for the next round's work to join it.
        count = len(waiting) if len(waiting) <= MAX_BATCH else len(waiting) - len(waiting) % MAX_BATCH
        sending, waiting = waiting[:count], waiting[count:]
        calls = [Call("GET", url) for _, url in sending]

        async def resend(positions: list[int], calls: list[Call] = calls) -> list[Answer]:
            return await http.batch([calls[k] for k in positions])

        answers = await ask_again(await http.batch(calls), range(len(calls)), resend, http.sleep, lambda k: k)
        following: list[tuple[Listing, str]] = []
        for (listing, _), answer in zip(sending, answers, strict=True):
            if not answer.ok:
                raise ProviderError(f"GET {listing.url.split('?')[0]}: {answer.error}")
            listing.items.extend(answer.body.get("value", []))
            next_link = answer.body.get("@odata.nextLink")
            if next_link and listing.follow:
                following.append((listing, http.relative(str(next_link))))
            else:
                listing.truncated = bool(next_link)
                listing.done = True
        # The pages that carry on go first: they are the long chains, each round one step further.
        waiting = following + waiting + [(listing, listing.url) for listing in more()]
