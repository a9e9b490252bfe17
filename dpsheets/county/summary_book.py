"""The summary workbook of a roll-up (xlsxwriter, native Excel charts), and reading it back.

Sheets: 总览 (headline figures and charts), 企业明细, 县区汇总, 乡镇汇总, 行业汇总, 逾期隐患, 重大隐患,
重点检查企业, 未报送企业, 报送情况 (:mod:`dpsheets.county.filings`), 规则说明, and hidden sheets: the level,
as-of date, reporting periods and the rules applied (settings as JSON), every rule breach as its code and
parameters, every enterprise's filing per period and (below the province, whose summaries nothing combines)
every enterprise's submission and overdue hazards at each month's end. Text that begins with
= + - @ is written as text, never as a formula. County summaries read back by :func:`read_summary`
combine into a city (and city into province) summary of the same shape, whose 规则说明 states the
rules each county applied.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Any

import python_calamine as pc

from dpsheets.config import RollupRules
from dpsheets.county import alerts as alert_rows
from dpsheets.county import filings as filing
from dpsheets.county.rollup import (
    IDENTITY,
    INDICATORS,
    MAJOR_COLUMNS,
    OVERDUE_COLUMNS,
    TOP_LEVEL,
    EnterpriseRow,
    GroupRow,
    MissingRow,
    MonthRow,
    Rollup,
    RuleSet,
)
from dpsheets.county.sheet_jobs import Alongside, spill_of, write_detail, write_hazards
from dpsheets.county.sheet_xml import FastRows, FastWorkbook, Styles
from dpsheets.errors import DpsheetsError
from dpsheets.fsutil import atomic_path
from dpsheets.rules.breaches import BREACHES, Breach, rule_texts, score, score_texts
from dpsheets.workbook.normalize import header_key
from dpsheets.workbook.print_setup import ID_WIDTH, landscape_wide
from dpsheets.workbook.registers import ENTERPRISE, column_letter, identity_columns

META = "_dpsheets_rollup"
BREACH_SHEET = "_dpsheets_breaches"
MONTHLY_SHEET = "_dpsheets_monthly"  # credit code, month, submission time, overdue hazards (see Rollup.monthly)
ROLLUP_ID = "dpsheets-rollup"
DETAIL_COLUMNS = (*IDENTITY, *INDICATORS, ("closure_rate", "销号率"), ("quiz_coverage", "答题确认覆盖率"),
                  ("not_effective", "未有效运行"), ("score", "分值"),
                  ("breaches", "存在问题"))
COMPUTED = ("closure_rate", "quiz_coverage", "not_effective", "score", "breaches")  # from the others, never read
MISSING_COLUMNS = identity_columns()
ENFORCEMENT_HEAD = ("序号", *(h for _, h in identity_columns()), "分值", "问题数", "原因")
RULES_HEAD = ("规则代码", "规则", "说明", "计分", "适用范围")
GROUP_HEAD = ("应报企业", "已报送", "报送率", "按时报送", "未有效运行企业")
TREND_HEADER = "月份"
NO_DATA = "无数据"
SHEETS = ("总览", "企业明细", "县区汇总", "乡镇汇总", "行业汇总", "逾期隐患", "重大隐患", "重点检查企业", "未报送企业",
          "新增重大隐患", "报送情况", "规则说明")  # 报送情况 (filing.SHEET) when the roll-up has filings
OVERVIEW_ROWS = 31  # the 总览 page: figures, chart data and the 2 × 2 charts end above this row  # a month before any submission: shown as a gap, never as 0
LEVEL_COLOURS = (("重大风险", "risks_major", "#FF0000"), ("较大风险", "risks_significant", "#FFC000"),
                 ("一般风险", "risks_general", "#FFFF00"), ("低风险", "risks_low", "#0070C0"))


def write_summary(rollup: Rollup, path: Path, title: str = "") -> Path:
    with atomic_path(path) as tmp:
        _write(rollup, tmp, title)
    return path


def _write(rollup: Rollup, path: Path, title: str) -> None:
    wb = FastWorkbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False, "constant_memory": True})  # rows streamed out
    f = {
        "title": wb.add_format({"bold": True, "font_size": 16, "font_name": "黑体"}),
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}),
        "cell": wb.add_format({"border": 1}),
        "pct": wb.add_format({"border": 1, "num_format": "0.0%"}),
        "day": wb.add_format({"border": 1, "num_format": "yyyy-mm-dd"}),
        "red": wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        "orange": wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"}),
        "label": wb.add_format({"bold": True}),
        "wrap": wb.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
    }
    shown = [n for n in SHEETS if n != filing.SHEET or rollup.filings is not None]
    monthly = rollup.monthly if rollup.level != TOP_LEVEL else None  # nothing combines a province's summaries
    names = [*shown, META, BREACH_SHEET, *([filing.HIDDEN] if rollup.filings is not None else []),
             *([MONTHLY_SHEET] if monthly is not None else [])]
    ws = {name: wb.add_worksheet(name) for name in names}  # in this order; filled in any order, each row by row
    totals = rollup.totals()
    _overview(wb, ws["总览"], f, rollup, totals, title)
    side = Alongside.start(rollup)  # a second process for the two longest sheets (see sheet_jobs)
    try:
        _lists(wb, ws, f, rollup, totals, side)
    finally:
        if side is not None:
            side.close()
    wb.close()


def _lists(wb: Any, ws: dict[str, Any], f: dict, rollup: Rollup, totals: GroupRow, side: Alongside | None) -> None:
    """Every sheet after 总览; 企业明细 (with the breaches) and 逾期隐患 by *side*, when given, meanwhile."""
    breaches = _hidden(ws[BREACH_SHEET], ("uscc", "code", "params", "points"))
    detail_head, overdue_head = [h for _, h in DETAIL_COLUMNS], [h for _, h in OVERDUE_COLUMNS]
    detail_look: dict[str, Any] = {"highlight": ("逾期隐患", "未有效运行"), "widths": {0: 20, 1: 28, len(DETAIL_COLUMNS) - 1: 60}}
    overdue_look: dict[str, Any] = {"widths": {1: 28, 6: 24}}
    taken: list[Callable[[], None]] = []  # the sheets written by *side*, taken in at the end
    if side is None:
        def detail() -> Iterator[list[Any]]:  # one pass over the enterprises writes 企业明细 and their breaches
            for e in rollup.enterprises:
                for row in breach_rows(e):
                    breaches.write(row)
                yield detail_row(e)

        _table(ws["企业明细"], f, detail_head, detail(), **detail_look)
        _close_breaches(breaches, rollup)
    else:
        detail_rows = _table_rows(ws["企业明细"], f, detail_head, **detail_look)
        detail_done = side.submit(write_detail, spill_of(rollup.enterprises), detail_rows.attrs, side.path("detail"),
                                  side.path("breaches"))
        overdue_rows = _table_rows(ws["逾期隐患"], f, overdue_head, **overdue_look)
        overdue_done = side.submit(write_hazards, spill_of(rollup.overdue), [k for k, _ in OVERDUE_COLUMNS],
                                   overdue_rows.attrs, side.path("overdue"))

        def take_detail() -> None:
            detail, found = detail_done()
            _table_end(ws["企业明细"], f, detail_head, detail_rows.adopt(side.path("detail"), detail), **detail_look)
            breaches.adopt(side.path("breaches"), found)
            _close_breaches(breaches, rollup)

        def take_overdue() -> None:
            _table_end(ws["逾期隐患"], f, overdue_head, overdue_rows.adopt(side.path("overdue"), overdue_done()),
                       **overdue_look)

        taken += [take_detail, take_overdue]
    for sheet, key in (("县区汇总", "county"), ("乡镇汇总", "township"), ("行业汇总", "industry")):
        groups = rollup.groups(key) + [totals]
        _table(ws[sheet], f, [dict(IDENTITY)[key], *GROUP_HEAD,
                              *(h for _, h in INDICATORS), "销号率"], [_group_values(g) for g in groups],
               highlight=("逾期隐患",), widths={0: 18})
    if side is None:
        _table(ws["逾期隐患"], f, overdue_head, ([d.get(k) for k, _ in OVERDUE_COLUMNS] for d in rollup.overdue),
               **overdue_look)
    _table(ws["重大隐患"], f, [h for _, h in MAJOR_COLUMNS], ([d.get(k) for k, _ in MAJOR_COLUMNS] for d in rollup.majors),
           widths={1: 28, 6: 24})
    _table(ws["重点检查企业"], f, list(ENFORCEMENT_HEAD),
           ([i, *(getattr(r, k) for k, _ in identity_columns()), r.score, len(r.breaches), reasons(r.breaches)]
            for i, r in enumerate(rollup.enforcement(), start=1)), widths={2: 28, len(ENFORCEMENT_HEAD) - 1: 90})
    _table(ws["未报送企业"], f, [h for _, h in MISSING_COLUMNS], [[getattr(m, k) for k, _ in MISSING_COLUMNS] for m in rollup.missing],
           widths={1: 28})
    _table(ws["新增重大隐患"], f, [h for _, h in alert_rows.ALERT_COLUMNS],
           ([d.get(k) for k, _ in alert_rows.ALERT_COLUMNS] for d in rollup.alerts), widths={4: 28, 7: 24, 10: 40})
    if rollup.filings is not None:  # the enterprises and the roster's missing ones, in the order of 企业明细
        listed = heapq.merge(rollup.enterprises, sorted(rollup.missing, key=_listed_order), key=_listed_order)
        filing.write_sheet(ws[filing.SHEET], f, rollup.filings, listed)
        filing.write_hidden(ws[filing.HIDDEN], rollup.filings)
    _table(ws["规则说明"], f, list(RULES_HEAD), rule_rows(rollup), widths={0: 24, 2: 60, 3: 36, 4: 24})
    rule_sets = [{"scope": rs.scope, "rules": asdict(rs.rules)} for rs in rollup.applied_rules()]
    meta = _hidden(ws[META], ())
    meta.write_all([(k, v) for k, v in (("id", ROLLUP_ID), ("level", rollup.level), ("as_of", rollup.as_of.isoformat()),
                                          ("sources", " | ".join(rollup.sources)),
                                          ("rule_sets", json.dumps(rule_sets, ensure_ascii=False)),
                                          ("reporting_periods", filing.meta(rollup.filings) if rollup.filings else ""),
                                          ("alerts_since", rollup.alerts_since.isoformat() if rollup.alerts_since else ""))])
    if rollup.monthly is not None and MONTHLY_SHEET in ws:
        _hidden(ws[MONTHLY_SHEET], ("uscc", "month", "received_at", "overdue")).write_all(
            (uscc, month, received, n) for month, uscc, received, n in rollup.monthly)
    for take in taken:
        take()


def _hidden(ws: Any, headers: tuple[str, ...]) -> FastRows:
    """A hidden sheet of plain values, after its header row (if any)."""
    for c, h in enumerate(headers):
        ws.write_string(0, c, h)
    ws.hide()
    return FastRows(ws, 1 if headers else 0)


_JSON = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False), its encoder made once


def breach_rows(row: EnterpriseRow | MissingRow) -> Iterator[tuple[str, str, str, float]]:
    """The rows of *row*'s breaches in the hidden sheet: credit code, code, parameters (JSON), points."""
    for b in row.breaches:
        yield row.uscc, b.code, _JSON(dict(b.params)), b.points


