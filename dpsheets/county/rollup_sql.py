"""The roll-up computed from archives: set-based SQL shared by SQLite and PostgreSQL, streamed.

For each enterprise its latest submission on or before the as-of date (kept for a session in a
temporary table, ``dpsheets_latest``), with hazard states evaluated on that date by the SQL generated
from their one declaration (:mod:`dpsheets.rules.hazard_state`). The long lists come out of the
database in the order the summary shows them (ORDER BY in SQL, text compared by code point on both
engines), through a server-side cursor on PostgreSQL, and are put aside on local disk as they pass
(:class:`~dpsheets.county.rows.Spill`; the enterprises sorted there, so they may come in any order):
a :class:`~dpsheets.county.rows.Rows` reads them back whenever they are needed, so a province roll-up
never holds them in memory. One pass gives the sums per group, the list to inspect and the lengths.

On one PostgreSQL archive the work is shared between the server's processes: half of the enterprises,
the hazard lists and the trend are queried on connections of their own while this one reads the other
half; they all see the session's exported snapshot, so the sheets show one moment (:func:`_alongside`).

With several archives, the submissions that count on a day are decided across all of them first
(:func:`_restrict`): per credit code the latest received on or before it (on a tie, the later
archive's); their lists are merged in order.
"""

from __future__ import annotations

import heapq
import itertools
import marshal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dpsheets.collector import collector_paused
from dpsheets.config import Config
from dpsheets.county import alerts as alert_rows
from dpsheets.county.archive import Archive
from dpsheets.county.filings import build as build_filings
from dpsheets.county.filings import first_received
from dpsheets.county.rollup import (
    TOP_LEVEL,
    EnterpriseRow,
    MissingRow,
    MonthRow,
    Rollup,
    evaluate,
    month_ends,
    months_between,
    not_submitted,
    summarise,
)
from dpsheets.county.rows import Rows, Spill
from dpsheets.rules import hazard_state, reporting
from dpsheets.rules.breaches import Breach

