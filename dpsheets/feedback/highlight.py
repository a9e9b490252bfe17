"""The highlighted copy: the user's own workbook with every problem marked on its cell.

Wrong cells are filled and carry a comment with the Chinese message; overdue hazard rows
turn red and due-soon rows orange; a 检查结果 sheet lists every problem with a link to
its cell. The copy is saved to a temporary name that the caller renames into place; the original
is opened read-only and never written.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from dpsheets.collector import collector_paused
from dpsheets.fsutil import without_modules

# openpyxl imports numpy (0.2 s) only to recognise numpy numbers, which we never write, and Pillow (10 ms)
# only to read a workbook's pictures: Pillow is shown to it when a workbook has any (_pictures_readable).
with without_modules("numpy", "PIL"):
    import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from dpsheets.feedback.xlsx_writer import save as _save
from dpsheets.fsutil import environment_error
from dpsheets.rules.problems import SEVERITY_LABEL, Problem, Report
from dpsheets.workbook.normalize import CONTROL_CHARS, visible

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
BOLD, TITLE, NOTE = Font(bold=True), Font(bold=True, size=13), Font(color="C00000")
LINK = Font(color="0563C1", underline="single")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")


class _Styles:
    """Style ids of one workbook, each looked up once. ``cell.fill = x`` hashes the whole of *x* (every
    attribute, colours included) at each assignment; a copy of a large register assigns thousands."""

    COLLECTIONS = {"fill": ("_fills", "fillId"), "font": ("_fonts", "fontId"), "alignment": ("_alignments", "alignmentId")}

    def __init__(self, wb: openpyxl.Workbook) -> None:
        self.wb = wb
        self.ids: dict[tuple[str, int], int] = {}

    def apply(self, cell, **styles: object) -> None:  # noqa: ANN001 - a Cell or a MergedCell
        """What ``cell.fill = …; cell.font = …`` does (openpyxl's StyleDescriptor), with the ids cached."""
        if not cell._style:  # a new cell has none yet
            cell._style = StyleArray()
        for kind, value in styles.items():
            collection, key = self.COLLECTIONS[kind]
            style_id = self.ids.get((kind, id(value)))
            if style_id is None:
                style_id = self.ids[(kind, id(value))] = getattr(self.wb, collection).add(value)
            setattr(cell._style, key, style_id)


def highlighted_path(original: Path, out_dir: Path | None = None) -> Path:
    """Where the copy of *original* goes: beside it with a suffix, or into *out_dir*."""
    folder = out_dir if out_dir is not None else original.parent
    return folder / f"{original.stem}_检查结果.xlsx"


def save_highlighted(original: Path, report: Report, out: Path, display_name: str | None = None) -> None:
    """Save the marked copy of *original* as *out*. Every workbook that could be checked gets one:
    first the workbook itself; else a cleaned copy of it (characters XML cannot hold shown escaped,
    ``\\x0B``); else, when openpyxl cannot open or save it at all, a copy holding the 检查结果 sheet
    alone, saying so (:func:`save_results_only`). Only the machine's faults (disk full, folder not
    writable) raise."""
    name = display_name or original.name
    _pictures_readable(original)
    for load in (_load, _load_cleaned):
        try:
            _marked_copy(load, original, report, name, out)
            return
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except OSError as exc:
            if environment_error(exc) is not None:
                raise
        except BaseException:  # noqa: BLE001 - control characters, XML openpyxl cannot parse, values it cannot save
            pass
        gc.collect()  # the workbook that failed, before the next attempt loads another
    save_results_only(report, out, name)


def _marked_copy(load: Callable[[Path], openpyxl.Workbook], original: Path, report: Report, name: str, out: Path) -> None:
    with collector_paused():
        wb = load(original)
        try:
            if RESULT_SHEET in wb.sheetnames:
                del wb[RESULT_SHEET]
            _mark_rows(wb, report.problems)
            _mark_cells(wb, report.problems)
            _write_result_sheet(wb, report, name)
            _save(wb, out)
        finally:
            wb.close()


def save_results_only(report: Report, out: Path, display_name: str, why: str | None = None) -> None:
    """Save a workbook holding the 检查结果 sheet alone, saying why the original could not be copied."""
    wb = openpyxl.Workbook()
    _write_result_sheet(wb, report, display_name, note=RESULTS_ONLY if why is None else f"{why}{RESULTS_ONLY_TAIL}")
    wb.remove(wb.worksheets[-1])
    _save(wb, out)


RESULTS_ONLY_TAIL = "此副本只列出检查结果。请用 Excel 打开原文件，按“单元格”列找到各处问题。"
RESULTS_ONLY = f"原工作簿的内容无法由本程序复制（文件内部结构不规范），{RESULTS_ONLY_TAIL}"


def _load(original: Path) -> openpyxl.Workbook:
    """The workbook as openpyxl reads it. An .xls (which openpyxl cannot open) is copied cell by cell
    from python-calamine, merged ranges included, so that it gets its marked copy too."""
    with original.open("rb") as f:
        if f.read(8) == bytes.fromhex("D0CF11E0A1B11AE1"):
            return _from_xls(original)
    return openpyxl.load_workbook(original, rich_text=False)


def _pictures_readable(original: Path) -> None:
    """When *original* holds pictures (a hazard's photo, a logo), make sure openpyxl can read them, so that
    the copy keeps them: openpyxl looks for Pillow once, when it is imported (``PILImage`` of the two
    modules below), and we imported it with Pillow hidden."""
    import zipfile

    try:
        with zipfile.ZipFile(original) as z:
            if not any(name.startswith("xl/media/") for name in z.namelist()):
                return
    except (OSError, zipfile.BadZipFile):
        return  # openpyxl says what is wrong with the file
    from openpyxl.drawing import image
    from openpyxl.reader import drawings

    if not image.PILImage or not drawings.PILImage:  # type: ignore[attr-defined]
        try:
            from PIL import Image
        except ImportError:  # Pillow not installed: openpyxl drops the pictures, as it always would
            return
        image.PILImage = drawings.PILImage = Image  # type: ignore[attr-defined]


def _load_cleaned(original: Path) -> openpyxl.Workbook:
    """A cleaned copy of *original* (see :func:`_clean_copy`), loaded."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dpsheets-") as folder:
        cleaned = Path(folder) / "cleaned.xlsx"
        _clean_copy(original, cleaned)
        return openpyxl.load_workbook(cleaned, rich_text=False)


def _from_xls(original: Path) -> openpyxl.Workbook:
    import python_calamine as pc

    source = pc.CalamineWorkbook.from_path(str(original))
    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])
    try:
        for name in source.sheet_names:
            sheet = source.get_sheet_by_name(name)
            ws = wb.create_sheet(name[:31])
            for r, row in enumerate(sheet.to_python(skip_empty_area=False), start=1):
                for c, value in enumerate(row, start=1):
                    if value != "" and value is not None:
                        cell = ws.cell(row=r, column=c, value=value)
                        if isinstance(value, str):
                            cell.data_type = "s"  # text stays text, even when it starts with "="
            for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    finally:
        source.close()
    return wb


_RAW_CONTROL = re.compile(CONTROL_CHARS.pattern.encode())  # the same characters, in the file's bytes
_ESCAPED_CONTROL = re.compile(rb"_x(000[0-8bBcCeEfF]|001[0-9a-fA-F])_")
_ENTITY_CONTROL = re.compile(rb"&#(?:x0*([0-8bBcCeEfF]|1[0-9a-fA-F])|0*([0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]));")


def _clean_copy(src: Path, dst: Path) -> None:
    """*src* with every character XML 1.0 cannot hold (raw, ``_x000B_`` or ``&#11;``) written as
    visible text ``\\x0B``, so that openpyxl can open it and the clerk can see where it was."""
    import zipfile

    def shown(code: int) -> bytes:
        return visible(chr(code)).encode()

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith((".xml", ".rels")):
                data = _RAW_CONTROL.sub(lambda m: shown(m.group(0)[0]), data)
                data = _ESCAPED_CONTROL.sub(lambda m: shown(int(m.group(1), 16)), data)
                data = _ENTITY_CONTROL.sub(lambda m: shown(int(m.group(1), 16) if m.group(1) else int(m.group(2))), data)
            zout.writestr(item, data)


def _mark_rows(wb: openpyxl.Workbook, problems: list[Problem]) -> None:
    """Colour whole rows, as wide as the sheet's content (measured once per sheet, never per row)."""
    widths: dict[str, int] = {}
    styles = _Styles(wb)
    for p in problems:
        kind = ROW_FINDINGS.get(p.code)
        if kind is None or p.sheet not in wb.sheetnames or not p.row:
            continue
        ws = wb[p.sheet]
        if p.sheet not in widths:
            widths[p.sheet] = min(ws.max_column, 256)
        looks = {"fill": FILLS[kind], "font": WHITE} if kind == "overdue" else {"fill": FILLS[kind]}
        for c in range(1, widths[p.sheet] + 1):
            styles.apply(ws.cell(row=p.row, column=c), **looks)


def _mark_cells(wb: openpyxl.Workbook, problems: list[Problem]) -> None:
    by_cell: dict[tuple[str, str], list[Problem]] = defaultdict(list)
    for p in problems:
        if p.sheet in wb.sheetnames and p.cell:
            by_cell[(p.sheet, p.cell)].append(p)
    for (sheet, ref), items in by_cell.items():
        cell = _anchor(wb[sheet], ref)
        if any(p.severity == "error" for p in items):
            cell.fill = FILLS["error"]
        elif any(p.severity == "warning" for p in items):
            cell.fill = FILLS["warning"]
        text = visible("\n".join(f"【{SEVERITY_LABEL[p.severity]}】{p.message}" for p in items))
        comment = Comment(text, "dpsheets")
        comment.width, comment.height = 320, 40 + 18 * (len(text) // 22 + len(items))
        cell.comment = comment


def _anchor(ws, ref: str):  # noqa: ANN001, ANN202
    """The cell a comment can go on: inside a merged range, its top-left cell."""
    cell = ws[ref]
    if isinstance(cell, MergedCell):
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                return ws.cell(row=merged.min_row, column=merged.min_col)
    return cell


def _write_result_sheet(wb: openpyxl.Workbook, report: Report, filename: str, note: str | None = None) -> None:
    ws = wb.create_sheet(RESULT_SHEET, 0)
    styles = _Styles(wb)
    counts = report.counts()
    _text(ws["A1"], f"{filename} 检查结果：错误 {counts['error']} 处，提醒 {counts['warning']} 处，发现 {counts['finding']} 处")
    styles.apply(ws["A1"], font=TITLE)
    if note:
        styles.apply(_text(ws["A2"], note), font=NOTE)
    headers = ("类别", "工作表", "单元格", "列", "问题", "说明", "代码")
    for c, h in enumerate(headers, 1):
        styles.apply(ws.cell(row=3, column=c, value=h), font=BOLD, fill=FILLS["header"])
    sheets = set(wb.sheetnames)
    for i, p in enumerate(report.sorted(), start=4):
        label = ws.cell(row=i, column=1, value=SEVERITY_LABEL[p.severity])
        if p.severity == "error":
            styles.apply(label, fill=FILLS["error"])
        _text(ws.cell(row=i, column=2), p.sheet)
        ref = _text(ws.cell(row=i, column=3), p.cell or (f"第 {p.row} 行" if p.row else ""))
        if p.sheet in sheets and (p.cell or p.row):
            quoted = p.sheet.replace("'", "''")
            ref.hyperlink = Hyperlink(ref=ref.coordinate, location=f"'{quoted}'!{p.cell or f'A{p.row}'}")
            styles.apply(ref, font=LINK)
        _text(ws.cell(row=i, column=4), p.column)
        ws.cell(row=i, column=5, value=p.title)
        styles.apply(_text(ws.cell(row=i, column=6), p.message), alignment=WRAP_TOP)
        ws.cell(row=i, column=7, value=p.code)
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
    """Write *value* as text: user text starting with '=' must never become a formula, and
    control characters a workbook cannot store are shown escaped."""
    cell.value = visible(value or "")
    cell.data_type = "s"
    return cell
