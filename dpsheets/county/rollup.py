"""County roll-up (DOMAIN §8): indicators per enterprise from the archive, the rules for
"not running effectively" (差异化执法), and sums per township, industry and county.

Everything is computed from the archive, not by re-reading workbooks: for each enterprise
its latest submission on or before the as-of date, with hazard states evaluated on that
date. Group figures are sums of the enterprise rows, so a city roll-up of county summaries
(:mod:`dpsheets.county.summary_book`) equals the roll-up of the union of their archives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dpsheets.config import Config, RollupRules
from dpsheets.county import alerts as alert_rows
from dpsheets.county.archive import Archive
from dpsheets.county.enforcement import evaluate, not_submitted, ranked
from dpsheets.county.filings import Filings, first_received
from dpsheets.county.filings import build as build_filings
from dpsheets.rules import hazard_state, reporting, sanyou
from dpsheets.rules.breaches import Breach, score
from dpsheets.workbook.registers import identity_columns

__all__ = ["evaluate", "not_submitted"]  # decided in dpsheets.county.enforcement, kept importable from here

# The indicators of one enterprise: (key, Chinese header). Numeric ones are summed in groups.
INDICATORS: tuple[tuple[str, str], ...] = (
    ("data_errors", "数据错误"), ("risks_major", "重大风险"), ("risks_significant", "较大风险"),
    ("risks_general", "一般风险"), ("risks_low", "低风险"), ("hazards_total", "隐患总数"), ("hazards_open", "未销号隐患"),
    ("hazards_overdue", "逾期隐患"), ("major_open", "重大隐患未销号"), ("major_without_plan", "重大隐患无治理方案"),
    ("closed_on_time", "按期销号"), ("closed_late", "逾期销号"), ("posts", "岗位告知卡"), ("employees", "岗位人员"),
    ("trainings_12m", "近12个月培训次数"), ("drills_12m", "近12个月演练次数"), ("quiz_12m", "近12个月答题确认"),
    ("quiz_people_12m", "近12个月答题确认人数"), ("major_unreported", "重大隐患未上报"),
    # 一题 and 三有五化 from the archive's typed rows, named as the check names them (dpsheets.rules.sanyou)
    *((k, h) for k, h in sanyou.INDICATORS if k in ("employees_unconfirmed", "posts_unconfirmed", "inspection_plans",
                                                     "rewards_12m", "procedures", "unit_duties", "signs")),
)
IDENTITY: tuple[tuple[str, str], ...] = (
    *identity_columns(), ("last_submission", "最近报送日期"), ("template_version", "模板版本"),
)
OVERDUE_COLUMNS: tuple[tuple[str, str], ...] = (
    *identity_columns("enterprise"), ("number", "隐患编号"), ("name", "隐患名称"), ("location", "隐患位置"), ("level", "隐患等级"),
    ("status", "治理状态"), ("deadline", "治理期限"), ("days_overdue", "逾期天数"), ("unit", "责任单位"), ("owner", "责任人"),
    ("has_plan", "有治理方案"),
)
# 重大隐患 also shows the day it was reported to the supervising department (上报日期, 16号令 art. 15)
MAJOR_COLUMNS: tuple[tuple[str, str], ...] = (*OVERDUE_COLUMNS, ("reported_on", "上报日期"))


@dataclass(slots=True)
class EnterpriseRow:
    uscc: str
    name: str
    county: str = ""
    township: str = ""
    industry: str = ""
    last_submission: str = ""
    template_version: str = ""
    data_errors: int = 0
    risks_major: int = 0
    risks_significant: int = 0
    risks_general: int = 0
    risks_low: int = 0
    hazards_total: int = 0
    hazards_open: int = 0
    hazards_overdue: int = 0
    major_open: int = 0
    major_without_plan: int = 0
    closed_on_time: int = 0
    closed_late: int = 0
    posts: int = 0
    employees: int = 0
    trainings_12m: int = 0
    drills_12m: int = 0
    quiz_12m: int = 0  # 答题确认记录 of the workbook and phone confirmations, each (date, name, post) once
    quiz_people_12m: int = 0  # distinct workers among them
    major_unreported: int = 0  # open 重大隐患 with a plan but no 上报日期
    employees_unconfirmed: int = 0  # listed employees without a confirmation of their post (name and post) in 12 months
    posts_unconfirmed: int = 0  # posts nobody confirmed in 12 months
    inspection_plans: int = 0
    rewards_12m: int = 0
    procedures: int = 0  # posts with the content of their procedure
    unit_duties: int = 0
    signs: int = 0  # warning signs (a row without a number counts once)
    # what the severity of overdue hazards is weighed by (not shown; the breach keeps them as parameters)
    major_overdue: int = 0
    overdue_days: int = 0  # days overdue, summed over the overdue hazards
    major_overdue_days: int = 0
    overdue_longest: int = 0
    days_since_hazard: int | None = None  # since the last hazard found (None: none found)
    months_since_training: int | None = None  # None: never
    months_since_drill: int | None = None
    breaches: list[Breach] = field(default_factory=list)
    received_at: str = ""  # the full time of the latest submission (which archive's copy wins)

    @property
    def closure_rate(self) -> float | None:
        return (self.closed_on_time + self.closed_late) / self.hazards_total if self.hazards_total else None

    @property
    def quiz_coverage(self) -> float | None:
        """Share of the listed workers who confirmed their post's questions in the 12 months."""
        return (self.employees - self.employees_unconfirmed) / self.employees if self.employees else None

    @property
    def score(self) -> float:
        """分值: how urgently the county should inspect (the sum of the breaches' points)."""
        return score(self.breaches)

    @property
    def not_effective(self) -> bool:
        return bool(self.breaches)


