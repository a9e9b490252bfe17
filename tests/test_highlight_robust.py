"""Every readable workbook gets its highlighted copy, and no user text becomes a formula in it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from builders import AS_OF, edit, invalid_workbook, valid_workbook

from dpsheets.feedback.highlight import RESULT_SHEET
from dpsheets.pipeline import pipeline
from dpsheets.workbook.registers import BY_KEY
from dpsheets.workbook.template import cell_of


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return valid_workbook(tmp_path_factory.mktemp("good") / "good.xlsx")


def _variant(src: Path, dst: Path, part: str, change) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                data = change(data)
            if data is not None:
                zout.writestr(item, data)
    return dst


def _copy(path: Path, out: Path):
    result = pipeline(path, as_of=AS_OF, out_dir=out)
    assert result.error is None, result.error
    assert result.highlighted is not None and result.highlighted.exists(), result.notes
    return result, openpyxl.load_workbook(result.highlighted)


def test_a_problem_inside_a_merged_range_is_commented_on_its_top_left_cell(tmp_path):
    path, _ = invalid_workbook(tmp_path / "merged.xlsx")
    hazard = BY_KEY["hazard"]
    top, below = cell_of(hazard, "category", 8), cell_of(hazard, "category", 9)  # row 9 has an invalid category

    def merge(wb):
        ws = wb[hazard.sheet]
        ws[top] = ws[below].value
        ws.merge_cells(f"{top}:{below}")

    edit(path, merge)
    result, wb = _copy(path, tmp_path / "out")
    flagged = {p.cell for p in result.report.problems if p.code == "field.choice" and p.sheet == hazard.sheet}
    assert below in flagged or top in flagged
    assert wb[hazard.sheet][top].comment is not None and "不是" in wb[hazard.sheet][top].comment.text


def test_control_characters_are_shown_escaped_and_reported_on_their_cell(tmp_path):
    path, _ = invalid_workbook(tmp_path / "ctl.xlsx")  # a hazard description holds \x0b (written as _x000B_)
    result, wb = _copy(path, tmp_path / "out")
    hazard = BY_KEY["hazard"]
    cell = cell_of(hazard, "description", 2)
    [problem] = [p for p in result.report.problems if p.code == "field.control-char"]
    assert (problem.sheet, problem.cell) == (hazard.sheet, cell) and "\\x0B" in problem.message
    assert "\\x0B" in wb[hazard.sheet][cell].comment.text


@pytest.mark.parametrize("how", ["raw", "entity", "escape"])
def test_control_characters_in_the_xml_still_give_a_copy(good, tmp_path, how):
    inject = {"raw": b"<t>\x0b", "entity": b"<t>&#11;", "escape": b"<t>_x000B_"}[how]
    path = _variant(good, tmp_path / f"{how}.xlsx", "xl/sharedStrings.xml", lambda d: d.replace(b"<t>", inject, 5))
    result = pipeline(path, as_of=AS_OF, out_dir=tmp_path / "out")
    if result.error is None:  # whatever the reader made of it, a readable file gets its copy
        assert result.highlighted is not None and result.highlighted.exists(), result.notes
        openpyxl.load_workbook(result.highlighted)


@pytest.mark.parametrize("part,change", [
    ("docProps/core.xml", lambda d: b"<not xml"),
    ("xl/styles.xml", lambda d: d.replace(b"<cellXfs", b"<cellXfs <", 1)),
])
def test_xml_openpyxl_cannot_parse_gives_a_copy_with_the_results(good, tmp_path, part, change):
    path = _variant(good, tmp_path / "odd.xlsx", part, change)
    with pytest.raises(Exception):  # noqa: B017 - the point: openpyxl itself refuses this file
        openpyxl.load_workbook(path)
    result, wb = _copy(path, tmp_path / "out")
    assert wb.sheetnames[0] == RESULT_SHEET
    assert "只列出检查结果" in wb[RESULT_SHEET]["A2"].value
    assert wb[RESULT_SHEET].max_row == 3 + len(result.report.problems)


def test_no_user_text_becomes_a_formula_in_the_copy(tmp_path):
    path, _ = invalid_workbook(tmp_path / "=1+2.xlsx")
    hazard = BY_KEY["hazard"]

    def text(wb):  # a text cell that merely starts with "=", as a clerk pastes it
        cell = wb[hazard.sheet][cell_of(hazard, "category", 9)]
        cell.value, cell.data_type = '=HYPERLINK("http://x","y")', "s"

    edit(path, text)
    result, wb = _copy(path, tmp_path / "out")
    ws = wb[RESULT_SHEET]
    assert ws["A1"].data_type == "s" and ws["A1"].value.startswith("=1+2.xlsx")
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    assert any("=HYPERLINK" in (c.value or "") for c in ws["F"])
