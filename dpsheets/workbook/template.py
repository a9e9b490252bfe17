"""Writing the standard workbook from the register declarations (xlsxwriter).

The same function writes the blank template (``dpsheets template``) and filled
workbooks (the demo, test fixtures, benchmarks): a 填表说明 sheet, the enterprise sheet,
one sheet per register with a title row, frozen header, dropdowns with input messages,
date and number formats, column widths, A4 landscape print set-up, conditional
formatting (overdue hazards red, due within ``due_soon_days`` orange — the formulas generated
from :mod:`dpsheets.rules.hazard_state` — risk level cells coloured)
and a hidden sheet with the template id and version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from dpsheets.fsutil import atomic_path
from dpsheets.rules import hazard_state
from dpsheets.workbook.layout import Block, write_layout_sheet
from dpsheets.workbook.print_setup import PAPER_CODES, landscape_wide, widths_for
from dpsheets.workbook.registers import (
    ENTERPRISE,
    FIELD_TYPE_LABELS,
    HAZARD,
    META_SHEET,
    REGISTERS,
    RISK,
    RISK_COLOURS,
    TABLES,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    Field,
    FieldType,
    Register,
    column_letter,
)

TITLE_ROW = 0  # 0-based: the sheet title
HEADER_ROW = 1  # 0-based: the header row; data start below it
VALIDATION_ROWS = 2000  # rows that carry dropdowns and conditional formats in a blank template
FIXED_DATE = datetime(2020, 9, 23)  # document properties are fixed so the template is reproducible
OPTIONS_SHEET = "选项"

Rows = Mapping[str, Sequence[Mapping[str, Any]]]
# Columns that may be narrowed to print on A3 one page wide: free text wraps; codes (隐患编号), dates,
# phones, numbers and choices never do.
WRAPPING = (FieldType.TEXT, FieldType.MULTI)
CODES = ("number",)


def _wraps(f: Field) -> bool:
    return f.type in WRAPPING and f.key not in CODES


def write_workbook(path: str | Path, enterprise: Mapping[str, Any] | None = None, rows: Rows | None = None,
                   *, title: str = "", due_soon_days: int = hazard_state.DEFAULT_DUE_SOON_DAYS,
                   layout: Sequence[Block] = (), extra: Callable[[Any], None] | None = None,
                   meta: Mapping[str, str] | None = None, paper: str = "A4") -> Path:
    """Write the standard workbook to *path* (atomically), filled with *enterprise* and *rows*.

    *paper* ("A4" or "A3", the configured ``[print] paper``) is the paper its wide registers print on.
    Hazards due within *due_soon_days* (the configured ``due_soon_days``) turn orange in Excel/WPS.
    *layout* sketches the plant on the 风险分布图 sheet (blank in a template). *extra* adds sheets of
    its own to the xlsxwriter workbook (the 转换说明 of ``dpsheets convert``); *meta* adds key/value rows
    to the hidden identity sheet (the registers a conversion found in no source)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        _write(tmp, enterprise or {}, rows or {}, title, due_soon_days, layout, extra, meta, PAPER_CODES[paper])
    return path