@dataclass(slots=True)
class MissingRow:
    """An enterprise on the roster without a submission on or before the as-of date."""

    uscc: str
    name: str
    county: str = ""
    township: str = ""
    industry: str = ""
    breaches: list[Breach] = field(default_factory=list)
    deadlines: reporting.Deadlines | None = None  # the county's own reporting deadlines (roster), None: 16号令's

    @property
    def score(self) -> float:
        return score(self.breaches)


@dataclass
class GroupRow:
    key: str
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    not_effective: int = 0
    sums: dict[str, int] = field(default_factory=dict)

    @property
    def closure_rate(self) -> float | None:
        total = self.sums.get("hazards_total", 0)
        return (self.sums.get("closed_on_time", 0) + self.sums.get("closed_late", 0)) / total if total else None

    @property
    def submission_rate(self) -> float | None:
        return self.submitted / self.expected if self.expected else None


@dataclass(frozen=True)
class RuleSet:
    """The rules applied to part of a roll-up: *scope* names where (county names; "" for all of it)."""

    scope: str
    rules: RollupRules


@dataclass
class Rollup:
    as_of: date
    level: str  # 县 / 市 / 省
    enterprises: list[EnterpriseRow]
    missing: list[MissingRow]
    overdue: list[dict]
    majors: list[dict]
    trend: dict[str, int | None]  # YYYY-MM → overdue hazards at that month's end; None: no submission yet (a gap)
    rules: RollupRules
    sources: list[str] = field(default_factory=list)
    rule_sets: list[RuleSet] = field(default_factory=list)  # as applied below (city: each county's); default: rules
    notes: list[str] = field(default_factory=list)  # Chinese warnings for the user (e.g. skipped roster rows)
    # YYYY-MM → credit code → (time of the submission counted at that month's end, its overdue hazards then):
    # what the trend sums, kept so that a city can count an enterprise found in two counties once.
    monthly: dict[str, dict[str, tuple[str, int]]] | None = None
    # 报送情况: each listed enterprise's periodic statistics, on time or not (dpsheets.county.filings)
    filings: Filings | None = None
    # 新增重大隐患: the major-hazard alerts raised after alerts_since, up to as-of (dpsheets.county.alerts)
    alerts: list[dict] = field(default_factory=list)
    alerts_since: date | None = None

    def applied_rules(self) -> list[RuleSet]:
        """The rules the enterprises' breaches were decided by (one set, or one per county that differed)."""
        return self.rule_sets or [RuleSet("", self.rules)]

    def groups(self, key: str) -> list[GroupRow]:
        return group_rows(self, key)

    def totals(self) -> GroupRow:
        return group_rows(self, None)[0]

    def enforcement(self) -> list[EnterpriseRow | MissingRow]:
        """重点检查企业: the enterprises with a breach, most severe (分值) first."""
        return ranked([*self.enterprises, *self.missing])


