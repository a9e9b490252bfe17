"""County roll-up (DOMAIN §8): indicators per enterprise from the archive, the rules for
"not running effectively" (差异化执法), and sums per township, industry and county.

Everything is computed from the archive, not by re-reading workbooks: for each enterprise
its latest submission on or before the as-of date, with hazard states evaluated on that
date. Group figures are sums of the enterprise rows, so a city roll-up of county summaries
(:mod:`dpsheets.county.summary_book`) equals the roll-up of the union of their archives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from dpsheets.config import Config, RollupRules
from dpsheets.county.archive import Archive
from dpsheets.county.confirmations import counts_12m
from dpsheets.rules import hazard_state
from dpsheets.rules.breaches import Breach, applies, breach
from dpsheets.workbook.registers import identity_columns

# The indicators of one enterprise: (key, Chinese header). Numeric ones are summed in groups.
INDICATORS: tuple[tuple[str, str], ...] = (
    ("data_errors", "数据错误"), ("risks_major", "重大风险"), ("risks_significant", "较大风险"),
    ("risks_general", "一般风险"), ("risks_low", "低风险"), ("hazards_total", "隐患总数"), ("hazards_open", "未销号隐患"),
    ("hazards_overdue", "逾期隐患"), ("major_open", "重大隐患未销号"), ("major_without_plan", "重大隐患无治理方案"),
    ("closed_on_time", "按期销号"), ("closed_late", "逾期销号"), ("posts", "岗位告知卡"), ("employees", "岗位人员"),
    ("trainings_12m", "近12个月培训次数"), ("drills_12m", "近12个月演练次数"), ("quiz_12m", "近12个月答题确认"),
    ("quiz_people_12m", "近12个月答题确认人数"),
)
IDENTITY: tuple[tuple[str, str], ...] = (
    *identity_columns(), ("last_submission", "最近报送日期"), ("template_version", "模板版本"),
)
OVERDUE_COLUMNS: tuple[tuple[str, str], ...] = (
    *identity_columns("enterprise"), ("number", "隐患编号"), ("name", "隐患名称"), ("location", "隐患位置"), ("level", "隐患等级"),
    ("status", "治理状态"), ("deadline", "治理期限"), ("days_overdue", "逾期天数"), ("unit", "责任单位"), ("owner", "责任人"),
    ("has_plan", "有治理方案"),
)


@dataclass
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
        return min(self.quiz_people_12m, self.employees) / self.employees if self.employees else None

    @property
    def not_effective(self) -> bool:
        return bool(self.breaches)


@dataclass
class MissingRow:
    """An enterprise on the roster without a submission on or before the as-of date."""

    uscc: str
    name: str
    county: str = ""
    township: str = ""
    industry: str = ""
    breaches: list[Breach] = field(default_factory=list)


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
    trend: dict[str, int]  # YYYY-MM → overdue hazards at that month's end
    rules: RollupRules
    sources: list[str] = field(default_factory=list)
    rule_sets: list[RuleSet] = field(default_factory=list)  # as applied below (city: each county's); default: rules
    notes: list[str] = field(default_factory=list)  # Chinese warnings for the user (e.g. skipped roster rows)
    # YYYY-MM → credit code → (time of the submission counted at that month's end, its overdue hazards then):
    # what the trend sums, kept so that a city can count an enterprise found in two counties once.
    monthly: dict[str, dict[str, tuple[str, int]]] | None = None

    def applied_rules(self) -> list[RuleSet]:
        """The rules the enterprises' breaches were decided by (one set, or one per county that differed)."""
        return self.rule_sets or [RuleSet("", self.rules)]

    def groups(self, key: str) -> list[GroupRow]:
        return group_rows(self, key)

    def totals(self) -> GroupRow:
        return group_rows(self, None)[0]

    def enforcement(self) -> list[EnterpriseRow | MissingRow]:
        rows: list[EnterpriseRow | MissingRow] = [e for e in self.enterprises if e.breaches] + self.missing
        return sorted(rows, key=lambda r: (-len(r.breaches), -getattr(r, "hazards_overdue", 0), r.county, r.name))


