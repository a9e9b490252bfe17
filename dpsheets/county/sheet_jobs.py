"""The longest sheet of a large summary written by a second process while this one writes the rest.

A province summary spends most of its time turning rows into sheet XML, in Python, on one core:
企业明细 with the hidden sheet of every enterprise's breaches is about half of it. The enterprises are
put aside on disk (:class:`~dpsheets.county.rows.Spill`), so a second process can read them back and
write that XML (:class:`~dpsheets.county.sheet_xml.RowFile`) while this one writes the other sheets;
the files are then taken into the workbook as if written here (:meth:`FastRows.adopt`). The bytes are
the same either way (tested). A roll-up too small to gain from it (a county's), or whose enterprises are
in memory (one combined from summaries), is written in this process, and so is any job the second
process could not finish.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from dpsheets.county.rows import read_spill
from dpsheets.county.sheet_xml import CellAttrs, RowFile

ALONGSIDE_ROWS = 10_000  # enterprises from which a second process pays (it takes some 0.5 s to start)


@dataclass(frozen=True)
class SpillRef:
    """Where a spilled list lives and how it is laid out (:class:`~dpsheets.county.rows.Spill`)."""

    path: str
    width: int
    key: int


def spill_of(rows: Any) -> SpillRef | None:
    spill = getattr(rows, "spill", None)
    if spill is None:
        return None
    spill.commit()
    return SpillRef(spill.path, spill.width, spill.key)


def write_detail(ref: SpillRef, attrs: CellAttrs, out: str, breaches_out: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """企业明细's rows into *out* and the enterprises' breaches (the hidden sheet's rows) into *breaches_out*,
    both from row 1 on."""
    from dpsheets.county.rollup_sql import _unpack_enterprise
    from dpsheets.county.summary_book import breach_rows, detail_row

    detail, breaches = RowFile(out, attrs, 1), RowFile(breaches_out, CellAttrs(), 1)
    try:
        for packed in read_spill(ref.path, ref.width, ref.key):
            e = _unpack_enterprise(packed)
            for row in breach_rows(e):
                breaches.write(row)
            detail.write(detail_row(e))
    finally:
        written = detail.close(), breaches.close()
    return written


class Alongside:
    """A second process for :func:`write_detail`, and a folder for its files."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="dpsheets-rows-")
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    @classmethod
    def start(cls, rollup: Any) -> Alongside | None:
        """A second process for *rollup*'s summary, or None when it would not pay (see the module)."""
        if spill_of(rollup.enterprises) is None or len(rollup.enterprises) < ALONGSIDE_ROWS:
            return None
        return cls()

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def submit(self, job: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        """*job*(*args*) in the second process; the returned call waits for its result. A job the process
        could not run (it died, or could not start) is run here instead: nothing is lost, only slower."""
        future: Future | None
        try:
            future = self.pool.submit(job, *args)
        except Exception:  # noqa: BLE001 - a pool that cannot start: this process does the work
            future = None

        def result() -> Any:
            if future is not None:
                try:
                    return future.result()
                except Exception:  # noqa: BLE001 - the process died (memory, a signal): write the rows here
                    pass
            return job(*args)

        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)