# --- computing from archives (set-based SQL shared by SQLite and PostgreSQL) ---------------------

# The latest submission of each enterprise on or before :as_of, inside the area (city/county) asked for.
_LATEST = """
SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.uscc ORDER BY s.received_at DESC, s.id DESC) AS rn
               FROM submissions s WHERE substr(s.received_at, 1, 10) <= :as_of_day {prefilter}) ranked
WHERE rn = 1 {area} {keep}
"""
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


_ENTERPRISES = f"""
WITH latest AS ({_LATEST}),
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
quiz AS (SELECT l.uscc, CAST(x.date AS TEXT) AS day, TRIM(x.name) AS name, TRIM(COALESCE(x.post, '')) AS post
         FROM quizzes x JOIN latest l ON l.id = x.submission_id
         WHERE TRIM(COALESCE(x.name, '')) <> '' AND x.date > :since AND x.date <= :as_of
         UNION
         SELECT c.uscc, c.day, c.name, c.post FROM confirmations c JOIN latest l ON l.uscc = c.uscc
         WHERE c.day > :since_day AND c.day <= :as_of_day),
qc AS (SELECT uscc, COUNT(*) AS confirmations, COUNT(DISTINCT name) AS people FROM quiz GROUP BY uscc),
-- posts nobody confirmed, employees who did not confirm their own post (dpsheets.rules.sanyou, by name and post)
pu AS (SELECT l.uscc, COUNT(*) AS n FROM posts p JOIN latest l ON l.id = p.submission_id
       WHERE TRIM(COALESCE(p.post, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM quiz q WHERE q.uscc = l.uscc AND q.post = TRIM(p.post)) GROUP BY l.uscc),
eu AS (SELECT l.uscc, COUNT(*) AS n FROM employees e JOIN latest l ON l.id = e.submission_id
       WHERE TRIM(COALESCE(e.name, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM quiz q WHERE q.uscc = l.uscc AND q.name = TRIM(e.name)
                         AND q.post = TRIM(COALESCE(e.post, ''))) GROUP BY l.uscc),
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
FROM latest l LEFT JOIN hz ON hz.sid = l.id LEFT JOIN ld ON ld.sid = l.id LEFT JOIN qc ON qc.uscc = l.uscc
     LEFT JOIN pu ON pu.uscc = l.uscc LEFT JOIN eu ON eu.uscc = l.uscc LEFT JOIN sy ON sy.sid = l.id
ORDER BY l.uscc
"""
_HAZARD_LIST = f"""
WITH latest AS ({_LATEST})
SELECT l.uscc, l.name AS enterprise, l.county, l.township, l.industry, h.number, h.name, h.location, h.level, h.status,
       h.deadline, h.unit, h.owner, h.has_plan, h.reported_on
FROM hazards h JOIN latest l ON l.id = h.submission_id WHERE {{where}} ORDER BY h.deadline, l.uscc, h.row
"""
# Overdue hazards at several month-ends in one pass: a submission is an enterprise's latest on day m
# when it was received on or before m and the next one (if any) after m.
_TREND = f"""
WITH spans AS (
  SELECT s.id, substr(s.received_at, 1, 10) AS first_day,
         LEAD(substr(s.received_at, 1, 10)) OVER (PARTITION BY s.uscc ORDER BY s.received_at, s.id) AS next_day
  FROM submissions s WHERE substr(s.received_at, 1, 10) <= :as_of_day {{prefilter}}),
months AS ({{months}})
SELECT m.month, l.uscc, l.received_at,
       SUM(CASE WHEN h.submission_id IS NOT NULL AND {_OVERDUE.replace(":as_of", "m.day")} THEN 1 ELSE 0 END) AS overdue
FROM months m JOIN spans sp ON sp.first_day <= m.day_text AND (sp.next_day IS NULL OR sp.next_day > m.day_text)
JOIN submissions l ON l.id = sp.id {{area}} {{keep}}
LEFT JOIN hazards h ON h.submission_id = sp.id
GROUP BY m.month, l.id, l.uscc, l.received_at
"""


