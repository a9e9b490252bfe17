"""Summary workbooks read back and combined: a city's roll-up from its counties' summaries, a province's from
its cities' (``dpsheets rollup --from``), agreeing exactly with the database roll-up of the same data.

A summary edited or damaged by hand is refused with a message naming its sheet and cell; the hidden
sheets written by :mod:`dpsheets.county.summary_book` carry what the visible ones do not (each
enterprise's breaches and their points, the rules applied, the filings, the monthly figures).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import python_calamine as pc

from dpsheets.config import RollupRules
from dpsheets.county import alerts as alert_rows
from dpsheets.county import filings as filing
from dpsheets.county.rollup import (
    INDICATORS,
    MAJOR_COLUMNS,
    OVERDUE_COLUMNS,
    EnterpriseRow,
    MissingRow,
    MonthRow,
    Rollup,
    RuleSet,
)
from dpsheets.county.summary_book import (
    BREACH_SHEET,
    COMPUTED,
    DETAIL_COLUMNS,
    META,
    MISSING_COLUMNS,
    MONTHLY_SHEET,
    NO_DATA,
)
from dpsheets.errors import DpsheetsError
from dpsheets.rules.breaches import BREACHES, Breach, score
from dpsheets.workbook.normalize import header_key
from dpsheets.workbook.registers import ENTERPRISE, column_letter


def _damaged(path: Path, sheet: str, cell: str, what: str) -> DpsheetsError:
    return DpsheetsError("rollup.damaged", f"汇总表“{sheet}”表的单元格 {cell} {what}。汇总表可能被改动或损坏，"
                         "请用 `dpsheets rollup` 重新生成这份汇总表（不要手工修改）。", path=str(path))


def _count(value: Any, path: Path, sheet: str, cell: str) -> int:
    """A whole number from a summary cell; anything else (2.5, "三", a date) names its cell."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise _damaged(path, sheet, cell, f"应为整数，却是“{value}”")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _damaged(path, sheet, cell, f"应为整数，却是“{value}”")


def _rows(wb: pc.CalamineWorkbook, sheet: str, columns: tuple[tuple[str, str], ...], path: Path,
          numeric: frozenset[str] | set[str] = frozenset(),
          optional: frozenset[str] | set[str] = frozenset()) -> list[dict[str, Any]]:
    """The rows of *sheet* as dicts of *columns*; a column of *optional* may be missing (an older summary)."""
    if sheet not in wb.sheet_names:
        raise DpsheetsError("rollup.not-summary", f"缺少“{sheet}”工作表，不是 dpsheets 汇总表。", path=str(path))
    data = _sheet(wb, sheet, path)
    if not data:
        return []
    index = {header_key(h): i for i, h in enumerate(data[0]) if isinstance(h, str)}
    positions = []
    for k, h in columns:
        names = (h, *(ENTERPRISE[k].aliases if k in ENTERPRISE.by_key and ENTERPRISE[k].header == h else ()))
        found = [index[header_key(n)] for n in names if header_key(n) in index]
        if not found and k in optional:
            continue
        if not found:
            raise DpsheetsError("rollup.not-summary", f"“{sheet}”缺少列“{h}”，汇总表可能被改动过。", path=str(path))
        positions.append((k, found[0]))
    out = []
    for r, row in enumerate(data[1:], start=2):
        if not any(c != "" for c in row):
            continue
        values = {}
        for k, i in positions:
            v = row[i] if i < len(row) else ""
            values[k] = _count(v, path, sheet, f"{column_letter(i)}{r}") if k in numeric else v
        out.append(values)
    return out


def _sheet(wb: pc.CalamineWorkbook, sheet: str, path: Path) -> list[list[Any]]:
    try:
        return wb.get_sheet_by_name(sheet).to_python()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - calamine errors and panics
        raise DpsheetsError("rollup.damaged", f"汇总表的“{sheet}”表无法读取（{type(exc).__name__}）。请重新生成这份汇总表。",
                            path=str(path)) from exc


