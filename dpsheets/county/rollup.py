"""County roll-up (DOMAIN §8): indicators per enterprise from the archive, the rules for
"not running effectively" (差异化执法), and sums per township, industry and county.

Everything is computed from the archive, not by re-reading workbooks: for each enterprise
its latest submission on or before the as-of date, with hazard states evaluated on that
date. Group figures are sums of the enterprise rows, so a city roll-up of county summaries
(:mod:`dpsheets.county.summary_book`) equals the roll-up of the union of their archives.
"""

from __future__ import annotations

import marshal
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

from dpsheets.config import RollupRules
from dpsheets.county.enforcement import evaluate, not_submitted
from dpsheets.county.filings import Filings
from dpsheets.county.rows import Rows, Spill
from dpsheets.rules import reporting, sanyou
from dpsheets.rules.breaches import Breach, score
from dpsheets.workbook.registers import identity_columns

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
class FlaggedRow:
    """An enterprise on the list to inspect (重点检查企业): who it is and the rules it broke."""

    uscc: str
    name: str
    county: str = ""
    township: str = ""
    industry: str = ""
    breaches: list[Breach] = field(default_factory=list)

    @property
    def score(self) -> float:
        """分值: how urgently the county should inspect (the sum of the breaches' points)."""
        return score(self.breaches)


@dataclass(slots=True)
class EnterpriseRow(FlaggedRow):
    """An enterprise's indicators from its latest submission, with the rules it broke (its identity and
    breaches are a :class:`FlaggedRow`'s)."""

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
    received_at: str = ""  # the full time of the latest submission (which archive's copy wins)

    @property
    def closure_rate(self) -> float | None:
        return (self.closed_on_time + self.closed_late) / self.hazards_total if self.hazards_total else None

    @property
    def quiz_coverage(self) -> float | None:
        """Share of the listed workers who confirmed their post's questions in the 12 months."""
        return (self.employees - self.employees_unconfirmed) / self.employees if self.employees else None

    @property
    def not_effective(self) -> bool:
        return bool(self.breaches)


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


@dataclass(slots=True)
class MissingRow(FlaggedRow):
    """An enterprise on the roster without a submission on or before the as-of date."""

    deadlines: reporting.Deadlines | None = None  # the county's own reporting deadlines (roster), None: 16号令's


# Monthly figures of one enterprise: (YYYY-MM, credit code, time of the submission counted at that month's end,
# its overdue hazards then). What the trend sums, kept so that a city can count an enterprise found in two
# counties once.
MonthRow = tuple[str, str, str, int]
GROUP_KEYS = ("county", "township", "industry")
# The level no summary is combined into: its roll-up keeps no per-enterprise months (Rollup.monthly is None),
# which only a roll-up of the level above needs (to count an enterprise in two of its parts once).
TOP_LEVEL = "省"


@dataclass
class Summary:
    """What one pass over a roll-up's enterprises gives: the sums per group and the list to inspect."""

    groups: dict[str | None, list[GroupRow]]  # GROUP_KEYS and None (the 合计 row)
    enforcement: Sequence[FlaggedRow]
    counties: set[str]


@dataclass
class Rollup:
    """A roll-up. The long lists (enterprises, overdue and major hazards, monthly figures) may be :class:`Rows`
    kept on local disk and read each time they are iterated (see :mod:`dpsheets.county.rows`); the sums per
    group come from one pass over them, made once."""

    as_of: date
    level: str  # 县 / 市 / 省
    enterprises: Sequence[EnterpriseRow]
    missing: list[MissingRow]
    overdue: Sequence[dict]
    majors: Sequence[dict]
    trend: dict[str, int | None]  # YYYY-MM → overdue hazards at that month's end; None: no submission yet (a gap)
    rules: RollupRules
    sources: list[str] = field(default_factory=list)
    rule_sets: list[RuleSet] = field(default_factory=list)  # as applied below (city: each county's); default: rules
    notes: list[str] = field(default_factory=list)  # Chinese warnings for the user (e.g. skipped roster rows)
    monthly: Sequence[MonthRow] | None = None  # by month, then credit code; None at TOP_LEVEL
    # 报送情况: each listed enterprise's periodic statistics, on time or not (dpsheets.county.filings)
    filings: Filings | None = None
    # 新增重大隐患: the major-hazard alerts raised after alerts_since, up to as-of (dpsheets.county.alerts)
    alerts: list[dict] = field(default_factory=list)
    alerts_since: date | None = None
    summary_: Summary | None = field(default=None, repr=False, compare=False)

    def applied_rules(self) -> list[RuleSet]:
        """The rules the enterprises' breaches were decided by (one set, or one per county that differed)."""
        return self.rule_sets or [RuleSet("", self.rules)]

    def summary(self) -> Summary:
        if self.summary_ is None:
            self.summary_ = summarise(self.enterprises, self.missing, self.filings)
        return self.summary_

    def groups(self, key: str) -> list[GroupRow]:
        if key in GROUP_KEYS:
            return self.summary().groups[key]
        return group_rows(self, key)

    def totals(self) -> GroupRow:
        return self.summary().groups[None][0]

    def enforcement(self) -> Sequence[FlaggedRow]:
        """重点检查企业: the enterprises with a breach (and roster enterprises that did not submit), most severe
        (分值) first (:func:`dpsheets.county.enforcement.ranked`)."""
        return self.summary().enforcement

    def in_memory(self) -> Rollup:
        """This roll-up with its long lists read into memory once (a county's few, shown again and again by the
        web service); a roll-up already in memory as it is."""
        if not any(isinstance(x, Rows) for x in (self.enterprises, self.overdue, self.majors, self.monthly)):
            return self
        summary = self.summary()
        return replace(self, enterprises=list(self.enterprises), overdue=list(self.overdue), majors=list(self.majors),
                       monthly=None if self.monthly is None else list(self.monthly),
                       summary_=replace(summary, enforcement=list(summary.enforcement)))


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