@dataclass(frozen=True)
class Area:
    """The part of the archive a roll-up covers: everything, one city, or one county (of one city)."""

    city: str | None = None
    county: str | None = None

    def sql(self, alias: str) -> str:
        parts = [f"{alias}.{k} = :area_{k}" for k in ("city", "county") if getattr(self, k)]
        return "".join(f" AND {p}" for p in parts)

    def prefilter(self) -> str:
        """Limits the ranking to enterprises that were ever in the area (uses the area index)."""
        inner = self.sql("a")
        return f" AND s.uscc IN (SELECT a.uscc FROM submissions a WHERE 1 = 1{inner})" if inner else ""

    def params(self) -> dict[str, str]:
        return {f"area_{k}": v for k in ("city", "county") if (v := getattr(self, k))}

    def __str__(self) -> str:
        return "/".join(x for x in (self.city, self.county) if x) or "全部"


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


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


def _sql(template: str, area: Area, keep: bool, alias: str = "ranked", **more: str) -> str:
    return template.format(prefilter=area.prefilter(), area=area.sql(alias),
                           keep=f" AND {alias}.id IN (SELECT id FROM {KEEP})" if keep else "", **more)


def enterprise_rows(conn: Connection, as_of: date, area: Area = Area(), keep: bool = False) -> Iterator[EnterpriseRow]:
    """Each enterprise's indicators from its latest submission on or before *as_of* (one query, streamed)."""
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(
        sa.text(_sql(_ENTERPRISES, area, keep, days=_DAYS[conn.dialect.name])), _params(conn, as_of, area)).mappings()
    for r in result:
        yield EnterpriseRow(
            uscc=r["uscc"], name=r["name"] or r["uscc"], county=r["county"] or "", township=r["township"] or "",
            industry=r["industry"] or "", last_submission=r["last_submission"], received_at=r["received_at"],
            template_version=r["template_version"] or "", data_errors=r["errors"], risks_major=r["risks_major"],
            risks_significant=r["risks_significant"], risks_general=r["risks_general"], risks_low=r["risks_low"],
            posts=r["posts"], employees=r["employees"], hazards_total=int(r["hazards_total"]),
            hazards_open=int(r["hazards_open"]), hazards_overdue=int(r["hazards_overdue"]),
            major_open=int(r["major_open"]), major_without_plan=int(r["major_without_plan"]),
            closed_on_time=int(r["closed_on_time"]), closed_late=int(r["closed_late"]),
            trainings_12m=int(r["trainings_12m"]), drills_12m=int(r["drills_12m"]), quiz_12m=int(r["quiz_12m"]),
            quiz_people_12m=int(r["quiz_people_12m"]), major_unreported=int(r["major_unreported"]),
            employees_unconfirmed=int(r["employees_unconfirmed"]), posts_unconfirmed=int(r["posts_unconfirmed"]),
            inspection_plans=int(r["inspection_plans"]), rewards_12m=int(r["rewards_12m"]),
            procedures=int(r["procedures"]), unit_duties=int(r["unit_duties"]), signs=int(r["signs"]),
            major_overdue=int(r["major_overdue"]), overdue_days=int(r["overdue_days"]),
            major_overdue_days=int(r["major_overdue_days"]), overdue_longest=int(r["overdue_longest"]),
            days_since_hazard=_days_since(_date(r["last_found"]), as_of),
            months_since_training=_months_since(_date(r["last_training"]), as_of),
            months_since_drill=_months_since(_date(r["last_drill"]), as_of))


def hazard_list(conn: Connection, as_of: date, which: str, area: Area = Area(), keep: bool = False) -> list[dict]:
    """The overdue (*which* = "overdue") or open major ("major") hazards of the latest submissions."""
    where = _OVERDUE if which == "overdue" else f"{_MAJOR} AND {_OPEN}"
    sql = _sql(_HAZARD_LIST, area, keep, where=where)
    return [_hazard_dict(r, as_of) for r in conn.execute(sa.text(sql), _params(conn, as_of, area)).mappings()]