# The latest submission of each enterprise on or before :as_of, inside the area (city/county) asked for.
_LATEST = """
SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.uscc ORDER BY s.received_at DESC, s.id DESC) AS rn
               FROM submissions s WHERE substr(s.received_at, 1, 10) <= :as_of_day {prefilter}) ranked
WHERE rn = 1 {area} {keep}
"""
LATEST = "dpsheets_latest"  # a session's latest submissions (temporary table)
# With several archives, the submissions that win across all of them (see _restrict) are kept in this temp table.
KEEP = "dpsheets_keep"
# The hazard state (open, overdue, closed on time / late) is generated from its one declaration.
_H = {key: f"h.{key}" for key in hazard_state.FIELDS}
_OPEN = hazard_state.sql("open", _H)
_OVERDUE = hazard_state.sql("overdue", _H)
_MAJOR = f"h.level = '{hazard_state.MAJOR_LEVEL}'"
_DAYS = {"sqlite": "CAST(julianday(:as_of) - julianday(h.deadline) AS INTEGER)",  # days overdue on :as_of
         "postgresql": "(CAST(:as_of AS DATE) - h.deadline)"}


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# {C}: COLLATE "C" on PostgreSQL, so that text sorts by code point as in SQLite and Python.
_ENTERPRISES = f"""
WITH latest AS ({{latest}}),
hz AS (SELECT h.submission_id AS sid, COUNT(*) AS total, {_count(_OPEN)} AS open, {_count(_OVERDUE)} AS overdue,
              {_count(f"{_MAJOR} AND {_OPEN}")} AS major_open,
              {_count(f"{_MAJOR} AND {_OPEN} AND h.has_plan = 0")} AS major_without_plan,
              {_count(f"{_MAJOR} AND {_OPEN} AND h.has_plan <> 0 AND h.reported_on IS NULL")} AS major_unreported,
              {_count(f"{_MAJOR} AND {_OVERDUE}")} AS major_overdue,
              SUM(CASE WHEN {_OVERDUE} THEN {{days}} ELSE 0 END) AS overdue_days,
              SUM(CASE WHEN {_MAJOR} AND {_OVERDUE} THEN {{days}} ELSE 0 END) AS major_overdue_days,
              MAX(CASE WHEN {_OVERDUE} THEN {{days}} END) AS overdue_longest,
              MAX(CASE WHEN h.found_on <= :as_of THEN h.found_on END) AS last_found,
              {hazard_state.sql_count("closed_on_time", _H)} AS on_time,
              {hazard_state.sql_count("closed_late", _H)} AS late
       FROM hazards h JOIN latest l ON l.id = h.submission_id GROUP BY h.submission_id),
ld AS (SELECT d.submission_id AS sid,
              {_count("d.kind = 'training' AND d.day > :since AND d.day <= :as_of")} AS trainings,
              {_count("d.kind = 'drill' AND d.day > :since AND d.day <= :as_of")} AS drills,
              MAX(CASE WHEN d.kind = 'training' AND d.day <= :as_of THEN d.day END) AS last_training,
              MAX(CASE WHEN d.kind = 'drill' AND d.day <= :as_of THEN d.day END) AS last_drill
       FROM ledger_dates d JOIN latest l ON l.id = d.submission_id GROUP BY d.submission_id),
-- 一题: the workbook's 答题确认记录 and the phone confirmations (dpsheets serve), each (date, name, post) once
quiz AS (SELECT l.id AS sid, CAST(x.date AS TEXT) AS day, TRIM(x.name) AS name, TRIM(COALESCE(x.post, '')) AS post
         FROM quizzes x JOIN latest l ON l.id = x.submission_id
         WHERE TRIM(COALESCE(x.name, '')) <> '' AND x.date > :since AND x.date <= :as_of
         UNION
         SELECT l.id, c.day, c.name, c.post FROM confirmations c JOIN latest l ON l.uscc = c.uscc
         WHERE c.day > :since_day AND c.day <= :as_of_day),
qc AS (SELECT sid, COUNT(*) AS confirmations, COUNT(DISTINCT name) AS people FROM quiz GROUP BY sid),
-- posts nobody confirmed, employees who did not confirm their own post (dpsheets.rules.sanyou, by name and post)
pu AS (SELECT l.id AS sid, COUNT(*) AS n FROM posts p JOIN latest l ON l.id = p.submission_id
       WHERE TRIM(COALESCE(p.post, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM quiz q WHERE q.sid = l.id AND q.post = TRIM(p.post)) GROUP BY l.id),
eu AS (SELECT l.id AS sid, COUNT(*) AS n FROM employees e JOIN latest l ON l.id = e.submission_id
       WHERE TRIM(COALESCE(e.name, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM quiz q WHERE q.sid = l.id AND q.name = TRIM(e.name)
                         AND q.post = TRIM(COALESCE(e.post, ''))) GROUP BY l.id),
-- 三有五化 (dpsheets.rules.sanyou.indicators, counted the same way)
sy AS (SELECT sid, SUM(CASE WHEN k = 1 THEN n ELSE 0 END) AS plans, SUM(CASE WHEN k = 2 THEN n ELSE 0 END) AS rewards,
              SUM(CASE WHEN k = 3 THEN n ELSE 0 END) AS procedures, SUM(CASE WHEN k = 4 THEN n ELSE 0 END) AS unit_duties,
              SUM(CASE WHEN k = 5 THEN n ELSE 0 END) AS signs
       FROM (SELECT x.submission_id AS sid, 1 AS k, COUNT(*) AS n FROM inspection_plans x
             JOIN latest l ON l.id = x.submission_id GROUP BY x.submission_id
             UNION ALL
             SELECT x.submission_id, 2, COUNT(*) FROM rewards x JOIN latest l ON l.id = x.submission_id
             WHERE x.date > :since AND x.date <= :as_of GROUP BY x.submission_id
             UNION ALL
             SELECT x.submission_id, 3, COUNT(DISTINCT TRIM(x.post)) FROM procedures x JOIN latest l ON l.id = x.submission_id
             WHERE TRIM(COALESCE(x.post, '')) <> '' AND TRIM(COALESCE(x.steps, '')) <> '' GROUP BY x.submission_id
             UNION ALL
             SELECT x.submission_id, 4, COUNT(*) FROM unit_duties x JOIN latest l ON l.id = x.submission_id
             GROUP BY x.submission_id
             UNION ALL
             SELECT x.submission_id, 5, SUM(CASE WHEN x.count IS NULL OR x.count = 0 THEN 1 ELSE x.count END)
             FROM signs x JOIN latest l ON l.id = x.submission_id GROUP BY x.submission_id) u
       GROUP BY sid)
SELECT l.uscc, l.name, l.county, l.township, l.industry, substr(l.received_at, 1, 10) AS last_submission, l.received_at,
       l.template_version, l.errors, l.risks_major, l.risks_significant, l.risks_general, l.risks_low, l.posts,
       l.employees, COALESCE(hz.total, 0) AS hazards_total, COALESCE(hz.open, 0) AS hazards_open,
       COALESCE(hz.overdue, 0) AS hazards_overdue, COALESCE(hz.major_open, 0) AS major_open,
       COALESCE(hz.major_without_plan, 0) AS major_without_plan, COALESCE(hz.on_time, 0) AS closed_on_time,
       COALESCE(hz.late, 0) AS closed_late, COALESCE(ld.trainings, 0) AS trainings_12m,
       COALESCE(ld.drills, 0) AS drills_12m, COALESCE(qc.confirmations, 0) AS quiz_12m,
       COALESCE(qc.people, 0) AS quiz_people_12m, ld.last_training, ld.last_drill,
       COALESCE(hz.major_unreported, 0) AS major_unreported, COALESCE(hz.major_overdue, 0) AS major_overdue,
       COALESCE(hz.overdue_days, 0) AS overdue_days, COALESCE(hz.major_overdue_days, 0) AS major_overdue_days,
       COALESCE(hz.overdue_longest, 0) AS overdue_longest, hz.last_found,
       COALESCE(pu.n, 0) AS posts_unconfirmed, COALESCE(eu.n, 0) AS employees_unconfirmed,
       COALESCE(sy.plans, 0) AS inspection_plans, COALESCE(sy.rewards, 0) AS rewards_12m,
       COALESCE(sy.procedures, 0) AS procedures, COALESCE(sy.unit_duties, 0) AS unit_duties,
       COALESCE(sy.signs, 0) AS signs
FROM latest l LEFT JOIN hz ON hz.sid = l.id LEFT JOIN ld ON ld.sid = l.id LEFT JOIN qc ON qc.sid = l.id
     LEFT JOIN pu ON pu.sid = l.id LEFT JOIN eu ON eu.sid = l.id LEFT JOIN sy ON sy.sid = l.id
ORDER BY COALESCE(l.county, ''){{C}}, COALESCE(l.township, ''){{C}}, COALESCE(NULLIF(l.name, ''), l.uscc){{C}}, l.uscc{{C}}
"""


