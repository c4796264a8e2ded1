"""Python's cycle collector, tuned for the processes that ingest mail (``ticketd run``,
``ticketd import``).

By default the youngest generation is collected every 700 allocations, and ingest
allocates millions (parsed messages, rows, rendered notices) that are mostly freed by
reference counting, never in cycles: each collection walks the young objects for nothing.
Collecting it every 50,000 allocations instead, with the objects made at start-up frozen
out of every pass (in the parse worker too), cost 3–4 % less CPU per message in ``ticketd
import`` (``bench/README.md``) for about 1.5 MiB more memory. Cycles are still collected,
a little later.
"""

from __future__ import annotations

import gc

YOUNG = 50_000
"""Allocations (less deallocations) between collections of the youngest generation."""
OLDER = (20, 100)
"""Collections of each generation between collections of the next one."""


def tune() -> None:
    """Collect what start-up left, freeze the rest and collect less often from now on
    (call once the process is built)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *OLDER)