def evaluate(row: EnterpriseRow, as_of: date, rules: RollupRules) -> list[Breach]:
    """The rules of 差异化执法 that *row* breaks on *as_of*, as catalogued breaches (:mod:`dpsheets.rules.breaches`)."""
    broken = []
    if row.last_submission:
        age = (as_of - date.fromisoformat(row.last_submission)).days
        if age > rules.stale_days:
            broken.append(breach("rule.stale", rules, age=age, last_submission=row.last_submission))
    if row.hazards_overdue > rules.max_overdue:
        broken.append(breach("rule.overdue", rules, count=row.hazards_overdue))
    if applies("rule.major-without-plan", rules) and row.major_without_plan:
        broken.append(breach("rule.major-without-plan", rules, count=row.major_without_plan))
    if row.months_since_training is None or row.months_since_training >= rules.months_without_training:
        broken.append(breach("rule.no-training", rules, months_since=row.months_since_training))
    if row.months_since_drill is None or row.months_since_drill >= rules.months_without_drill:
        broken.append(breach("rule.no-drill", rules, months_since=row.months_since_drill))
    if applies("rule.empty-registers", rules):
        empty = [key for key, n in (("risk", row.risks_major + row.risks_significant + row.risks_general + row.risks_low),
                                    ("post", row.posts), ("employee", row.employees)) if n == 0]
        if empty:
            broken.append(breach("rule.empty-registers", rules, registers=empty))
    return broken


def not_submitted(row: MissingRow, rules: RollupRules) -> MissingRow:
    """A roster enterprise without a submission, with its breach."""
    return replace(row, breaches=[breach("rule.not-submitted", rules)])


# --- computing from archives --------------------------------------------------------------

_LATEST = """
CREATE TEMP TABLE latest AS
SELECT * FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY uscc ORDER BY received_at DESC, id DESC) AS rn
               FROM submissions s WHERE substr(received_at, 1, 10) <= :as_of
                 AND (:county IS NULL OR county = :county)) WHERE rn = 1
"""
# The hazard state (open, overdue, closed on time / late) is generated from its one declaration.
_H = {key: f"h.{key}" for key in hazard_state.FIELDS}
_OPEN = hazard_state.sql("open", _H)
_OVERDUE = hazard_state.sql("overdue", _H)
_MAJOR = f"h.level = '{hazard_state.MAJOR_LEVEL}'"
_HAZARDS = f"""
SELECT h.submission_id AS sid, COUNT(*) AS total, {hazard_state.sql_count("open", _H)} AS open,
       {hazard_state.sql_count("overdue", _H)} AS overdue,
       SUM(CASE WHEN {_MAJOR} AND {_OPEN} THEN 1 ELSE 0 END) AS major_open,
       SUM(CASE WHEN {_MAJOR} AND {_OPEN} AND h.has_plan = 0 THEN 1 ELSE 0 END) AS major_without_plan,
       {hazard_state.sql_count("closed_on_time", _H)} AS on_time, {hazard_state.sql_count("closed_late", _H)} AS late
FROM hazards h JOIN latest l ON l.id = h.submission_id GROUP BY h.submission_id
"""
_LEDGERS = """
SELECT d.submission_id AS sid, kind, SUM(day > :since AND day <= :as_of) AS recent,
       MAX(CASE WHEN day <= :as_of THEN day END) AS last_day
FROM ledger_dates d JOIN latest l ON l.id = d.submission_id GROUP BY d.submission_id, kind
"""
_OVERDUE_LIST = """
SELECT l.uscc, l.name AS enterprise, l.county, l.township, l.industry, h.number, h.name, h.location, h.level, h.status,
       h.deadline, h.unit, h.owner, h.has_plan
FROM hazards h JOIN latest l ON l.id = h.submission_id WHERE {where} ORDER BY h.deadline, l.uscc, h.row
"""


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