def month_ends(as_of: date, months: int = 12) -> list[date]:
    """The last *months* month-ends up to as-of (the current month is counted at as-of)."""
    out = [as_of]
    first = as_of.replace(day=1)
    for _ in range(months - 1):
        end = first - timedelta(days=1)
        out.append(end)
        first = end.replace(day=1)
    return sorted(out)


_SUMMED = attrgetter(*(k for k, _ in INDICATORS))
_WIDTH = 4 + len(INDICATORS)  # expected, submitted, on time, not effective, the indicators


def summarise(enterprises: Iterable[EnterpriseRow], missing: Iterable[MissingRow], filings: Filings | None) -> Summary:
    """One pass: sums per county, township and industry and in all (合计), and the enterprises to inspect in
    the order of :func:`~dpsheets.county.enforcement.ranked` (spilled to disk and read back sorted, so that a
    province's list is never all in memory). 按时报送 is :meth:`Filings.on_time`."""
    sums: dict[str | None, dict[str, list[int]]] = {key: {} for key in (*GROUP_KEYS, None)}
    spill = Spill(10, 6)
    counties: set[str] = set()

    def add(row: EnterpriseRow | MissingRow, values: tuple[int, ...]) -> None:
        for key, groups in sums.items():
            name = "合计" if key is None else (getattr(row, key) or "未填写")
            acc = groups.get(name)
            groups[name] = list(values) if acc is None else list(map(operator.add, acc, values))
        if row.breaches:
            spill.add((-row.score, -len(row.breaches), -getattr(row, "hazards_overdue", 0), row.county, row.name,
                       row.uscc, row.township, row.industry,
                       marshal.dumps([[b.code, dict(b.params), b.points] for b in row.breaches]), None))
        if row.county:
            counties.add(row.county)

    for row in enterprises:
        on_time = filings is not None and filings.on_time(row.uscc)  # arrived by the due date
        add(row, (1, 1, int(on_time), int(bool(row.breaches)), *_SUMMED(row)))
    nothing = (0,) * len(INDICATORS)
    for m in missing:
        add(m, (1, 0, 0, 1, *nothing))
    groups: dict[str | None, list[GroupRow]] = {}
    for key, by_name in sums.items():
        if key is None and not by_name:  # nothing to sum: a total of zeros
            by_name["合计"] = [0] * _WIDTH
        groups[key] = [_group(name, acc) for name, acc in sorted(by_name.items())]
    return Summary(groups, spill.rows(_flagged), counties)


def _group(name: str, acc: list[int]) -> GroupRow:
    return GroupRow(name, acc[0], acc[1], acc[2], acc[3], {k: acc[4 + i] for i, (k, _) in enumerate(INDICATORS)})


def _flagged(r: tuple[Any, ...]) -> FlaggedRow:
    return FlaggedRow(r[5], r[4], r[3], r[6], r[7], [Breach(code, params, points)
                                                     for code, params, points in marshal.loads(r[8])])


def group_rows(rollup: Rollup, key: str | None) -> list[GroupRow]:
    """Sums per *key* (any attribute of the rows), or one total row for None (see :func:`summarise`)."""
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
        for (k, _), v in zip(INDICATORS, _SUMMED(row), strict=True):
            g.sums[k] += v
    for missing in rollup.missing:
        g = group(missing)
        g.expected += 1
        g.not_effective += 1
    if key is None and not groups:  # nothing to sum: a total of zeros
        groups["合计"] = GroupRow("合计", sums=dict.fromkeys((k for k, _ in INDICATORS), 0))
    return sorted(groups.values(), key=lambda g: g.key)


# The roll-up computed from archives (SQL) lives in rollup_sql; its names are importable from here too
# (looked up when first asked for: rollup_sql imports this module).
_FROM_SQL = frozenset({"Area", "enterprise_rows", "hazard_list", "hazard_rows", "rollup_archives", "trend"})


def __getattr__(name: str) -> Any:
    if name in _FROM_SQL:
        from dpsheets.county import rollup_sql

        return getattr(rollup_sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EnterpriseRow", "FlaggedRow", "GroupRow", "MissingRow", "Rollup", "RuleSet", "Summary",  # noqa: RUF022
           "evaluate", "group_rows", "month_ends", "months_between", "not_submitted", "summarise"]