def _close_breaches(out: FastRows, rollup: Rollup) -> None:
    """The hidden sheet of breaches, after the enterprises': those of the roster's non-submitters."""
    for m in rollup.missing:
        for row in breach_rows(m):
            out.write(row)
    out.close()


def _listed_order(r: Any) -> tuple[str, str, str, str]:
    return (r.county, r.township, r.name, r.uscc)


def on_time_period(rollup: Rollup) -> str:
    """The quarter whose statistics "按时报送" counts (:meth:`dpsheets.county.filings.Filings.on_time`)."""
    return rollup.filings.reference.label if rollup.filings else "无报送情况数据"


def messages(breaches: list[Breach]) -> str:
    """The Chinese messages of *breaches*, for one cell."""
    return "；".join(b.message for b in breaches)


def reasons(breaches: list[Breach]) -> str:
    """The reasons of an enterprise's 分值: each breach's message, code and points, for one cell."""
    return "；".join(b.reason for b in breaches)


def rule_rows(rollup: Rollup) -> list[list[str]]:
    """规则说明: every rule applied, with its settings filled in, how it is scored, and where it applied."""
    rows = []
    for rs in rollup.applied_rules():
        scoring = score_texts(rs.rules)
        rows += [[code, title, text, scoring[code], rs.scope or "全部"] for code, title, text in rule_texts(rs.rules)]
    return rows