def _from_archive(archive: Archive, as_of: date) -> tuple[list[EnterpriseRow], list[dict], list[dict]]:
    """Rows and hazard lists of the submissions in ``temp.latest`` (see :func:`_latest`)."""
    db = archive.db
    params = {**hazard_state.sql_params(as_of), "since": (as_of - timedelta(days=365)).isoformat()}
    hazards = {r["sid"]: r for r in db.execute(_HAZARDS, params)}
    ledgers: dict[int, dict[str, tuple[int, str | None]]] = defaultdict(dict)
    for r in db.execute(_LEDGERS, params):
        ledgers[r["sid"]][r["kind"]] = (r["recent"] or 0, r["last_day"])
    quiz = counts_12m(db, {r["uscc"]: r["id"] for r in db.execute("SELECT uscc, id FROM latest")}, as_of)
    rows = []
    for s in db.execute("SELECT * FROM latest ORDER BY uscc"):
        h = hazards.get(s["id"])
        led = ledgers.get(s["id"], {})
        row = EnterpriseRow(
            uscc=s["uscc"], name=s["name"] or s["uscc"], county=s["county"] or "", township=s["township"] or "",
            industry=s["industry"] or "", last_submission=s["received_at"][:10], template_version=s["template_version"] or "",
            data_errors=s["errors"], risks_major=s["risks_major"], risks_significant=s["risks_significant"],
            risks_general=s["risks_general"], risks_low=s["risks_low"], posts=s["posts"], employees=s["employees"],
            hazards_total=h["total"] if h else 0, hazards_open=h["open"] if h else 0, hazards_overdue=h["overdue"] if h else 0,
            major_open=h["major_open"] if h else 0, major_without_plan=h["major_without_plan"] if h else 0,
            closed_on_time=h["on_time"] if h else 0, closed_late=h["late"] if h else 0,
            trainings_12m=led.get("training", (0, None))[0], drills_12m=led.get("drill", (0, None))[0],
            quiz_12m=quiz[s["uscc"]].confirmations if s["uscc"] in quiz else 0,
            quiz_people_12m=quiz[s["uscc"]].people if s["uscc"] in quiz else 0,
            months_since_training=_months_since(led.get("training"), as_of),
            months_since_drill=_months_since(led.get("drill"), as_of), received_at=s["received_at"])
        rows.append(row)
    overdue = [_hazard_dict(r, as_of) for r in db.execute(_OVERDUE_LIST.format(where=_OVERDUE), params)]
    majors = [_hazard_dict(r, as_of) for r in db.execute(_OVERDUE_LIST.format(where=f"{_MAJOR} AND {_OPEN}"), params)]
    return rows, overdue, majors


def _latest(archives: Sequence[Archive], day: date, county: str | None = None) -> None:
    """In every archive, ``temp.latest`` := the submissions that count on *day*: per credit code the
    latest received on or before *day* across *all* archives (on a tie, the later archive's); only
    *county*'s when given (the web service's county scoping)."""
    params = {"as_of": day.isoformat(), "county": county}
    candidates = []
    for i, archive in enumerate(archives):
        archive.db.execute("DROP TABLE IF EXISTS temp.latest")
        archive.db.execute(_LATEST, params)
        candidates += [(r["uscc"], r["received_at"], i, r["id"])
                       for r in archive.db.execute("SELECT uscc, received_at, id FROM latest")]
    winner: dict[str, tuple[int, int]] = {}
    for uscc, _received, i, sid in sorted(candidates):
        winner[uscc] = (i, sid)
    if len(archives) < 2:
        return
    for i, archive in enumerate(archives):
        keep = [(sid,) for j, sid in winner.values() if j == i]
        archive.db.execute("DROP TABLE IF EXISTS temp.keep")
        archive.db.execute("CREATE TEMP TABLE keep (id INTEGER PRIMARY KEY)")
        archive.db.executemany("INSERT INTO keep VALUES (?)", keep)
        archive.db.execute("DELETE FROM latest WHERE id NOT IN (SELECT id FROM keep)")
        archive.db.execute("DROP TABLE temp.keep")


def _drop_latest(archives: Sequence[Archive]) -> None:
    for archive in archives:
        archive.db.execute("DROP TABLE IF EXISTS temp.latest")


def _months_since(ledger: tuple[int, str | None] | None, as_of: date) -> int | None:
    if not ledger or not ledger[1]:
        return None
    return months_between(date.fromisoformat(ledger[1]), as_of)


