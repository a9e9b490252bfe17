"""The highlighted copy: the user's own workbook with every problem marked on its cell.

Wrong cells are filled and carry a comment with the Chinese message; overdue hazard rows
turn red and due-soon rows orange; a 检查结果 sheet lists every problem with a link to
its cell. The copy is written to a temporary name and renamed into place; the original
is opened read-only and never written.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from dpsheets.fsutil import atomic_path
from dpsheets.rules.problems import SEVERITY_LABEL, Problem, Report

RESULT_SHEET = "检查结果"
FILLS = {
    "error": PatternFill("solid", fgColor="FFC7CE"),
    "warning": PatternFill("solid", fgColor="FFEB9C"),
    "overdue": PatternFill("solid", fgColor="FF0000"),
    "due-soon": PatternFill("solid", fgColor="FFC000"),
    "header": PatternFill("solid", fgColor="DDEBF7"),
}
ROW_FINDINGS = {"hazard.overdue": "overdue", "hazard.due-soon": "due-soon"}
WHITE = Font(color="FFFFFF")


def highlighted_path(original: Path, out_dir: Path | None = None) -> Path:
    """Where the copy of *original* goes: beside it with a suffix, or into *out_dir*."""
    folder = out_dir if out_dir is not None else original.parent
    return folder / f"{original.stem}_检查结果.xlsx"


def write_highlighted(original: Path, report: Report, target: Path) -> Path:
    wb = openpyxl.load_workbook(original, rich_text=False)
    try:
        if RESULT_SHEET in wb.sheetnames:
            del wb[RESULT_SHEET]
        _mark_rows(wb, report.problems)
        _mark_cells(wb, report.problems)
        _write_result_sheet(wb, report, original.name)
        with atomic_path(target) as tmp:
            wb.save(tmp)
    finally:
        wb.close()
    return target


def _mark_rows(wb: openpyxl.Workbook, problems: list[Problem]) -> None:
    for p in problems:
        kind = ROW_FINDINGS.get(p.code)
        if kind is None or p.sheet not in wb.sheetnames or not p.row:
            continue
        ws = wb[p.sheet]
        for cell in ws[p.row]:
            cell.fill = FILLS[kind]
            if kind == "overdue":
                cell.font = WHITE


def _mark_cells(wb: openpyxl.Workbook, problems: list[Problem]) -> None:
    by_cell: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        if p.sheet in wb.sheetnames and p.cell:
            by_cell[(p.sheet, p.cell)].append(p)
    for (sheet, ref), items in by_cell.items():
        cell = wb[sheet][ref]
        if any(p.severity == "error" for p in items):
            cell.fill = FILLS["error"]
        elif any(p.severity == "warning" for p in items):
            cell.fill = FILLS["warning"]
        text = "\n".join(f"【{SEVERITY_LABEL[p.severity]}】{p.message}" for p in items)
        comment = Comment(text, "dpsheets")
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 22 + len(items))
        cell.comment = comment


def _write_result_sheet(wb: openpyxl.Workbook, report: Report, filename: str) -> None:
    ws = wb.create_sheet(RESULT_SHEET, 0)
    counts = report.counts()
    ws["A1"] = f"{filename} 检查结果：错误 {counts['error']} 处，提醒 {counts['warning']} 处，发现 {counts['finding']} 处"
    ws["A1"].font = Font(bold=True, size=13)
    headers = ("类别", "工作表", "单元格", "列", "问题", "说明", "代码")
    for c, h in enumerate(headers, 1):
        cell = ws.cell(row=3, column=c, value=h)
        cell.font, cell.fill = Font(bold=True), FILLS["header"]
    for i, p in enumerate(report.sorted(), start=4):
        ws.cell(row=i, column=1, value=SEVERITY_LABEL[p.severity])
        ws.cell(row=i, column=2, value=p.sheet or "")
        ref = ws.cell(row=i, column=3, value=p.cell or (f"第 {p.row} 行" if p.row else ""))
        if p.sheet in wb.sheetnames and (p.cell or p.row):
            ref.hyperlink = Hyperlink(ref=ref.coordinate, location=f"'{p.sheet}'!{p.cell or f'A{p.row}'}")
            ref.font = Font(color="0563C1", underline="single")
        _text(ws.cell(row=i, column=4), p.column)
        ws.cell(row=i, column=5, value=p.title)
        _text(ws.cell(row=i, column=6), p.message).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=i, column=7, value=p.code)
        if p.severity == "error":
            ws.cell(row=i, column=1).fill = FILLS["error"]
    for c, width in enumerate((8, 20, 10, 16, 18, 80, 26), 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False


def _text(cell, value: str | None):  # noqa: ANN001, ANN202
    """Write *value* as text: user text starting with '=' must never become a formula."""
    cell.value = value or ""
    cell.data_type = "s"
    return cell