def enterprise_key(r: EnterpriseRow) -> tuple[str, str, str, str]:
    """The order of 企业明细 (the ORDER BY above)."""
    return (r.county, r.township, r.name, r.uscc)


_HAZARD_LIST = """
WITH latest AS ({latest})
SELECT l.uscc, l.name AS enterprise, l.county, l.township, l.industry, h.number, h.name, h.location, h.level, h.status,
       {deadline} AS deadline, h.unit, h.owner, CASE WHEN h.has_plan <> 0 THEN '是' ELSE '否' END AS has_plan,
       {reported_on} AS reported_on, CASE WHEN h.deadline IS NULL THEN 0 WHEN {days} > 0 THEN {days} ELSE 0 END AS days_overdue
FROM hazards h JOIN latest l ON l.id = h.submission_id WHERE {where}
ORDER BY CASE WHEN h.deadline IS NULL THEN 0 ELSE 1 END, h.deadline, l.uscc{C}, h.row
"""
# The columns of a listed hazard, in the order of _HAZARD_LIST: dates as ISO text, has_plan as 是/否, days overdue on as-of.
HAZARD_KEYS = ("uscc", "enterprise", "county", "township", "industry", "number", "name", "location", "level", "status",
               "deadline", "unit", "owner", "has_plan", "reported_on", "days_overdue")
_ISO_DAY = {"sqlite": "substr({0}, 1, 10)", "postgresql": "to_char({0}, 'YYYY-MM-DD')"}


def hazard_key(d: Mapping[str, Any]) -> tuple[str, str]:
    """The order of 逾期隐患 and 重大隐患: by deadline (none first), then credit code (then row, in SQL)."""
    return (str(d["deadline"] or ""), str(d["uscc"]))


def _HAZARD_ORDER(t: tuple) -> tuple[str, str]:  # noqa: N802 - hazard_key of a tuple of HAZARD_KEYS
    return (str(t[10] or ""), str(t[0]))


# Overdue hazards at several month-ends in one pass: a submission is an enterprise's latest on day m
# when it was received on or before m and the next one (if any) after m. Each submission's hazards are
# counted once for every month-end (one column each, {columns}), then the column of the month it counts in.
_TREND = """
WITH spans AS (
  SELECT s.id, substr(s.received_at, 1, 10) AS first_day,
         LEAD(substr(s.received_at, 1, 10)) OVER (PARTITION BY s.uscc ORDER BY s.received_at, s.id) AS next_day
  FROM submissions s WHERE substr(s.received_at, 1, 10) <= :as_of_day {prefilter}),
months AS ({months}),
counts AS {materialized}(SELECT sp.id AS sid, sp.first_day, sp.next_day, {columns}
           FROM spans sp LEFT JOIN hazards h ON h.submission_id = sp.id
           WHERE sp.next_day IS NULL OR sp.next_day > :first_day
           GROUP BY sp.id, sp.first_day, sp.next_day),
counted AS (
SELECT m.month, l.uscc, l.received_at, COALESCE(CASE m.i {pick} END, 0) AS overdue
FROM months m JOIN counts c ON c.first_day <= m.day_text AND (c.next_day IS NULL OR c.next_day > m.day_text)
JOIN submissions l ON l.id = c.sid {area} {keep})
"""


