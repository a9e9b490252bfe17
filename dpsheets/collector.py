"""Python's cyclic garbage collector paused while a large structure is built and written.

Building many objects (openpyxl's cells, a province's rows) makes the collector start again and again,
and each full collection walks every object the process holds: a fifth of a large register's copy, more
in a roll-up that holds a province's filings. What these passes make is freed by reference counting; the
collector is on again at the end (unless someone else had turned it off) and collects what is left then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the ``with`` block."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