def _days_since(last: date | None, as_of: date) -> int | None:
    return None if last is None else (as_of - last).days


def _months_since(last: date | None, as_of: date) -> int | None:
    return None if last is None else months_between(last, as_of)


def _hazard_dict(r: Mapping[Any, Any], as_of: date) -> dict:
    d = dict(r)
    deadline = _date(d.get("deadline"))
    d["deadline"] = deadline.isoformat() if deadline else None
    reported = _date(d.get("reported_on"))
    d["reported_on"] = reported.isoformat() if reported else None
    d["days_overdue"] = max((as_of - deadline).days, 0) if deadline else 0
    d["has_plan"] = "是" if d.get("has_plan") else "否"
    return d


def trend(conn: Connection, days: list[date], area: Area = Area(), keep: bool = False) -> dict[str, int]:
    """Overdue hazards at each of *days* (month → count), across the latest submissions on each day, in one query."""
    return {month: sum(n for _, n in by.values()) for month, by in monthly(conn, days, area, keep).items()}


def monthly(conn: Connection, days: list[date], area: Area = Area(),
            keep: bool = False) -> dict[str, dict[str, tuple[str, int]]]:
    """Month → credit code → (time of the submission that counts on that day, its overdue hazards then)."""
    params: dict[str, Any] = {"as_of_day": max(days).isoformat(), **area.params()}
    rows = []
    for i, day in enumerate(days):
        params[f"t{i}"], params[f"d{i}"], params[f"m{i}"] = day.isoformat(), _day(conn, day), day.strftime("%Y-%m")
        cast = f":d{i}" if conn.dialect.name == "sqlite" else f"CAST(:d{i} AS DATE)"
        rows.append(f"SELECT :m{i} AS month, :t{i} AS day_text, {cast} AS day")
    sql = _sql(_TREND, area, keep, alias="l", months=" UNION ALL ".join(rows))
    out: dict[str, dict[str, tuple[str, int]]] = {day.strftime("%Y-%m"): {} for day in days}
    for month, uscc, received_at, n in conn.execute(sa.text(sql), params):
        out[month][uscc] = (received_at, int(n or 0))
    return out


def _restrict(conns: Sequence[Connection], day: date, area: Area) -> None:
    """Several archives: in each, keep (temp table) only the submissions that count on *day* across all of
    them: per credit code the latest received on or before *day* (on a tie, the later archive's)."""
    candidates = []
    for i, conn in enumerate(conns):
        sql = "SELECT uscc, received_at, id FROM (" + _sql(_LATEST, area, False) + ") latest"
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


def overdue_at(archives: Sequence[Archive], day: date, area: Area = Area()) -> int | None:
    """Overdue hazards on *day* across the enterprises' latest submissions on or before it (each counted once);
    None when no enterprise had submitted by then — no data, which is not zero."""
    with ExitStack() as stack:
        conns = [stack.enter_context(a.connect()) for a in archives]
        by_month = _monthly(conns, [day], area)
        return sum(n for by in by_month.values() for _, n in by.values()) if any(by_month.values()) else None


def _monthly(conns: Sequence[Connection], days: list[date], area: Area) -> dict[str, dict[str, tuple[str, int]]]:
    if len(conns) == 1:
        return monthly(conns[0], days, area)
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for day in days:
        _restrict(conns, day, area)
        month = day.strftime("%Y-%m")
        out[month] = {}
        for c in conns:
            out[month].update(monthly(c, [day], area, keep=True)[month])
    return out


def month_ends(as_of: date, months: int = 12) -> list[date]:
    """The last *months* month-ends up to as-of (the current month is counted at as-of)."""
    out = [as_of]
    first = as_of.replace(day=1)
    for _ in range(months - 1):
        end = first - timedelta(days=1)
        out.append(end)
        first = end.replace(day=1)
    return sorted(out)