@dataclass(frozen=True)
class Area:
    """The part of the archive a roll-up covers: everything, one city, or one county (of one city); *usccs*, when
    given, limits it to those enterprises (the web service renews the rows of the enterprises just confirmed)."""

    city: str | None = None
    county: str | None = None
    usccs: tuple[str, ...] = ()

    def sql(self, alias: str) -> str:
        parts = [f"{alias}.{k} = :area_{k}" for k in ("city", "county") if getattr(self, k)]
        if self.usccs:
            parts.append(f"{alias}.uscc IN ({', '.join(f':area_uscc_{i}' for i in range(len(self.usccs)))})")
        return "".join(f" AND {p}" for p in parts)

    def prefilter(self) -> str:
        """Limits the ranking to enterprises that were ever in the area (uses the area index)."""
        inner = self.sql("a")
        return f" AND s.uscc IN (SELECT a.uscc FROM submissions a WHERE 1 = 1{inner})" if inner else ""

    def params(self) -> dict[str, str]:
        named = {f"area_{k}": v for k in ("city", "county") if (v := getattr(self, k))}
        return named | {f"area_uscc_{i}": u for i, u in enumerate(self.usccs)}

    def __str__(self) -> str:
        return "/".join(x for x in (self.city, self.county) if x) or "全部"


def _params(conn: Connection, as_of: date, area: Area) -> dict[str, Any]:
    since = as_of - timedelta(days=365)
    return {"as_of_day": as_of.isoformat(), "as_of": _day(conn, as_of), "since_day": since.isoformat(),
            "since": _day(conn, since), **area.params()}


def _day(conn: Connection, day: date) -> Any:
    """A date parameter: ISO text for SQLite's text dates, a date for PostgreSQL's DATE columns."""
    return day.isoformat() if conn.dialect.name == "sqlite" else day


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _collate(conn: Connection) -> str:
    return ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""


def _latest(area: Area, keep: bool) -> str:
    return _LATEST.format(prefilter=area.prefilter(), area=area.sql("ranked"),
                          keep=f" AND ranked.id IN (SELECT id FROM {KEEP})" if keep else "")


def _sql(conn: Connection, template: str, area: Area, keep: bool, table: bool, part: tuple[int, int] | None = None,
         **more: str) -> str:
    """*template* with its latest submissions: the session's table (*table*), else computed in the query;
    *part* (k, n): only the enterprises whose credit code hashes to k modulo n (PostgreSQL, with *table*)."""
    latest = f"SELECT * FROM {LATEST}" + \
        (f" WHERE (hashtext(uscc) & 2147483647) % {int(part[1])} = {int(part[0])}" if part else "")
    return template.format(latest=latest if table else _latest(area, keep), C=_collate(conn), **more)


def _stream(conn: Connection, sql: str, params: Mapping[str, Any]) -> Iterator[Any]:
    """Rows of *sql* through a server-side cursor (PostgreSQL), a few thousand at a time."""
    return iter(conn.execution_options(stream_results=True, yield_per=2000).execute(sa.text(sql), dict(params)))


def enterprise_rows(conn: Connection, as_of: date, area: Area = Area(), keep: bool = False, *,
                    table: bool = False, part: tuple[int, int] | None = None) -> Iterator[EnterpriseRow]:
    """Each enterprise's indicators from its latest submission on or before *as_of* (one query, streamed, in
    the order of 企业明细); breaches are not evaluated here. *part*: see :func:`_sql`."""
    sql = _sql(conn, _ENTERPRISES, area, keep, table, part, days=_DAYS[conn.dialect.name])
    for r in _stream(conn, sql, _params(conn, as_of, area)):
        (uscc, name, county, township, industry, last_submission, received_at, template_version, errors, r_major,
         r_significant, r_general, r_low, posts, employees, total, open_, overdue, major_open, without_plan,
         on_time, late, trainings, drills, quiz, people, last_training, last_drill, major_unreported, major_overdue,
         overdue_days, major_overdue_days, overdue_longest, last_found, posts_unconfirmed, employees_unconfirmed,
         plans, rewards, procedures, unit_duties, signs) = r
        yield EnterpriseRow(
            uscc=uscc, name=name or uscc, county=county or "", township=township or "", industry=industry or "",
            last_submission=last_submission, received_at=received_at, template_version=template_version or "",
            data_errors=errors, risks_major=r_major, risks_significant=r_significant, risks_general=r_general,
            risks_low=r_low, posts=posts, employees=employees, hazards_total=int(total), hazards_open=int(open_),
            hazards_overdue=int(overdue), major_open=int(major_open), major_without_plan=int(without_plan),
            closed_on_time=int(on_time), closed_late=int(late), trainings_12m=int(trainings), drills_12m=int(drills),
            quiz_12m=int(quiz), quiz_people_12m=int(people), major_unreported=int(major_unreported),
            employees_unconfirmed=int(employees_unconfirmed), posts_unconfirmed=int(posts_unconfirmed),
            inspection_plans=int(plans), rewards_12m=int(rewards), procedures=int(procedures),
            unit_duties=int(unit_duties), signs=int(signs), major_overdue=int(major_overdue),
            overdue_days=int(overdue_days), major_overdue_days=int(major_overdue_days),
            overdue_longest=int(overdue_longest), days_since_hazard=_days_since(_date(last_found), as_of),
            months_since_training=_months_since(_date(last_training), as_of),
            months_since_drill=_months_since(_date(last_drill), as_of))


