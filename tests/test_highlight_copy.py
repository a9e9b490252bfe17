"""What the highlighted copy holds, as openpyxl and LibreOffice read it back: every problem's fill and
comment on its cell, and the copy's parts the same as openpyxl's own writer makes them."""

from __future__ import annotations

import gc
import os
import subprocess
import zipfile
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from builders import AS_OF
from lxml import etree
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.worksheet.formula import ArrayFormula

from dpsheets.documents.render import soffice
from dpsheets.feedback.highlight import FILLS, RESULT_SHEET, save_highlighted
from dpsheets.feedback.xlsx_writer import save as _save
from dpsheets.pipeline import check, pipeline
from dpsheets.rules.problems import SEVERITY_LABEL
from dpsheets.workbook.normalize import visible
from dpsheets.workbook.samples import plant
from dpsheets.workbook.template import write_workbook


def _tree(element) -> tuple:
    return (element.tag, dict(element.attrib), element.text or "", element.tail or "", [_tree(c) for c in element])


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _same_parts(ours: Path, theirs: Path) -> None:
    """The two files hold the same parts, byte for byte (the VML element for element, namespace prefixes
    aside; core.xml holds the time of saving)."""
    mine, openpyxls = _parts(ours), _parts(theirs)
    assert mine.keys() == openpyxls.keys()
    for name in openpyxls.keys() - {"docProps/core.xml"}:
        if name.endswith(".vml"):
            assert _tree(etree.fromstring(mine[name])) == _tree(etree.fromstring(openpyxls[name])), name
        else:
            assert mine[name] == openpyxls[name], name


def _every_kind_of_cell() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["text", " padded ", "中文", "emoji 😀𠀀", 'a&b<c>d"e\r\nf\tg', "", "=SUM(B2:B3)", "'=not a formula"])
    ws.append([1, -2.5, 10**20, 0.1 + 0.2, 1e-300, float("nan"), float("inf"), True, False, Decimal("1.25")])
    ws.append([date(2026, 11, 28), datetime(2026, 11, 28, 13, 45, 7, 120000), time(8, 30), timedelta(days=2, hours=3)])
    ws["A4"] = "#N/A"
    ws["A4"].data_type = "e"
    ws["B4"] = ArrayFormula("B4:B5", "=SUM(A2:B2)")
    ws["C4"] = CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"))
    ws["D4"] = "link"
    ws["D4"].hyperlink = "https://example.org/?a=1&b=2"
    ws["E4"].fill = PatternFill("solid", fgColor="FFC7CE")  # styled, no value
    ws["F4"] = "comment"
    ws["F4"].comment = Comment("note", "dpsheets")
    ws["G4"].comment = Comment("on an empty cell", "dpsheets")
    ws.merge_cells("A6:C7")
    ws["A6"] = "merged"
    ws.row_dimensions[8].height = 30
    ws.row_dimensions[9].hidden = True
    ws["B9"] = 5
    ws["AB30"] = "far"
    wb.create_sheet("空")
    return wb


def test_every_kind_of_cell_is_written_as_openpyxl_writes_it(tmp_path):
    _every_kind_of_cell().save(tmp_path / "openpyxl.xlsx")
    _save(_every_kind_of_cell(), tmp_path / "ours.xlsx")
    _same_parts(tmp_path / "ours.xlsx", tmp_path / "openpyxl.xlsx")


@pytest.mark.parametrize("value", ["a\x0bb", "\ud800", datetime(2026, 1, 1, tzinfo=timezone.utc)])
def test_what_openpyxl_refuses_is_refused_alike(tmp_path, value):
    """A value openpyxl cannot write makes it raise, and the copy falls back (to a cleaned copy, or the
    results alone): the copy's writer raises the same error."""
    errors = []
    for save in (openpyxl.Workbook.save, _save):
        wb = openpyxl.Workbook()
        wb.active["A1"]._value = value
        wb.active["A1"].data_type = "d" if isinstance(value, datetime) else "s"
        with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever openpyxl raises
            save(wb, tmp_path / "x.xlsx")
        errors.append((type(raised.value), str(raised.value)))
    assert errors[0] == errors[1]


