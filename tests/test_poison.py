"""Poison files: small, valid-looking workbooks that would make a reader allocate gigabytes,
panic or never finish. Each is refused with a Chinese message naming the sheet and cell."""

from __future__ import annotations

import re
import zipfile

import pytest
from builders import AS_OF, date_out_of_range, far_cell, huge_merge, rewrite_sheet, valid_workbook

from dpsheets.errors import DpsheetsError
from dpsheets.pipeline import pipeline
from dpsheets.workbook.bounds import measure, sheet_parts
from dpsheets.workbook.reader import read_workbook


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return valid_workbook(tmp_path_factory.mktemp("good") / "good.xlsx")


def _refused(path):
    with pytest.raises(DpsheetsError) as err:
        read_workbook(path)
    return err.value


def test_a_cell_at_the_last_row_and_column_is_refused_by_name(tmp_path, good):
    path = far_cell(good, tmp_path / "far.xlsx", "XFD1048576")
    assert path.stat().st_size < 100_000
    err = _refused(path)
    assert err.code == "workbook.too-many-rows"
    assert "风险管控清单" in err.message and "XFD1048576" in err.message


def test_a_far_cell_within_the_row_limit_is_refused_before_calamine_allocates(tmp_path, good):
    err = _refused(far_cell(good, tmp_path / "far.xlsx", "XFD19990"))
    assert err.code == "workbook.too-large-sheet"
    assert "XFD19990" in err.message and "删除" in err.message


def test_a_stray_cell_far_right_in_a_short_sheet_is_read(tmp_path, good):
    path = far_cell(good, tmp_path / "wide.xlsx", "XFD1")
    data = read_workbook(path)
    assert data.records("risk")
    result = pipeline(path, as_of=AS_OF, out_dir=tmp_path / "out")
    assert result.error is None and result.highlighted is not None and result.highlighted.exists()


def test_a_date_beyond_any_calendar_becomes_a_message_not_a_panic(tmp_path, good):
    err = _refused(date_out_of_range(good, tmp_path / "date.xlsx"))
    assert err.code == "file.corrupt"
    assert "风险管控清单" in err.message and "日期" in err.message


def test_a_merge_over_a_whole_sheet_is_refused(tmp_path, good):
    err = _refused(huge_merge(good, tmp_path / "merge.xlsx"))
    assert err.code == "workbook.too-large-merge"
    assert "填表说明" in err.message and "A1:XFD1048576" in err.message


def test_cells_without_references_are_counted_like_a_reader_would(tmp_path, good):
    """Some writers omit r="A1": positions follow from order, so 20,000 cells in a row are 20,000 columns."""
    def strip_and_widen(xml):
        xml = re.sub(r'<c r="[A-Z]+[0-9]+"', "<c", xml)
        cells = '<c t="inlineStr"><is><t>x</t></is></c>' * 20_000
        return xml.replace("</sheetData>", f'<row r="19000">{cells}</row></sheetData>')

    path = rewrite_sheet(good, tmp_path / "implicit.xlsx", "风险管控清单", strip_and_widen)
    extent = measure(path)["风险管控清单"]
    assert (extent.rows, extent.columns) == (19000, 20_000)
    assert _refused(path).code == "workbook.too-large-sheet"


def test_the_quick_measure_never_underestimates(tmp_path, good):
    """The quick bounds may only be larger than the cell-by-cell count, never smaller."""
    from dpsheets.workbook.bounds import _exact_extent

    for path in (good, far_cell(good, tmp_path / "a.xlsx", "ZZ30"), far_cell(good, tmp_path / "b.xlsx", "B99999")):
        quick = measure(path)
        with zipfile.ZipFile(path) as z:
            for name, part in sheet_parts(z).items():
                exact = _exact_extent(z, part)
                assert quick[name].rows >= exact.rows and quick[name].columns >= exact.columns, (path.name, name)
                assert quick[name].merged_cells == exact.merged_cells
