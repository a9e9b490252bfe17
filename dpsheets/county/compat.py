"""Plain SQL with ``?`` placeholders on either engine, for code written against sqlite3.

``archive.db.execute(sql, params)`` and the connection of ``archive.transaction()`` accept the
sqlite3 style (``?`` placeholders, rows readable by index and by column name, ``lastrowid``),
so that code such as the web service's stores runs on SQLite and PostgreSQL alike. SQLAlchemy
statements pass straight through. ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING`` and
an ``INSERT`` whose ``lastrowid`` is wanted on PostgreSQL gets ``RETURNING id`` where the table has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Engine

_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO", re.I)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE)\b", re.I)
_ID_TABLES = {"submissions", "jobs", "confirmations", "audit"}


class Row:
    """A result row readable like sqlite3.Row: ``row[0]``, ``row["name"]``, ``keys()``, ``dict(row)``."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._index[key]] if isinstance(key, str) else self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, (Row, tuple)) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))!r})"


class Result:
    """The whole result of one statement (fetched at once)."""

    def __init__(self, rows: list[Row], lastrowid: int | None, rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest = self._rows[self._next:]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


def _driver_sql(sql: str, dialect: str) -> tuple[str, bool]:
    """The statement in the driver's placeholder style; whether RETURNING id was added."""
    returning = False
    if dialect == "postgresql":
        ignore = bool(_OR_IGNORE.match(sql))
        if ignore:
            sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
        sql = sql.replace("%", "%%").replace("?", "%s")
        if ignore:
            sql = sql.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
        table = _INSERT.match(sql)
        if table and table.group(1).lower() in _ID_TABLES and "RETURNING" not in sql.upper():
            sql += " RETURNING id"
            returning = True
    return sql, returning


class Compat:
    """A SQLAlchemy connection (or, with *engine*, a fresh autocommitted one per statement) taking sqlite3-style SQL."""

    def __init__(self, conn: Connection | None, engine: Engine | None = None) -> None:
        self._conn = conn
        self._engine = engine

    def __getattr__(self, name: str) -> Any:  # everything else of the SQLAlchemy connection
        if self._conn is None:
            raise AttributeError(name)
        return getattr(self._conn, name)

    def execute(self, statement: Any, params: Any = None) -> Any:
        if not isinstance(statement, str):
            return self._run(lambda c: c.execute(statement, params) if params is not None else c.execute(statement),
                             statement=None)
        return self._run(lambda c: self._plain(c, statement, params or ()), statement)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Result:
        rows = [tuple(r) for r in rows]
        return self._run(lambda c: self._plain(c, sql, rows, many=True), sql)

    def _run(self, work: Any, statement: str | None) -> Any:
        if self._conn is not None:
            return work(self._conn)
        from dpsheets.county.database import writing

        assert self._engine is not None
        if statement is not None and not _WRITE.match(statement):
            with self._engine.connect() as conn:
                return work(conn)
        with writing(self._engine) as conn:
            return work(conn)

    @staticmethod
    def _plain(conn: Connection, sql: str, params: Any, many: bool = False) -> Result:
        driver_sql, returning = _driver_sql(sql, conn.dialect.name)
        if many:
            if not params:
                return Result([], None, 0)
            result = conn.exec_driver_sql(driver_sql, params)
        else:
            result = conn.exec_driver_sql(driver_sql, tuple(params))
        rows: list[Row] = []
        lastrowid = None
        if result.returns_rows:
            index = {k: i for i, k in enumerate(result.keys())}
            rows = [Row(r, index) for r in result.fetchall()]
            if returning and rows:
                lastrowid = rows[-1][0]
                rows = []
        elif conn.dialect.name == "sqlite":
            lastrowid = result.lastrowid
        return Result(rows, lastrowid, result.rowcount)


# A SQLAlchemy connection, or the wrapper above around one (it forwards every other attribute).
AnyConnection = Connection | Compat