def read_summary(path: Path) -> Rollup:
    """A summary workbook written by :func:`write_summary`, as a :class:`Rollup`.

    A summary edited or damaged by hand is refused with a message naming the sheet and cell
    (a count of 2.5 is not silently read as 2)."""
    from dpsheets.workbook.bounds import check_extents, measure
    from dpsheets.workbook.sniff import sniff

    try:
        sniff(path)
        check_extents(path, measure(path), 1_000_000)
        wb = pc.CalamineWorkbook.from_path(str(path))
    except DpsheetsError as exc:
        raise DpsheetsError("rollup.unreadable", f"汇总表无法读取：{exc.message}", path=str(path)) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001
        raise DpsheetsError("rollup.unreadable", f"汇总表无法读取（{type(exc).__name__}）。", path=str(path)) from exc
    try:
        return _read_summary(wb, path)
    finally:
        wb.close()


def _read_summary(wb: pc.CalamineWorkbook, path: Path) -> Rollup:
    if META not in wb.sheet_names:
        raise DpsheetsError("rollup.not-summary", "这不是 dpsheets 生成的汇总表（缺少标识）。请使用 `dpsheets rollup` 生成的县级汇总表。",
                            path=str(path))
    meta_rows = _sheet(wb, META, path)
    meta = {str(r[0]): str(r[1]) for r in meta_rows if len(r) >= 2}
    where = {str(r[0]): f"B{i}" for i, r in enumerate(meta_rows, start=1) if len(r) >= 2}
    if BREACH_SHEET not in wb.sheet_names or "rule_sets" not in meta:
        raise DpsheetsError("rollup.not-summary", "这份汇总表由旧版 dpsheets 生成，没有记录所用的规则。"
                            "请用当前版本的 `dpsheets rollup` 重新生成县级汇总表。", path=str(path))
    if "as_of" not in meta:
        raise _damaged(path, META, "A:B", "缺少统计日期（as_of）这一行")
    try:
        as_of = date.fromisoformat(meta["as_of"][:10])
    except ValueError as exc:
        raise _damaged(path, META, where["as_of"], f"应为统计日期，却是“{meta['as_of']}”") from exc
    breaches: dict[str, list[Breach]] = {}
    for i, row in enumerate(_sheet(wb, BREACH_SHEET, path)[1:], start=2):
        if len(row) >= 3 and row[0]:
            try:
                params = json.loads(str(row[2]) or "{}")
            except ValueError as exc:
                raise _damaged(path, BREACH_SHEET, f"C{i}", "的内容无法识别") from exc
            points = row[3] if len(row) >= 4 and row[3] != "" else 0.0
            if not isinstance(points, (int, float)) or isinstance(points, bool):
                raise _damaged(path, BREACH_SHEET, f"D{i}", f"应为分值，却是“{points}”")
            if str(row[1]) not in BREACHES:
                raise _damaged(path, BREACH_SHEET, f"B{i}", f"的规则代码“{row[1]}”无法识别")
            breaches.setdefault(str(row[0]), []).append(Breach(str(row[1]), params, float(points)))
    try:
        rule_sets = [RuleSet(d["scope"], RollupRules(**d["rules"])) for d in json.loads(meta["rule_sets"])]
    except (ValueError, TypeError, KeyError) as exc:
        raise _damaged(path, META, where.get("rule_sets", "B"), "（所用规则）的内容无法识别") from exc
    if not rule_sets:
        raise _damaged(path, META, where.get("rule_sets", "B"), "（所用规则）是空的")
    numeric = {k for k, _ in INDICATORS}
    enterprises = []
    for d in _rows(wb, "企业明细", tuple((k, h) for k, h in DETAIL_COLUMNS
                                         if k not in COMPUTED),
                   path, numeric):
        values = {k: (v if k in numeric else ("" if v is None else str(v))) for k, v in d.items()}
        enterprises.append(EnterpriseRow(**values, breaches=breaches.get(values["uscc"], [])))  # type: ignore[arg-type]
    missing = [MissingRow(**{k: str(v) for k, v in d.items()}, breaches=breaches.get(str(d["uscc"]), []))  # type: ignore[arg-type]
               for d in _rows(wb, "未报送企业", MISSING_COLUMNS, path)]
    _check_scores(wb, path, breaches)
    overdue = [_hazard(d) for d in _rows(wb, "逾期隐患", OVERDUE_COLUMNS, path, {"days_overdue"})]
    majors = [_hazard(d) for d in _rows(wb, "重大隐患", MAJOR_COLUMNS, path, {"days_overdue"}, optional={"reported_on"})]
    trend = {str(r[3]): None if r[4] == NO_DATA else _count(r[4], path, "总览", f"E{i}")  # no data stays a gap
             for i, r in enumerate(_sheet(wb, "总览", path), start=1)
             if i > 16 and len(r) > 4 and isinstance(r[3], str) and len(r[3]) == 7 and r[3][4] == "-"}
    if filing.HIDDEN not in wb.sheet_names or "reporting_periods" not in meta:
        raise DpsheetsError("rollup.not-summary", "这份汇总表由旧版 dpsheets 生成，没有“报送情况”。"
                            "请用当前版本的 `dpsheets rollup` 重新生成县级汇总表。", path=str(path))
    filings = filing.read(as_of, meta["reporting_periods"], _sheet(wb, filing.HIDDEN, path),
                          lambda cell, what: _damaged(path, filing.HIDDEN if cell != "B" else META,
                                                      cell if cell != "B" else where.get("reporting_periods", "B"), what))
    raised = [_hazard(d) for d in _rows(wb, "新增重大隐患", alert_rows.ALERT_COLUMNS, path, {"days_overdue"})]
    try:
        alerts_since = date.fromisoformat(meta["alerts_since"][:10]) if meta.get("alerts_since") else None
    except ValueError as exc:
        raise _damaged(path, META, where.get("alerts_since", "B"), f"应为日期，却是“{meta['alerts_since']}”") from exc
    monthly: list[MonthRow] | None = None
    if MONTHLY_SHEET in wb.sheet_names:
        monthly = [(str(row[1]), str(row[0]), str(row[2]), _count(row[3], path, MONTHLY_SHEET, f"D{i}"))
                   for i, row in enumerate(_sheet(wb, MONTHLY_SHEET, path)[1:], start=2) if len(row) >= 4 and row[0]]
    return Rollup(as_of, meta.get("level", "县"), enterprises, missing, overdue, majors, trend,
                  rule_sets[0].rules, [str(path)], rule_sets, monthly=monthly, filings=filings, alerts=raised,
                  alerts_since=alerts_since)