def _hazard_dict(r, as_of: date) -> dict:  # noqa: ANN001
    d = {k: r[k] for k in r.keys()}  # noqa: SIM118 - sqlite3.Row
    deadline = d.get("deadline")
    d["days_overdue"] = max((as_of - date.fromisoformat(deadline)).days, 0) if deadline else 0
    d["has_plan"] = "是" if d.get("has_plan") else "否"
    return d


def overdue_by_enterprise(archives: Sequence[Archive], day: date, county: str | None = None) -> dict[str, tuple[str, int]]:
    """Per credit code: the time of the submission that counts on *day* and its overdue hazards on *day*."""
    _latest(archives, day, county)
    params = hazard_state.sql_params(day)
    out = {}
    for a in archives:
        for r in a.db.execute(f"SELECT l.uscc, l.received_at, SUM(CASE WHEN h.submission_id IS NOT NULL AND {_OVERDUE} "
                              "THEN 1 ELSE 0 END) FROM latest l LEFT JOIN hazards h ON h.submission_id = l.id "
                              "GROUP BY l.id", params):
            out[r[0]] = (r[1], r[2] or 0)
    _drop_latest(archives)
    return out


def overdue_at(archives: Sequence[Archive], day: date, county: str | None = None) -> int:
    """Overdue hazards on *day* across the enterprises' latest submissions on or before it (each counted once)."""
    return sum(n for _, n in overdue_by_enterprise(archives, day, county).values())


def month_ends(as_of: date, months: int = 12) -> list[date]:
    """The last *months* month-ends up to as-of (the current month is counted at as-of)."""
    out = [as_of]
    first = as_of.replace(day=1)
    for _ in range(months - 1):
        end = first - timedelta(days=1)
        out.append(end)
        first = end.replace(day=1)
    return sorted(out)


def rollup_archives(paths: Iterable[Path], *, as_of: date, config: Config | None = None,
                    roster: list[MissingRow] | None = None, level: str = "县") -> Rollup:
    """The roll-up of one or more archives. Every figure, list and month of the trend comes from one set of
    submissions: per credit code the latest on or before the day, whichever archive holds it."""
    config = config or Config()
    paths = list(paths)
    with ExitStack() as stack:
        archives = [stack.enter_context(Archive(p)) for p in paths]
        _latest(archives, as_of)
        rows: list[EnterpriseRow] = []
        overdue: list[dict] = []
        majors: list[dict] = []
        for archive in archives:
            r, od, mj = _from_archive(archive, as_of)
            rows += r
            overdue += od
            majors += mj
        _drop_latest(archives)
        monthly = {day.strftime("%Y-%m"): overdue_by_enterprise(archives, day) for day in month_ends(as_of)}
    trend = {month: sum(n for _, n in by.values()) for month, by in monthly.items()}
    overdue.sort(key=lambda d: (d["deadline"] or "", d["uscc"]))
    majors.sort(key=lambda d: (d["deadline"] or "", d["uscc"]))
    enterprises = sorted(rows, key=lambda r: (r.county, r.township, r.name, r.uscc))
    for row in enterprises:
        row.breaches = evaluate(row, as_of, config.rules)
    submitted = {r.uscc for r in enterprises}
    missing = [not_submitted(m, config.rules) for m in (roster or []) if m.uscc not in submitted]
    return Rollup(as_of, level, enterprises, missing, overdue, majors, dict(sorted(trend.items())), config.rules,
                  [str(p) for p in paths], monthly=monthly)


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
        g.on_time += not any(b.code == "rule.stale" for b in row.breaches)
        g.not_effective += row.not_effective
        for k, _ in INDICATORS:
            g.sums[k] += getattr(row, k)
    for row in rollup.missing:
        g = group(row)
        g.expected += 1
        g.not_effective += 1
    if key is None and not groups:  # nothing to sum: a total of zeros
        groups["合计"] = GroupRow("合计", sums=dict.fromkeys((k for k, _ in INDICATORS), 0))
    return sorted(groups.values(), key=lambda g: g.key)