def _write(path: Path, enterprise: Mapping[str, Any], rows: Rows, title: str, due_soon_days: int,
           layout: Sequence[Block] = (), extra: Callable[[Any], None] | None = None,
           meta: Mapping[str, str] | None = None, paper: int = PAPER_CODES["A4"]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                          "default_date_format": "yyyy-mm-dd"})
    wb.set_properties({"title": "双重预防体系台账", "author": "dpsheets", "created": FIXED_DATE,
                       "comments": f"{TEMPLATE_ID} {TEMPLATE_VERSION}"})
    fmt = _formats(wb)
    _write_instructions(wb, fmt, due_soon_days)
    options = _OptionLists(wb)
    _write_enterprise(wb, fmt, enterprise, options)
    name = enterprise.get("name") or title
    for register in TABLES:
        _write_table(wb, fmt, register, rows.get(register.key, ()), name, options, due_soon_days, paper)
        if register is RISK:
            counts = Counter(r.get("level") for r in rows.get(RISK.key, ()))
            write_layout_sheet(wb, layout, {k: v for k, v in counts.items() if isinstance(k, str)}, paper)
    if extra is not None:
        extra(wb)
    _write_meta(wb, meta or {})
    options.finish()
    wb.close()


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    base = {"font_name": "宋体", "font_size": 10, "valign": "top", "text_wrap": True, "border": 1}
    return {
        "title": wb.add_format({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"}),
        "header": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter"}),
        "required": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "font_color": "#C00000",
                                   "align": "center", "valign": "vcenter"}),
        "text": wb.add_format(base),
        "date": wb.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "number": wb.add_format({**base, "num_format": "General"}),
        "label": wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"}),
        "note": wb.add_format({"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "top"}),
        "bold": wb.add_format({"font_name": "黑体", "font_size": 11, "bold": True}),
        "red": wb.add_format({"bg_color": "#FF0000", "font_color": "#FFFFFF"}),
        "orange": wb.add_format({"bg_color": "#FFC000"}),
        **{f"level:{lvl}": wb.add_format({"bg_color": f"#{c}", "font_color": "#FFFFFF" if lvl in ("重大风险", "低风险") else "#000000"})
           for lvl, c in RISK_COLOURS.items()},
    }


def _write_instructions(wb: xlsxwriter.Workbook, fmt: dict[str, Any], due_soon_days: int) -> None:
    ws = wb.add_worksheet("填表说明")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 2, 70)
    ws.merge_range(0, 0, 0, 2, "双重预防体系台账 填表说明", fmt["title"])  # across the page, never clipped
    ws.set_row(0, 28)
    lines = [
        "1. 本工作簿是小微企业双重预防体系“一图三单、一题一卡、一企一档一码”的标准台账，请勿修改工作表名称和表头。",
        "2. 红色表头为必填项；带下拉箭头的格请从列表中选择；日期请按 2020-09-23 的格式填写。",
        "3. 填好后运行 `dpsheets check 本文件.xlsx` 或交县（市、区）应急管理局，系统会逐格检查并生成标注了问题的副本。",
        "4. 隐患按“登记→整改→验收→销号”闭环管理，逾期未整改的隐患在本表中自动显示为红色，"
        f"{f'{due_soon_days} 天内' if due_soon_days else '当天'}到期的显示为橙色。",
    ]
    r = 2
    for line in lines:
        ws.merge_range(r, 0, r, 2, line, fmt["note"])
        ws.set_row(r, _row_height(line, 22 + 26 + 70))  # Excel never grows a merged row by itself
        r += 1
    for register in REGISTERS:
        r += 1
        ws.write(r, 0, register.sheet, fmt["bold"])
        ws.merge_range(r, 1, r, 2, register.help, fmt["note"])
        ws.set_row(r, _row_height(register.help, 26 + 70))
        r += 1
        for f in register.fields:
            ws.write(r, 0, f.header + ("（必填）" if f.required else ""), fmt["text"])
            ws.write(r, 1, _type_text(f), fmt["text"])
            ws.write(r, 2, field_help(f), fmt["text"])
            ws.set_row(r, max(_row_height(field_help(f), 70), _row_height(f.header + "（必填）", 22)))
            r += 1
    ws.set_paper(9)  # A4 portrait, as wide as the page, as many pages long as it takes
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.activate()


def _row_height(text: str, width: float, line_pt: float = 13.5) -> float:
    """Points for *text* wrapped in a column of *width* characters (a Chinese character is two wide)."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    return line_pt * max(1, -(-units // max(int(width) - 2, 1)))


def _type_text(f: Field) -> str:
    return FIELD_TYPE_LABELS[f.type]


def field_help(f: Field) -> str:
    parts = [f.help] if f.help else []
    if f.choices and f.type is not FieldType.MULTI or f.type is FieldType.MULTI and len(f.choices) <= 25:
        parts.append("可选：" + "、".join(f.choices))
    if f.type is FieldType.DATE and not f.help:
        parts.append("如 2020-09-23")
    return "；".join(parts)


class _OptionLists:
    """Long choice lists live on a hidden sheet and are referenced by the dropdowns."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.lists: dict[tuple[str, ...], str] = {}

    def source(self, choices: tuple[str, ...]) -> str | list[str]:
        if len(",".join(choices)) < 250:
            return list(choices)
        if choices not in self.lists:
            col = column_letter(len(self.lists))
            self.lists[choices] = f"='{OPTIONS_SHEET}'!${col}$1:${col}${len(choices)}"
        return self.lists[choices]

    def finish(self) -> None:
        if not self.lists:
            return
        ws = self.wb.add_worksheet(OPTIONS_SHEET)
        for c, choices in enumerate(self.lists):
            ws.write_column(0, c, choices)
        ws.hide()


def _validate(ws: Any, first_row: int, last_row: int, col: int, f: Field, options: _OptionLists) -> None:
    message = field_help(f)[:250] or f.header
    title = f.header[:32]
    if f.type is FieldType.CHOICE:
        ws.data_validation(first_row, col, last_row, col, {
            "validate": "list", "source": options.source(f.choices), "input_title": title, "input_message": message,
            "error_title": "请从下拉列表选择", "error_message": ("可选：" + "、".join(f.choices))[:250]})
    elif f.type is FieldType.DATE:
        ws.data_validation(first_row, col, last_row, col, {
            "validate": "date", "criteria": "between", "minimum": date(1990, 1, 1), "maximum": date(2099, 12, 31),
            "input_title": title, "input_message": message or "日期，如 2020-09-23", "error_type": "warning",
            "error_title": "日期格式", "error_message": "请填写日期，如 2020-09-23"})
    elif f.type in (FieldType.INT, FieldType.NUMBER):
        ws.data_validation(first_row, col, last_row, col, {
            "validate": "integer" if f.type is FieldType.INT else "decimal", "criteria": ">=", "value": 0,
            "input_title": title, "input_message": message, "error_type": "warning",
            "error_title": "请填写数字", "error_message": "请只填写数字，不带单位"})
    elif message != f.header:
        ws.data_validation(first_row, col, last_row, col, {"validate": "any", "input_title": title,
                                                           "input_message": message})


def _write_enterprise(wb: xlsxwriter.Workbook, fmt: dict[str, Any], values: Mapping[str, Any],
                      options: _OptionLists) -> None:
    ws = wb.add_worksheet(ENTERPRISE.sheet)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 44)
    ws.merge_range(0, 0, 0, 1, "企业基本信息", fmt["title"])
    for i, f in enumerate(ENTERPRISE.fields):
        r = i + 1
        ws.write(r, 0, f.header, fmt["required"] if f.required else fmt["label"])
        _write_value(ws, r, 1, f, values.get(f.key), fmt)
        _validate(ws, r, r, 1, f, options)
    ws.set_landscape()
    ws.set_paper(9)


