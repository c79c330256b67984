"""When Python's cycle collector runs: not while org/ is read and resolved.

Reading org/ and resolving it build one large graph that stays alive for the whole run (a
100,000-person org: about three million objects) and make almost no garbage cycles (the example
org's whole load and resolve leaves 477 objects in cycles). The collector does not know that: it
walks every new object once as young and once more as middle-aged, each walk a cache miss, which
was about half a second of `validate`'s 6.5 s CPU at 100,000 people even with the CLI's raised
thresholds. Paused for that stretch, it walks nothing there; what was made is collected as usual
once it runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with automatic collection off; it is back on after, however the block ends.

    Nests: an inner pause leaves the collector as the outer one set it. A caller that had it off
    keeps it off. Only for work that builds what it keeps (reading, validating, resolving), never
    around a provider's network calls, whose clients do make cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