def hazard_rows(conn: Connection, as_of: date, which: str, area: Area = Area(), keep: bool = False, *,
                table: bool = False) -> Iterator[dict]:
    """The overdue (*which* = "overdue") or open major ("major") hazards of the latest submissions, streamed in
    the order of their sheet (dicts of :data:`HAZARD_KEYS`)."""
    for r in hazard_tuples(conn, as_of, which, area, keep, table=table):
        yield dict(zip(HAZARD_KEYS, r, strict=True))


def hazard_tuples(conn: Connection, as_of: date, which: str, area: Area = Area(), keep: bool = False, *,
                  table: bool = False) -> Iterator[tuple]:
    """:func:`hazard_rows` as tuples of :data:`HAZARD_KEYS`, every value made by the database."""
    where = _OVERDUE if which == "overdue" else f"{_MAJOR} AND {_OPEN}"
    dialect = conn.dialect.name
    sql = _sql(conn, _HAZARD_LIST, area, keep, table, where=where, days=_DAYS[dialect],
               deadline=_ISO_DAY[dialect].format("h.deadline"), reported_on=_ISO_DAY[dialect].format("h.reported_on"))
    for r in _stream(conn, sql, _params(conn, as_of, area)):
        yield tuple(r)


def hazard_list(conn: Connection, as_of: date, which: str, area: Area = Area(), keep: bool = False) -> list[dict]:
    """:func:`hazard_rows` as a list (a county's few)."""
    return list(hazard_rows(conn, as_of, which, area, keep))


def _days_since(last: date | None, as_of: date) -> int | None:
    return None if last is None else (as_of - last).days


def _months_since(last: date | None, as_of: date) -> int | None:
    return None if last is None else months_between(last, as_of)


def _trend_sql(conn: Connection, days: list[date], area: Area, keep: bool) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"as_of_day": max(days).isoformat(), "first_day": min(days).isoformat(), **area.params()}
    rows, columns, pick = [], [], []
    for i, day in enumerate(days):
        params[f"t{i}"], params[f"d{i}"], params[f"m{i}"] = day.isoformat(), _day(conn, day), day.strftime("%Y-%m")
        cast = f":d{i}" if conn.dialect.name == "sqlite" else f"CAST(:d{i} AS DATE)"
        rows.append(f"SELECT {i} AS i, :m{i} AS month, :t{i} AS day_text")
        columns.append(f"{_count(_OVERDUE.replace(':as_of', cast))} AS o{i}")
        pick.append(f"WHEN {i} THEN c.o{i}")
    # counted once per submission (PostgreSQL would otherwise inline them into each month's rows)
    materialized = "MATERIALIZED " if conn.dialect.name == "postgresql" else ""
    sql = _TREND.format(prefilter=area.prefilter(), area=area.sql("l"), months=" UNION ALL ".join(rows),
                        materialized=materialized,
                        columns=", ".join(columns), pick=" ".join(pick),
                        keep=f" AND l.id IN (SELECT id FROM {KEEP})" if keep else "")
    return sql, params


def month_counts(conn: Connection, days: list[date], area: Area = Area(),
                 keep: bool = False) -> dict[str, tuple[int, int]]:
    """Month → (enterprises counted at that month's end, their overdue hazards then), in one query."""
    sql, params = _trend_sql(conn, days, area, keep)
    out = {day.strftime("%Y-%m"): (0, 0) for day in days}
    for month, n, overdue in conn.execute(sa.text(sql + "SELECT month, COUNT(*), SUM(overdue) FROM counted GROUP BY month"),
                                          params):
        out[month] = (int(n), int(overdue or 0))
    return out