def _write_table(wb: xlsxwriter.Workbook, fmt: dict[str, Any], register: Register,
                 rows: Sequence[Mapping[str, Any]], enterprise_name: str, options: _OptionLists,
                 due_soon_days: int, paper: int) -> None:
    ws = wb.add_worksheet(register.sheet)
    widths = widths_for([f.width for f in register.fields], [_wraps(f) for f in register.fields], paper)
    last_col = len(register.fields) - 1
    title = f"{enterprise_name} {register.sheet}" if enterprise_name else register.sheet
    ws.merge_range(TITLE_ROW, 0, TITLE_ROW, last_col, title, fmt["title"])
    ws.set_row(TITLE_ROW, 30)
    ws.set_row(HEADER_ROW, 32)
    for c, f in enumerate(register.fields):
        ws.set_column(c, c, widths[c])
        ws.write(HEADER_ROW, c, f.header, fmt["required"] if f.required else fmt["header"])
    for i, values in enumerate(rows):
        r = HEADER_ROW + 1 + i
        for c, f in enumerate(register.fields):
            _write_value(ws, r, c, f, values.get(f.key), fmt)
    first, last = HEADER_ROW + 1, HEADER_ROW + max(VALIDATION_ROWS, len(rows) + 200)
    for c, f in enumerate(register.fields):
        _validate(ws, first, last, c, f, options)
    _conditional_formats(ws, register, first, last, fmt, due_soon_days)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + max(len(rows), 1), last_col)
    landscape_wide(ws, widths, header_rows=(TITLE_ROW, HEADER_ROW), paper=paper)


def _conditional_formats(ws: Any, register: Register, first: int, last: int, fmt: dict[str, Any],
                         due_soon_days: int) -> None:
    index = {f.key: i for i, f in enumerate(register.fields)}
    if register is HAZARD:
        row = first + 1  # formulas are written for the first data row and apply relatively below it
        cells = {key: f"${column_letter(index[key])}{row}" for key in hazard_state.FIELDS}
        for name, colour in (("overdue", "red"), ("due_soon", "orange")):
            formula = hazard_state.excel(name, cells, due_soon_days=due_soon_days)
            ws.conditional_format(first, 0, last, len(register.fields) - 1,
                                  {"type": "formula", "criteria": f"={formula}", "format": fmt[colour]})
    for key in ("level",):
        f = register.by_key.get(key)
        if f is None or f.choices != tuple(RISK_COLOURS):
            continue
        col = index[key]
        for level in RISK_COLOURS:
            ws.conditional_format(first, col, last, col, {"type": "cell", "criteria": "==", "value": f'"{level}"',
                                                          "format": fmt[f"level:{level}"]})


def _write_value(ws: Any, r: int, c: int, f: Field, value: Any, fmt: dict[str, Any]) -> None:
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt["date"] if f.type is FieldType.DATE else fmt["text"])
    elif isinstance(value, (date, datetime)) and not isinstance(value, str):
        ws.write_datetime(r, c, value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                          fmt["date"])
    elif isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否", fmt["text"])
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt["number"])
    elif isinstance(value, (tuple, list)):
        ws.write_string(r, c, "、".join(str(v) for v in value), fmt["text"])
    else:
        ws.write_string(r, c, str(value), fmt["text"])


def _write_meta(wb: xlsxwriter.Workbook, extra: Mapping[str, str]) -> None:
    ws = wb.add_worksheet(META_SHEET)
    ws.write_column(0, 0, ["template_id", "version", "generator", *extra])
    ws.write_column(0, 1, [TEMPLATE_ID, TEMPLATE_VERSION, "dpsheets", *extra.values()])
    ws.hide()


def cell_of(register: Register, key: str, index: int) -> str:
    """Cell reference of field *key* in the *index*-th data row of a workbook written here."""
    col = next(i for i, f in enumerate(register.fields) if f.key == key)
    if register.key_value:
        row = 1 + next(i for i, f in enumerate(register.fields) if f.key == key)
        return xl_rowcol_to_cell(row, 1)
    return xl_rowcol_to_cell(HEADER_ROW + 1 + index, col)
