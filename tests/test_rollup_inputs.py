"""Roll-up inputs people type and edit: `--from A.xlsx B.xlsx` as the README writes it, and summaries
edited or damaged by hand refused with a message naming the sheet and cell."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from test_rollup import build_archive

from dpsheets.cli import cli
from dpsheets.county.rollup import rollup_archives
from dpsheets.county.summary_book import META, write_summary
from dpsheets.county.summary_read import read_summary
from dpsheets.errors import DpsheetsError

AS_OF_TEXT = "2026-11-28"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    from builders import AS_OF

    tmp = tmp_path_factory.mktemp("books")
    out = []
    for name, members in (("a", range(0, 3)), ("b", range(3, 5))):
        build_archive(tmp / f"{name}.sqlite", tmp, members)
        out.append(write_summary(rollup_archives([tmp / f"{name}.sqlite"], as_of=AS_OF), tmp / f"{name}.xlsx"))
    return out


def test_from_takes_several_files_as_the_readme_writes_it(books, tmp_path):
    a, b = books
    runner = CliRunner()
    spaced = runner.invoke(cli, ["rollup", "--from", str(a), str(b), "-o", str(tmp_path / "x"), "--no-report"])
    repeated = runner.invoke(cli, ["rollup", "--from", str(a), "--from", str(b), "-o", str(tmp_path / "y"), "--no-report"])
    assert spaced.exit_code == 0 and repeated.exit_code == 0, spaced.output + repeated.output
    assert "已报 5 家" in spaced.output and spaced.output.replace(str(tmp_path / "x"), "") == \
        repeated.output.replace(str(tmp_path / "y"), "")
    lone = runner.invoke(cli, ["rollup", str(a), "-o", str(tmp_path / "z")])
    assert lone.exit_code == 2 and "--from" in lone.output


def _edited(src, dst, sheet, cell, value):
    wb = openpyxl.load_workbook(src)
    wb[sheet][cell] = value
    wb.save(dst)
    return dst


def _numeric_cell(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["企业明细"]
    header = [c.value for c in ws[1]]
    column = header.index("隐患总数") if "隐患总数" in header else next(
        i for i, v in enumerate(ws[2]) if isinstance(v.value, int) and not isinstance(v.value, bool))
    return f"{openpyxl.utils.get_column_letter(column + 1)}2"


@pytest.mark.parametrize("value", [2.5, "三", "12项"])
def test_a_count_that_is_not_a_whole_number_names_its_cell(books, tmp_path, value):
    cell = _numeric_cell(books[0])
    path = _edited(books[0], tmp_path / "edited.xlsx", "企业明细", cell, value)
    with pytest.raises(DpsheetsError) as err:
        read_summary(path)
    assert err.value.code == "rollup.damaged"
    assert "企业明细" in err.value.message and cell in err.value.message and str(value) in err.value.message


def test_a_missing_or_wrong_date_names_the_sheet(books, tmp_path):
    wb = openpyxl.load_workbook(books[0])
    ws = wb[META]
    row = next(r for r in ws.iter_rows() if r[0].value == "as_of")
    row[1].value = "昨天"
    wb.save(tmp_path / "date.xlsx")
    with pytest.raises(DpsheetsError) as err:
        read_summary(tmp_path / "date.xlsx")
    assert err.value.code == "rollup.damaged" and META in err.value.message and f"B{row[0].row}" in err.value.message
    ws.delete_rows(row[0].row)
    wb.save(tmp_path / "nodate.xlsx")
    with pytest.raises(DpsheetsError) as err:
        read_summary(tmp_path / "nodate.xlsx")
    assert "as_of" in err.value.message


def test_the_command_prints_the_message_without_a_traceback(books, tmp_path):
    path = _edited(books[0], tmp_path / "edited.xlsx", "企业明细", _numeric_cell(books[0]), 2.5)
    result = CliRunner().invoke(cli, ["rollup", "--from", str(path), str(books[1]), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "企业明细" in result.output and "Traceback" not in result.output