def trend(conn: Connection, days: list[date], area: Area = Area(), keep: bool = False) -> dict[str, int]:
    """Overdue hazards at each of *days* (month → count), across the latest submissions on each day, in one query."""
    return {month: overdue for month, (_, overdue) in month_counts(conn, days, area, keep).items()}


def month_rows(conn: Connection, days: list[date], area: Area = Area(), keep: bool = False) -> Iterator[MonthRow]:
    """What the trend sums, per enterprise (:data:`~dpsheets.county.rollup.MonthRow`), by month and credit code."""
    sql, params = _trend_sql(conn, days, area, keep)
    order = f"SELECT month, uscc, received_at, overdue FROM counted ORDER BY month, uscc{_collate(conn)}"
    for month, uscc, received_at, n in _stream(conn, sql + order, params):
        yield (month, uscc, received_at, int(n or 0))


def _restrict(conns: Sequence[Connection], day: date, area: Area) -> None:
    """Several archives: in each, keep (temp table) only the submissions that count on *day* across all of
    them: per credit code the latest received on or before *day* (on a tie, the later archive's)."""
    candidates = []
    for i, conn in enumerate(conns):
        sql = "SELECT uscc, received_at, id FROM (" + _latest(area, False) + ") latest"
        candidates += [(r[0], r[1], i, r[2]) for r in conn.execute(sa.text(sql), _params(conn, day, area))]
    winner: dict[str, tuple[int, int]] = {}
    for uscc, _received, i, sid in sorted(candidates):
        winner[uscc] = (i, sid)
    for i, conn in enumerate(conns):
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {KEEP}"))
        conn.execute(sa.text(f"CREATE TEMP TABLE {KEEP} (id INTEGER PRIMARY KEY)"))
        keep = [{"id": sid} for j, sid in winner.values() if j == i]
        if keep:
            conn.execute(sa.text(f"INSERT INTO {KEEP} (id) VALUES (:id)"), keep)


def _prepare(conn: Connection, as_of: date, area: Area, keep: bool, latest: bool = True, snapshot: str = "") -> None:
    """A connection ready for the roll-up's queries: PostgreSQL's settings, the *snapshot* of the session
    (its data as the session sees it), and (*latest*) the latest submissions in their temporary table."""
    if snapshot:
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    if conn.dialect.name == "postgresql":  # sorts and hashes in memory; no JIT for one-off queries
        conn.exec_driver_sql("SET work_mem = '64MB'")
        conn.exec_driver_sql("SET jit = off")
    if latest:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {LATEST}"))
        conn.execute(sa.text(f"CREATE TEMP TABLE {LATEST} AS {_latest(area, keep)}"), _params(conn, as_of, area))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ANALYZE {LATEST}")


def _session(paths: Sequence[Path | str], as_of: date,
             area: Area) -> Iterator[tuple[list[Connection], list[str], list[Archive], str]]:
    """Connections to the archives, each with its latest submissions in a temporary table; their names; the
    archives and, for one PostgreSQL archive, the session's exported snapshot (for connections of their own
    that see the same data, see :func:`_alongside`; "": none)."""
    with ExitStack() as stack:
        archives = [stack.enter_context(Archive(p)) for p in paths]
        conns = [stack.enter_context(a.connect()) for a in archives]
        snapshot = ""
        if len(conns) == 1 and conns[0].dialect.name == "postgresql":
            conns[0] = conns[0].execution_options(isolation_level="REPEATABLE READ")
            snapshot = str(conns[0].exec_driver_sql("SELECT pg_export_snapshot()").scalar())
        if len(conns) > 1:
            for conn in conns:
                _prepare(conn, as_of, area, keep=False, latest=False)
            _restrict(conns, as_of, area)
        for conn in conns:
            _prepare(conn, as_of, area, keep=len(conns) > 1)
        yield conns, [a.shown for a in archives], archives, snapshot


T = TypeVar("T")


def _alongside(pool: ThreadPoolExecutor, archive: Archive, snapshot: str, as_of: date, area: Area, latest: bool,
               job: Callable[[Connection], T]) -> Callable[[], T]:
    """*job* on a connection of its own to *archive*, prepared like the session's and seeing the same data
    (its exported *snapshot*), in *pool*'s thread while this one goes on; the returned call waits for its
    result (and raises what the job raised).

    PostgreSQL computes each query in a process of its own: the queries that the roll-up needs later (the
    hazard lists, the trend) run on the server while this process reads and evaluates the enterprises,
    so a province roll-up takes about the longer of the two, not their sum."""
    def run() -> T:
        with archive.connect() as plain:
            conn = plain.execution_options(isolation_level="REPEATABLE READ")
            _prepare(conn, as_of, area, keep=False, latest=latest, snapshot=snapshot)
            return job(conn)

    return pool.submit(run).result