_DETAIL_GET = attrgetter(*(k for k, _ in DETAIL_COLUMNS))
_NOT_EFFECTIVE = [k for k, _ in DETAIL_COLUMNS].index("not_effective")
_MESSAGES = [k for k, _ in DETAIL_COLUMNS].index("breaches")


def detail_row(e: EnterpriseRow) -> list[Any]:
    """The row of *e* in 企业明细: its attributes, 未有效运行 as 是/否 and its breaches as their messages."""
    values = list(_DETAIL_GET(e))
    values[_NOT_EFFECTIVE] = "是" if e.not_effective else "否"
    values[_MESSAGES] = messages(e.breaches)
    return values


def _group_values(g: GroupRow) -> list[Any]:
    return [g.key, g.expected, g.submitted, g.submission_rate, g.on_time, g.not_effective,
            *(g.sums[k] for k, _ in INDICATORS), g.closure_rate]


def _styles(f: dict, headers: Sequence[str]) -> Styles:
    """How the cells of a table are written: rates (率) as percentages, long texts wrapped."""
    return Styles(blank=f["cell"], number=f["cell"], floats=[f["pct"] if "率" in h else f["cell"] for h in headers],
                  text=f["cell"], long_text=f["wrap"], long_over=30)


def _write_cell(ws: Any, r: int, c: int, value: Any, f: dict, header: str = "") -> None:
    kind, fmt = _styles(f, [header]).of(0, value)
    if kind == "b":
        ws.write_blank(r, c, None, fmt)
    elif kind == "n":
        ws.write_number(r, c, value, fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


class _InRowOrder:
    """Collects a sheet's cells and writes them row by row (the workbook streams rows: constant_memory)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells: dict[tuple[int, int], tuple[str, tuple]] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("write_"):
            return lambda r, c, *args: self.cells.__setitem__((r, c), (name, args))
        return getattr(self.ws, name)

    def flush(self) -> None:
        for (r, c), (method, args) in sorted(self.cells.items()):
            getattr(self.ws, method)(r, c, *args)


def _table(ws: Any, f: dict, headers: list[str], rows: Iterable[list[Any]], *,
           highlight: tuple[str, ...] = (), widths: dict[int, int] | None = None) -> None:
    """A sheet: its header row, then *rows* (streamed), with filter, highlights and print set-up."""
    count = _table_rows(ws, f, headers, widths=widths).write_all(rows)
    _table_end(ws, f, headers, count, highlight=highlight, widths=widths)


def _column_widths(headers: list[str], widths: dict[int, int] | None) -> list[int]:
    return [ID_WIDTH if "统一社会信用代码" in h else (widths or {}).get(c, max(8, min(16, len(h) * 2 + 2)))
            for c, h in enumerate(headers)]  # an 18-character credit code always fits its column


def _table_rows(ws: Any, f: dict, headers: list[str], *, widths: dict[int, int] | None = None,
                **_: Any) -> FastRows:
    """A sheet's header row and column widths; the writer of its rows."""
    ws.set_row(0, 30)
    for c, (h, width) in enumerate(zip(headers, _column_widths(headers, widths), strict=True)):
        ws.write_string(0, c, h, f["head"])
        ws.set_column(c, c, width)
    return FastRows(ws, 1, _styles(f, headers))


def _table_end(ws: Any, f: dict, headers: list[str], count: int, *, highlight: tuple[str, ...] = (),
               widths: dict[int, int] | None = None) -> None:
    """A sheet of *count* rows after its header: filter, highlights and print set-up."""
    name = ws.name
    ws.freeze_panes(1, 2 if name == "企业明细" else 1)
    ws.autofilter(0, 0, max(count, 1), len(headers) - 1)
    for h in highlight:
        if h in headers and count:
            c = headers.index(h)
            criteria = {"type": "cell", "criteria": ">", "value": 0} if h != "未有效运行" else \
                {"type": "cell", "criteria": "==", "value": '"是"'}
            ws.conditional_format(1, c, count, c, {**criteria, "format": f["red"]})
    landscape_wide(ws, _column_widths(headers, widths), header_rows=(0, 0), repeat_columns=2 if name == "企业明细" else 0)


def _overview(wb: Any, sheet: Any, f: dict, rollup: Rollup, totals: GroupRow, title: str) -> None:
    ws = _InRowOrder(sheet)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 14)
    ws.write_string(0, 0, title or f"{rollup.level}级双重预防体系运行情况汇总", f["title"])
    ws.write_string(1, 0, f"统计日期：{rollup.as_of.isoformat()}")
    s = totals.sums
    headline = [("应报企业", totals.expected), ("已报送企业", totals.submitted), ("报送率", totals.submission_rate),
                (f"按时报送企业（{on_time_period(rollup)}）", totals.on_time), ("未有效运行企业", totals.not_effective),
                ("重大风险", s["risks_major"]), ("较大风险", s["risks_significant"]), ("一般风险", s["risks_general"]),
                ("低风险", s["risks_low"]), ("隐患总数", s["hazards_total"]), ("未销号隐患", s["hazards_open"]),
                ("逾期隐患", s["hazards_overdue"]), ("重大隐患未销号", s["major_open"]), ("按期销号", s["closed_on_time"]),
                ("逾期销号", s["closed_late"]), ("销号率", totals.closure_rate)]
    ws.write_string(3, 0, "指标", f["head"])
    ws.write_string(3, 1, "数值", f["head"])
    for i, (label, value) in enumerate(headline, start=4):
        ws.write_string(i, 0, label, f["cell"])
        _write_cell(ws, i, 1, value, f, label)
    # chart data
    ws.write_string(3, 3, "风险等级", f["head"])
    ws.write_string(3, 4, "风险点数", f["head"])
    for i, (label, key, _) in enumerate(LEVEL_COLOURS, start=4):
        ws.write_string(i, 3, label, f["cell"])
        ws.write_number(i, 4, s[key], f["cell"])
    status = [("逾期未销号", s["hazards_overdue"]), ("未逾期未销号", s["hazards_open"] - s["hazards_overdue"]),
              ("按期销号", s["closed_on_time"]), ("逾期销号", s["closed_late"])]
    ws.write_string(9, 3, "隐患状态", f["head"])
    ws.write_string(9, 4, "隐患数", f["head"])
    for i, (label, value) in enumerate(status, start=10):
        ws.write_string(i, 3, label, f["cell"])
        ws.write_number(i, 4, value, f["cell"])
    ws.write_string(15, 3, TREND_HEADER, f["head"])
    ws.write_string(15, 4, "月末逾期隐患", f["head"])
    for i, (month, n) in enumerate(rollup.trend.items(), start=16):
        ws.write_string(i, 3, month, f["cell"])
        if n is None:  # no enterprise had submitted by then: a gap in the chart, never a zero
            ws.write_string(i, 4, NO_DATA, f["cell"])
        else:
            ws.write_number(i, 4, n, f["cell"])
    ws.set_column(3, 3, 14)
    ws.set_column(4, 4, 14)
    risk_chart = wb.add_chart({"type": "column"})
    risk_chart.add_series({"name": "风险点数", "categories": ["总览", 4, 3, 7, 3], "values": ["总览", 4, 4, 7, 4],
                           "points": [{"fill": {"color": c}, "border": {"color": "#404040"}} for _, _, c in LEVEL_COLOURS]})
    risk_chart.set_title({"name": "风险点按等级（四色）"})
    risk_chart.set_legend({"none": True})
    ws.insert_chart(3, 6, risk_chart, {"x_scale": 0.9, "y_scale": 0.8})
    status_chart = wb.add_chart({"type": "pie"})
    status_chart.add_series({"name": "隐患状态", "categories": ["总览", 10, 3, 13, 3], "values": ["总览", 10, 4, 13, 4],
                             "points": [{"fill": {"color": c}} for c in ("#FF0000", "#FFC000", "#70AD47", "#A5A5A5")],
                             "data_labels": {"value": True, "category": True}})
    status_chart.set_title({"name": "隐患治理状态"})
    ws.insert_chart(3, 13, status_chart, {"x_scale": 0.9, "y_scale": 0.8})
    if rollup.trend:
        trend_chart = wb.add_chart({"type": "line"})
        last = 15 + len(rollup.trend)
        trend_chart.add_series({"name": "月末逾期隐患", "categories": ["总览", 16, 3, last, 3],
                                "values": ["总览", 16, 4, last, 4], "marker": {"type": "circle"}})
        trend_chart.set_title({"name": "逾期隐患月度趋势（空缺为当月无报送数据）"})
        trend_chart.show_blanks_as("gap")
        trend_chart.set_legend({"none": True})
        ws.insert_chart(16, 6, trend_chart, {"x_scale": 1.8, "y_scale": 0.8})
    # one landscape page: the figures on the left, the charts beside them (a 2 × 2 grid), never cut in half
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.print_area(0, 0, max(OVERVIEW_ROWS, 16 + len(rollup.trend)), 20)
    ws.fit_to_pages(1, 1)
    ws.flush()
    ws.activate()


# --- reading summaries back (city and province roll-up) -----------------------------------

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