def rollup_archives(paths: Iterable[str | Path], *, as_of: date, config: Config | None = None,
                    roster: list[MissingRow] | None = None, level: str = "县", area: Area = Area(),
                    alerts_since: date | None = None, lists_only: bool = False) -> Rollup:
    """The roll-up of one or more archives (paths or URLs), of *area* in them; its 新增重大隐患 are the alerts
    raised after *alerts_since* (default: 30 days before as-of) up to as-of. Every figure, list and month of
    the trend comes from one set of submissions: per credit code the latest on or before the day, whichever
    archive holds it. Computed in SQL, set-based; one archive needs no reconciliation at all.

    *lists_only*: only the enterprises (with their breaches), the hazard lists and the roster's non-submitters,
    which is what the web service's staff pages show: no trend, 报送情况 or alerts (empty)."""
    config = config or Config()
    with ExitStack() as stack:
        archives = [stack.enter_context(Archive(p)) for p in paths]
        conns = [stack.enter_context(a.connect()) for a in archives]
        several = len(conns) > 1
        if several:
            _restrict(conns, as_of, area)
        rows: list[EnterpriseRow] = []
        overdue: list[dict] = []
        majors: list[dict] = []
        for conn in conns:
            rows += enterprise_rows(conn, as_of, area, several)
            overdue += hazard_list(conn, as_of, "overdue", area, several)
            majors += hazard_list(conn, as_of, "major", area, several)
        by_month = {} if lists_only else _monthly(conns, month_ends(as_of), area)
        months: dict[str, int | None] = {month: sum(n for _, n in by.values()) if by else None  # no submission
                                         for month, by in by_month.items()}                   # yet: a gap, not 0
        if several:
            for conn in conns:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {KEEP}"))
        periods = reporting.periods(as_of)
        received = None if lists_only else first_received(conns, periods, as_of, area.prefilter(), area.params())
        since = alerts_since or as_of - timedelta(days=alert_rows.WINDOW_DAYS)
        raised = [] if lists_only else alert_rows.merge(alert_rows.listed(conn, since, as_of) for conn in conns)
        sources = [a.shown for a in archives]
    overdue.sort(key=lambda d: (d["deadline"] or "", d["uscc"]))  # the same order from every engine
    majors.sort(key=lambda d: (d["deadline"] or "", d["uscc"]))
    enterprises = sorted(rows, key=lambda r: (r.county, r.township, r.name, r.uscc))
    for row in enterprises:
        row.breaches = evaluate(row, as_of, config.rules)
    submitted = {r.uscc for r in enterprises}
    missing = [not_submitted(m, config.rules) for m in (roster or []) if m.uscc not in submitted]
    own = {m.uscc: m.deadlines for m in roster or [] if m.deadlines is not None}
    filings = None if received is None else build_filings(as_of, periods, received,
                                                          [*submitted, *(m.uscc for m in missing)], own)
    listed = submitted | {m.uscc for m in missing}
    return Rollup(as_of, level, enterprises, missing, overdue, majors, dict(sorted(months.items())), config.rules,
                  sources, monthly=None if lists_only else by_month, filings=filings,
                  alerts=[a for a in raised if a["uscc"] in listed],
                  alerts_since=since)


def group_rows(rollup: Rollup, key: str | None) -> list[GroupRow]:
    """Sums per *key* (township, industry, county), or one total row for None."""
    groups: dict[str, GroupRow] = {}

    def group(row: EnterpriseRow | MissingRow) -> GroupRow:
        name = "合计" if key is None else (getattr(row, key) or "未填写")
        return groups.setdefault(name, GroupRow(name, sums=dict.fromkeys((k for k, _ in INDICATORS), 0)))

    for row in rollup.enterprises:
        g = group(row)
        g.expected += 1
        g.submitted += 1
        g.on_time += rollup.filings is not None and rollup.filings.on_time(row.uscc)  # arrived by the due date
        g.not_effective += row.not_effective
        for k, _ in INDICATORS:
            g.sums[k] += getattr(row, k)
    for missing in rollup.missing:
        g = group(missing)
        g.expected += 1
        g.not_effective += 1
    if key is None and not groups:  # nothing to sum: a total of zeros
        groups["合计"] = GroupRow("合计", sums=dict.fromkeys((k for k, _ in INDICATORS), 0))
    return sorted(groups.values(), key=lambda g: g.key)