_ENTERPRISE_FIELDS = tuple(f.name for f in fields(EnterpriseRow) if f.name != "breaches")


# The spilled rows are plain values (text, numbers, lists, dicts) packed with marshal: the fastest exact
# round trip of the standard library, read back by this process only (the spill is its own temporary file).

def _pack_enterprise(row: EnterpriseRow) -> tuple[bytes]:
    values = [getattr(row, k) for k in _ENTERPRISE_FIELDS]
    return (marshal.dumps([values, [[b.code, dict(b.params), b.points] for b in row.breaches]]),)


def _unpack_enterprise(packed: tuple[Any, ...]) -> EnterpriseRow:
    values, breaches = marshal.loads(packed[-1])
    return EnterpriseRow(**dict(zip(_ENTERPRISE_FIELDS, values, strict=True)),
                         breaches=[Breach(code, params, points) for code, params, points in breaches])


def _listed(row: EnterpriseRow) -> tuple[str, str, str, str, bytes]:
    """*row* put aside in the order of 企业明细 (:func:`enterprise_key`, then packed), whatever order it came in."""
    return (*enterprise_key(row), _pack_enterprise(row)[0])


KEPT_WIDTH, KEPT_KEY = 5, 4  # the layout of _listed rows in their Spill


def _later(rows: Callable[[], Iterable[T]]) -> Iterator[T]:
    """The rows *rows*() gives, asked for when first needed."""
    yield from rows()


def _merged(streams: list[Iterator[Any]], key: Callable[[Any], Any]) -> Iterator[Any]:
    return streams[0] if len(streams) == 1 else heapq.merge(*streams, key=key)


def rollup_archives(paths: Iterable[str | Path], *, as_of: date, config: Config | None = None,
                    roster: list[MissingRow] | None = None, level: str = "县", area: Area = Area(),
                    alerts_since: date | None = None, lists_only: bool = False) -> Rollup:
    """The roll-up of one or more archives (paths or URLs), of *area* in them; its 新增重大隐患 are the alerts
    raised after *alerts_since* (default: 30 days before as-of) up to as-of. Every figure, list and month of
    the trend comes from one set of submissions: per credit code the latest on or before the day, whichever
    archive holds it. Computed in SQL, set-based, in one session (on one PostgreSQL archive, with connections
    of their own alongside that share its snapshot: see the module); each long list is read once, in order,
    through a server-side cursor, and put aside on local disk (:class:`~dpsheets.county.rows.Spill`) as it
    passes, so the roll-up holds none of them in memory and its sheets all show the same moment.

    *lists_only*: only the enterprises (with their breaches), the hazard lists and the roster's non-submitters,
    which is what the web service's staff pages show: no trend, 报送情况 or alerts (empty, None)."""
    config = config or Config()
    with contextmanager(_session)(tuple(paths), as_of, area) as (conns, shown, archives, snapshot), ExitStack() as stack, \
            collector_paused():  # a province's rows and filings: see dpsheets.collector
        # one PostgreSQL archive: the later queries run alongside on connections of their own (see _alongside)
        pool = stack.enter_context(ThreadPoolExecutor(3, "dpsheets-rollup")) if snapshot else None

        def lists_of(on: list[Connection]) -> list[Rows[dict]]:
            return [_spill_hazards(on, as_of, which, area) for which in ("overdue", "major")]

        def months_of(on: list[Connection]) -> tuple[dict[str, int | None], Rows[MonthRow] | None]:
            return ({}, None) if lists_only else _months(on, as_of, area, per_enterprise=level != TOP_LEVEL)

        if pool is not None:  # half of the enterprises, the hazard lists, the trend: each on a connection of its own
            half_later = _alongside(pool, archives[0], snapshot, as_of, area, True, lambda c: _spill_enterprises(c, as_of, area))
            lists_later = _alongside(pool, archives[0], snapshot, as_of, area, True, lambda c: lists_of([c]))
            months_later = _alongside(pool, archives[0], snapshot, as_of, area, False, lambda c: months_of([c]))
        submitted = [u for c in conns for (u,) in c.execute(sa.text(f"SELECT uscc FROM {LATEST}"))]
        listed = set(submitted)
        missing = [not_submitted(m, config.rules) for m in (roster or []) if m.uscc not in listed]
        periods = reporting.periods(as_of)
        received = {} if lists_only else first_received(conns, periods, as_of, area.prefilter(), area.params())
        own = {m.uscc: m.deadlines for m in roster or [] if m.deadlines is not None}
        filings = None if lists_only else build_filings(as_of, periods, received,
                                                        [*submitted, *(m.uscc for m in missing)], own)
        since = alerts_since or as_of - timedelta(days=alert_rows.WINDOW_DAYS)
        listed |= {m.uscc for m in missing}
        raised = [] if lists_only else [a for a in alert_rows.merge(alert_rows.listed(conn, since, as_of) for conn in conns)
                                        if a["uscc"] in listed]
        del listed, received, submitted

        kept = Spill(KEPT_WIDTH, KEPT_KEY)  # read back in the order of 企业明细, so they may come in any order

        def evaluated(rows: Iterator[EnterpriseRow]) -> Iterator[EnterpriseRow]:
            for row in rows:
                row.breaches = evaluate(row, as_of, config.rules)
                yield row

        def keep(rows: Iterator[EnterpriseRow]) -> Iterator[EnterpriseRow]:
            for row in rows:
                kept.add(_listed(row))
                yield row

        if pool is None:
            streams: list[Iterable[EnterpriseRow]] = [enterprise_rows(c, as_of, area, table=True) for c in conns]
        else:  # one half read (and evaluated) here while the other is computed alongside, then that half
            streams = [enterprise_rows(conns[0], as_of, area, table=True, part=(0, 2)), _later(half_later)]
        summary = summarise(keep(evaluated(itertools.chain.from_iterable(streams))), missing, filings)
        if pool is None:
            lists, (months, monthly) = lists_of(conns), months_of(conns)
        else:
            lists, (months, monthly) = lists_later(), months_later()
    return Rollup(as_of, level, kept.rows(_unpack_enterprise), missing, lists[0], lists[1], months, config.rules,
                  shown, monthly=monthly, filings=filings, alerts=raised, alerts_since=since, summary_=summary)