def _check_scores(wb: pc.CalamineWorkbook, path: Path, breaches: dict[str, list[Breach]]) -> None:
    """重点检查企业 read back: each row's 分值 is the sum of its breaches' points (a hand-edited score is refused)."""
    data = _sheet(wb, "重点检查企业", path) if "重点检查企业" in wb.sheet_names else []
    head = [header_key(h) for h in data[0]] if data else []
    if not data or header_key("分值") not in head:
        raise DpsheetsError("rollup.not-summary", "“重点检查企业”缺少列“分值”，这份汇总表由旧版 dpsheets 生成或被改动过。"
                            "请用当前版本的 `dpsheets rollup` 重新生成。", path=str(path))
    code, points = head.index(header_key(ENTERPRISE["uscc"].header)), head.index(header_key("分值"))
    for r, row in enumerate(data[1:], start=2):
        if len(row) > points and row[code]:
            shown = row[points]
            if not isinstance(shown, (int, float)) or round(float(shown), 2) != score(breaches.get(str(row[code]), [])):
                raise _damaged(path, "重点检查企业", f"{column_letter(points)}{r}",
                               f"的分值“{shown}”与所记录的问题（隐藏表 {BREACH_SHEET}）不符")


def _hazard(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: ("" if v is None else v) for k, v in d.items()}
    out["days_overdue"] = int(out["days_overdue"] or 0)
    return out


