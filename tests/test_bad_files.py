"""Files that are not usable workbooks: one clear Chinese message each, exit 2, no traceback, no hang."""

from __future__ import annotations

import shutil
import time

import pytest
import xlsxwriter
from builders import encrypted, huge_workbook, valid_workbook, xml_bomb
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.errors import DpsheetsError
from dpsheets.workbook.reader import read_workbook


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return valid_workbook(tmp_path_factory.mktemp("good") / "good.xlsx")


def _xls(path):
    """A genuine Excel 97-2003 workbook, as xlwt writes it."""
    import xlwt

    wb = xlwt.Workbook()
    wb.add_sheet("风险管控清单").write(0, 0, "风险点名称")
    wb.save(str(path))
    return path


def _write(path, data):
    path.write_bytes(data)
    return path


def _copy(src, dst):
    shutil.copy(src, dst)
    return dst


CASES = {
    "zero-byte": ("file.empty", lambda d, g: _write(d / "empty.xlsx", b"")),
    "not-excel": ("file.not-xlsx", lambda d, g: _write(d / "notes.xlsx", "名称,代码\n".encode())),
    "lock-file": ("file.lock", lambda d, g: _copy(g, d / "~$good.xlsx")),
    "truncated": ("file.truncated", lambda d, g: _write(d / "cut.xlsx", g.read_bytes()[: g.stat().st_size // 2])),
    "encrypted": ("file.encrypted", lambda d, g: encrypted(g, d / "locked.xlsx")),
    "xml-bomb": ("file.bomb", lambda d, g: xml_bomb(g, d / "bomb.xlsx")),
    "missing": ("file.missing", lambda d, g: d / "nowhere.xlsx"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_gets_its_own_code_and_chinese_message(case, tmp_path, good):
    code, make = CASES[case]
    path = make(tmp_path, good)
    with pytest.raises(DpsheetsError) as err:
        read_workbook(path)
    assert err.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
    assert str(path) in str(err.value)


def test_a_genuine_xls_is_read_with_a_note_not_refused(tmp_path):
    data = read_workbook(_xls(tmp_path / "old.xls"))  # python-calamine reads Excel 97-2003 (issue 9)
    assert data.problems[0].code == "workbook.xls" and "另存为" in data.problems[0].message
    assert data.sheets["risk"].present


def test_a_word_document_is_not_a_workbook(tmp_path):
    import docx

    path = tmp_path / "台账.xlsx"
    docx.Document().save(path)
    with pytest.raises(DpsheetsError, match="Word") as err:
        read_workbook(path)
    assert err.value.code == "file.not-xlsx"


def test_unrelated_workbook_gets_one_error_not_fifty(tmp_path):
    path = tmp_path / "工资表.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("工资")
    ws.write_row(0, 0, ["姓名", "工资"])
    wb.close()
    with pytest.raises(DpsheetsError) as err:
        read_workbook(path)
    assert err.value.code == "workbook.not-standard"
    assert "dpsheets template" in err.value.message


def test_100k_row_sheet_is_refused_quickly(tmp_path):
    path = huge_workbook(tmp_path / "huge.xlsx")
    started = time.perf_counter()
    with pytest.raises(DpsheetsError) as err:
        read_workbook(path)
    assert err.value.code == "workbook.too-many-rows"
    assert "100001" in err.value.message
    assert time.perf_counter() - started < 60  # "never a hang": a generous bound, not a speed target


def test_bad_files_do_not_stop_the_others(tmp_path, good):
    bad = CASES["truncated"][1](tmp_path, good)
    copy = _copy(good, tmp_path / "ok.xlsx")
    result = CliRunner().invoke(cli, ["check", str(bad), str(copy), "--as-of", "2026-11-28"])
    assert result.exit_code == 2
    assert "文件已损坏或不完整" in result.output
    assert "舞阳县宏达机械配件有限公司" in result.output
    assert "Traceback" not in result.output