def _spill_enterprises(conn: Connection, as_of: date, area: Area) -> Rows[EnterpriseRow]:
    """The second half of :func:`enterprise_rows` (by credit code), put aside on local disk as it passes."""
    spill = Spill(1, 0)
    for row in enterprise_rows(conn, as_of, area, table=True, part=(1, 2)):
        spill.add(_pack_enterprise(row))
    return spill.rows(_unpack_enterprise)


def _spill_hazards(conns: list[Connection], as_of: date, which: str, area: Area) -> Rows[dict]:
    """The hazards of :func:`hazard_rows`, merged across *conns*, put aside on local disk as they pass (as tuples,
    made into dicts when read)."""
    spill = Spill(1, 0)
    for t in _merged([hazard_tuples(c, as_of, which, area, table=True) for c in conns], _HAZARD_ORDER):
        spill.add((marshal.dumps(t),))
    return spill.rows(hazard_of)


def hazard_of(packed: tuple[bytes]) -> dict:
    """A spilled hazard (:func:`_spill_hazards`) as the dict of :func:`hazard_rows`."""
    return dict(zip(HAZARD_KEYS, marshal.loads(packed[0]), strict=True))


def _months(conns: list[Connection], as_of: date, area: Area,
            per_enterprise: bool = True) -> tuple[dict[str, int | None], Rows[MonthRow] | None]:
    """The trend (month → overdue hazards; None: no submission by then, a gap, not 0) and the per-enterprise
    figures it sums, in one pass (*per_enterprise* False: the trend alone, the figures None)."""
    days = month_ends(as_of)
    if not per_enterprise and len(conns) == 1:  # the same sums, counted in SQL
        counted = month_counts(conns[0], days, area)
        return {month: overdue if n else None for month, (n, overdue) in sorted(counted.items())}, None
    spill = Spill(4, 0)
    counts = {day.strftime("%Y-%m"): [0, 0] for day in days}
    if len(conns) == 1:
        rows: Iterable[MonthRow] = month_rows(conns[0], days, area)
    else:  # each month's end decided across the archives, then merged by credit code
        def each_day() -> Iterator[MonthRow]:
            for day in days:
                _restrict(conns, day, area)
                yield from heapq.merge(*[list(month_rows(c, [day], area, keep=True)) for c in conns],
                                       key=lambda r: r[1])
        rows = each_day()
    for row in rows:
        if per_enterprise:
            spill.add(row)
        count = counts[row[0]]
        count[0] += 1
        count[1] += row[3]
    trend: dict[str, int | None] = {month: overdue if n else None for month, (n, overdue) in sorted(counts.items())}
    return trend, spill.rows(tuple) if per_enterprise else None