def combine(parts: list[Rollup], level: str) -> Rollup:
    """Several summaries of the same as-of date combined into one of a higher level.

    An enterprise in several parts counts once, from the part with its latest submission (on a tie, the
    later part's, as :func:`~dpsheets.county.rollup.rollup_archives` does with archives): its row, its overdue
    and major hazards, and at every month's end of the trend. The rules stay those each part applied
    (:meth:`Rollup.applied_rules`).
    """
    dates = {p.as_of for p in parts}
    if len(dates) != 1:
        raise DpsheetsError("rollup.mixed-dates", "各汇总表的统计日期不一致（" + "、".join(sorted(map(str, dates))) +
                            "）。请用同一个 --as-of 重新生成县级汇总表。")
    now = parts[0].as_of.strftime("%Y-%m")
    received_now = [{uscc: received for month, uscc, received, _ in p.monthly or () if month == now} for p in parts]

    def received(i: int, e: EnterpriseRow) -> str:  # the full time when the part kept it, else the day
        return received_now[i].get(e.uscc, e.last_submission)

    by_uscc: dict[str, tuple[int, EnterpriseRow]] = {}
    latest: dict[str, str] = {}
    for i, p in enumerate(parts):
        for e in p.enterprises:
            when = received(i, e)
            if e.uscc not in by_uscc or when >= latest[e.uscc]:
                by_uscc[e.uscc], latest[e.uscc] = (i, e), when
    monthly = _merge_monthly(parts)
    if monthly is not None:
        by_month: dict[str, tuple[int, int]] = {}  # month → (enterprises, overdue hazards)
        for month, _uscc, _received, overdue in monthly:
            count, total = by_month.get(month, (0, 0))
            by_month[month] = (count + 1, total + overdue)
        months = sorted({m for p in parts for m in p.trend} | set(by_month))
        trend: dict[str, int | None] = {m: by_month[m][1] if m in by_month else None for m in months}  # no data: a gap
    else:  # a part without the per-enterprise months (written before they were kept): sum the parts
        trend = {}
        for p in parts:
            for month, n in p.trend.items():  # no data in every part stays no data
                trend[month] = n if trend.get(month) is None else trend[month] + (n or 0)  # type: ignore[operator]
    missing = {m.uscc: m for p in parts for m in p.missing if m.uscc not in by_uscc}

    def winners(lists: list[Sequence[dict]]) -> list[dict]:
        kept = [h for i, hs in enumerate(lists) for h in hs if by_uscc.get(str(h["uscc"]), (-1,))[0] == i]
        # the order of a database roll-up of the same data (rollup_archives): by deadline, then credit code
        return sorted(kept, key=lambda h: (str(h["deadline"] or ""), str(h["uscc"])))

    rule_sets = _merge_rule_sets(parts)
    filings = filing.combine([p.filings for p in parts], {u: i for u, (i, _) in by_uscc.items()}, parts[0].as_of)
    return Rollup(parts[0].as_of, level, sorted((e for _, e in by_uscc.values()), key=lambda r: (r.county, r.township, r.name, r.uscc)),
                  list(missing.values()), winners([p.overdue for p in parts]), winners([p.majors for p in parts]),
                  dict(sorted(trend.items())), rule_sets[0].rules, [s for p in parts for s in p.sources],
                  [] if len(rule_sets) == 1 else rule_sets, monthly=monthly, filings=filings,
                  alerts=alert_rows.merge(p.alerts for p in parts),
                  alerts_since=min((p.alerts_since for p in parts if p.alerts_since), default=None))


def _merge_monthly(parts: list[Rollup]) -> list[MonthRow] | None:
    """Per month, per credit code, the latest submission's figure across *parts* (None if a part lacks them)."""
    if any(p.monthly is None for p in parts):
        return None
    merged: dict[tuple[str, str], tuple[str, int]] = {}
    for p in parts:
        for month, uscc, received, n in p.monthly or ():
            if (month, uscc) not in merged or received >= merged[month, uscc][0]:
                merged[month, uscc] = (received, n)
    return [(month, uscc, received, n) for (month, uscc), (received, n) in sorted(merged.items())]


def _scope(part: Rollup) -> str:
    counties = sorted(part.summary().counties)
    return "、".join(counties) or "、".join(Path(s).stem for s in part.sources)


def _merge_rule_sets(parts: list[Rollup]) -> list[RuleSet]:
    """The parts' rules, one set per distinct setting, each scoped to the counties that applied it."""
    scopes: dict[RollupRules, list[str]] = {}
    for p in parts:
        for rs in p.applied_rules():
            scopes.setdefault(rs.rules, []).append(rs.scope or _scope(p))
    if len(scopes) == 1:
        return [RuleSet("", next(iter(scopes)))]
    return [RuleSet("、".join(s for s in names if s), rules) for rules, names in scopes.items()]
