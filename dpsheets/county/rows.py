"""Lists a roll-up does not hold: rows read again from where they live each time they are needed.

A province roll-up has hundreds of thousands of enterprise rows and overdue hazards. Holding them as
Python objects cost most of a gigabyte; :class:`Rows` instead re-runs its source (a database query
streamed through a server-side cursor, or a list when the rows are few) each time it is iterated,
and knows its length up front (counted in the same pass that summed the groups). It is a
:class:`~collections.abc.Sequence`, so code written for lists (``len``, ``for``, ``[:200]``, ``[0]``)
keeps working; only random access is slow (it reads up to that row).

:class:`Spill` puts rows aside on disk (a private temporary SQLite file, deleted when no longer used) and
reads them back in another order: the enterprises to inspect, sorted by their breaches.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar, overload

T = TypeVar("T")


class Rows(Sequence[T]):
    """*source()* gives the rows, in order, each time; *length* is how many it gives."""

    def __init__(self, source: Callable[[], Iterator[T]], length: int) -> None:
        self._source = source
        self._length = length
        self.spill: Spill | None = None  # where the rows are put aside, when they are (Spill.rows)

    @classmethod
    def of(cls, items: Iterable[T]) -> Sequence[T]:
        """Rows held in memory: a list stays a list."""
        return items if isinstance(items, (list, Rows)) else list(items)

    def __iter__(self) -> Iterator[T]:
        return self._source()

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            if index.step is not None and index.step < 0:  # rare: read it all
                return list(self)[index]
            start, stop, step = index.indices(self._length)
            return _take(self, start, stop, step)
        i = index + self._length if index < 0 else index
        if not 0 <= i < self._length:
            raise IndexError(index)
        return _take(self, i, i + 1, 1)[0]

    def __add__(self, other: Iterable[T]) -> list[T]:
        """Concatenated into a list (read into memory), as two lists would be."""
        return [*self, *other]

    def __radd__(self, other: Iterable[T]) -> list[T]:
        return [*other, *self]

    def __repr__(self) -> str:
        return f"Rows({self._length} rows)"


def _take(rows: Iterable[T], start: int, stop: int, step: int) -> list[T]:
    it = iter(rows)
    try:
        return list(islice(it, start, stop, step))
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()  # a generator's cursor is released now, not at garbage collection


class Spill:
    """Rows of *width* values put aside on disk; :meth:`sorted` reads them back ordered by their first
    *key* values (text compared by code point, as Python compares it), then in the order they came.

    The rows are kept in a private SQLite file in a temporary folder of its own (removed when the spill is
    garbage-collected or the process ends), which another process may read too (:func:`read_spill`)."""

    def __init__(self, width: int, key: int) -> None:
        self.width, self.key = width, key
        folder = tempfile.mkdtemp(prefix="dpsheets-spill-")
        self.path = os.path.join(folder, "spill.sqlite")
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = OFF")  # scratch data: no journal, no syncing
        self.db.execute("PRAGMA synchronous = OFF")
        columns = ", ".join(f"v{i}" for i in range(width))
        self.db.execute(f"CREATE TABLE spill (seq INTEGER PRIMARY KEY, {columns})")
        self._insert = f"INSERT INTO spill ({columns}) VALUES ({', '.join('?' * width)})"
        self._pending: list[tuple[Any, ...]] = []
        self.count = 0
        weakref.finalize(self, _remove, self.db, folder)

    def add(self, row: tuple[Any, ...]) -> None:
        self._pending.append(row)
        self.count += 1
        if len(self._pending) >= 5000:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.db.executemany(self._insert, self._pending)
            self._pending = []

    def sorted(self) -> Iterator[tuple[Any, ...]]:
        self.commit()
        yield from self.db.execute(_select(self.width, self.key))

    def commit(self) -> None:
        """Every row added so far on disk, readable by :func:`read_spill`."""
        self._flush()
        self.db.commit()

    def rows(self, make: Callable[[tuple[Any, ...]], T]) -> Rows[T]:
        """The spilled rows, sorted, each made into an object by *make*."""
        rows = Rows(lambda: (make(r) for r in self.sorted()), self.count)
        rows.spill = self
        return rows


def _select(width: int, key: int) -> str:
    order = "".join(f"v{i}, " for i in range(key))
    return f"SELECT {', '.join(f'v{i}' for i in range(width))} FROM spill ORDER BY {order}seq"


def read_spill(path: str, width: int, key: int) -> Iterator[tuple[Any, ...]]:
    """The rows of the spill at *path* (:attr:`Spill.path`, committed), sorted as :meth:`Spill.sorted` sorts them,
    from any process."""
    db = sqlite3.connect(f"file:{pathlib.Path(path).as_posix()}?mode=ro", uri=True)
    try:
        yield from db.execute(_select(width, key))
    finally:
        db.close()


def _remove(db: sqlite3.Connection, folder: str) -> None:
    db.close()
    shutil.rmtree(folder, ignore_errors=True)