def test_comments_are_written_as_openpyxl_writes_them(tmp_path):
    """The copy's own comment writer: the comments part byte for byte, the VML shapes element for
    element (namespace prefixes aside), every other part unchanged."""
    wb = openpyxl.Workbook()
    ws = wb.active
    texts = [("B3", 'a<b & "c"\n 2 ', "dpsheets"), ("C4", " leading", 'o&<>"'), ("AA100", "abc\r\nd\tx", "dpsheets"),
             ("A1", "", "dpsheets"), ("D5", "【错误】“整改期限”早于“发现日期”\n【提醒】超期", "dpsheets")]
    for i, (ref, text, author) in enumerate(texts):
        comment = Comment(text, author)
        comment.width, comment.height = 320 + i, 40 + i
        ws[ref].comment = comment
    wb.create_sheet("第二页")["D2"].comment = Comment("y", "dpsheets")
    wb.create_sheet("无批注")["A1"] = "x"
    wb.save(tmp_path / "openpyxl.xlsx")
    _save(wb, tmp_path / "ours.xlsx")
    _same_parts(tmp_path / "ours.xlsx", tmp_path / "openpyxl.xlsx")
    back = openpyxl.load_workbook(tmp_path / "ours.xlsx")
    for ref, text, author in texts:
        assert (back.active[ref].comment.text, back.active[ref].comment.author) == (text, author)


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    """A plant of 150 rows per register with the sample's mistakes, and its copy."""
    folder = tmp_path_factory.mktemp("marked")
    sample = plant(AS_OF, mistakes=True, risks=150, hazards=150, posts=150, employees=150)
    path = write_workbook(folder / "plant.xlsx", sample.enterprise, sample.rows)
    result = pipeline(path, as_of=AS_OF, out_dir=folder / "out")
    assert result.error is None and result.highlighted is not None, (result.error, result.notes)
    return path, result


def _expected_comments(result) -> dict[tuple[str, str], str]:
    by_cell = defaultdict(list)
    for p in result.report.problems:
        if p.cell:
            by_cell[(p.sheet, p.cell)].append(p)
    return {key: visible("\n".join(f"【{SEVERITY_LABEL[p.severity]}】{p.message}" for p in items))
            for key, items in by_cell.items()}


def test_the_copy_is_written_as_openpyxl_writes_it(marked, tmp_path):
    """The copy of a plant, loaded again: saved by openpyxl and by the copy's writer, the same file."""
    _, result = marked
    openpyxl.load_workbook(result.highlighted).save(tmp_path / "openpyxl.xlsx")
    _save(openpyxl.load_workbook(result.highlighted), tmp_path / "ours.xlsx")
    _same_parts(tmp_path / "ours.xlsx", tmp_path / "openpyxl.xlsx")


def test_every_problem_has_its_fill_and_comment_on_its_cell(marked):
    _, result = marked
    expected = _expected_comments(result)
    assert len(expected) > 100
    wb = openpyxl.load_workbook(result.highlighted)
    found = {(ws.title, cell.coordinate): cell.comment.text
             for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.comment is not None}
    assert found == expected
    severities = defaultdict(set)
    for p in result.report.problems:
        if p.cell:
            severities[(p.sheet, p.cell)].add(p.severity)
    fills = {"error": 0, "warning": 0}
    for (sheet, ref), found_here in severities.items():  # a finding alone leaves its cell as its row is
        kind = "error" if "error" in found_here else "warning" if "warning" in found_here else None
        if kind:
            assert wb[sheet][ref].fill.fgColor.rgb[-6:] == FILLS[kind].fgColor.rgb[-6:], (sheet, ref)
            fills[kind] += 1
    assert fills["error"] > 0, fills
    assert wb.sheetnames[0] == RESULT_SHEET
    assert wb[RESULT_SHEET].max_row == 3 + len(result.report.problems)
    overdue = [p for p in result.report.problems if p.code == "hazard.overdue"]
    assert overdue
    for p in overdue:
        assert wb[p.sheet].cell(row=p.row, column=1).fill.fgColor.rgb[-6:] == "FF0000"


def test_the_copy_leaves_the_garbage_collector_as_it_found_it(marked, tmp_path):
    path, result = marked
    assert gc.isenabled()
    save_highlighted(path, result.report, tmp_path / "on.xlsx")
    assert gc.isenabled()
    gc.disable()
    try:
        save_highlighted(path, result.report, tmp_path / "off.xlsx")
        assert not gc.isenabled()
    finally:
        gc.enable()
    broken = tmp_path / "broken.xlsx"  # openpyxl cannot open it: the copy holds the results alone
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    _, report = check(path, AS_OF)
    save_highlighted(broken, report, tmp_path / "results.xlsx")
    assert gc.isenabled()
    assert openpyxl.load_workbook(tmp_path / "results.xlsx").sheetnames == [RESULT_SHEET]


needs_libreoffice = pytest.mark.skipif(soffice() is None and os.environ.get("CI") != "true",
                                       reason="LibreOffice (libreoffice-calc-nogui) is not installed")


@needs_libreoffice
def test_libreoffice_reads_every_comment_on_its_cell(marked, tmp_path):
    """LibreOffice opens the copy (comments part and VML shapes) and writes every comment back on its cell."""
    _, result = marked
    subprocess.run([soffice(), "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "lo"),
                    str(result.highlighted)], check=True, capture_output=True, timeout=300)
    wb = openpyxl.load_workbook(tmp_path / "lo" / result.highlighted.name)
    found = {(ws.title, cell.coordinate): cell.comment.text
             for ws in wb.worksheets for row in ws.iter_rows() for cell in row if cell.comment is not None}
    assert found == _expected_comments(result)
