"""The summary workbook of a roll-up (xlsxwriter, native Excel charts).

Sheets: 总览 (headline figures and charts), 企业明细, 县区汇总, 乡镇汇总, 行业汇总, 逾期隐患, 重大隐患,
重点检查企业, 未报送企业, 报送情况 (:mod:`dpsheets.county.filings`), 规则说明, and hidden sheets: the level,
as-of date, reporting periods and the rules applied (settings as JSON), every rule breach as its code and
parameters, every enterprise's filing per period and (below the province, whose summaries nothing combines)
every enterprise's submission and overdue hazards at each month's end. Text that begins with
= + - @ is written as text, never as a formula. County summaries read back
(:func:`dpsheets.county.summary_read.read_summary`) combine into a city (and city into province) summary
of the same shape, whose 规则说明 states the rules each county applied. The longest sheet of a large roll-up
(企业明细) is written by a second process meanwhile (:mod:`dpsheets.county.sheet_jobs`).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from operator import attrgetter
from pathlib import Path
from typing import Any

from dpsheets.collector import collector_paused
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
    Rollup,
)
from dpsheets.county.sheet_jobs import Alongside, spill_of, write_detail
from dpsheets.county.sheet_xml import FastRows, FastWorkbook, Styles
from dpsheets.fsutil import atomic_path
from dpsheets.rules.breaches import Breach, rule_texts, score_texts
from dpsheets.workbook.print_setup import ID_WIDTH, landscape_wide
from dpsheets.workbook.registers import identity_columns

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
    with atomic_path(path) as tmp, collector_paused():  # a province's rows: see dpsheets.collector
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
    side = Alongside.start(rollup)  # a second process for 企业明细 (see sheet_jobs)
    try:
        _lists(wb, ws, f, rollup, totals, side)
    finally:
        if side is not None:
            side.close()
    wb.close()


def _lists(wb: Any, ws: dict[str, Any], f: dict, rollup: Rollup, totals: GroupRow, side: Alongside | None) -> None:
    """Every sheet after 总览; 企业明细 (with the breaches) by *side*, when given, meanwhile."""
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

        def take_detail() -> None:
            detail, found = detail_done()
            _table_end(ws["企业明细"], f, detail_head, detail_rows.adopt(side.path("detail"), detail), **detail_look)
            breaches.adopt(side.path("breaches"), found)
            _close_breaches(breaches, rollup)

        taken.append(take_detail)
    for sheet, key in (("县区汇总", "county"), ("乡镇汇总", "township"), ("行业汇总", "industry")):
        groups = rollup.groups(key) + [totals]
        _table(ws[sheet], f, [dict(IDENTITY)[key], *GROUP_HEAD,
                              *(h for _, h in INDICATORS), "销号率"], [_group_values(g) for g in groups],
               highlight=("逾期隐患",), widths={0: 18})
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
