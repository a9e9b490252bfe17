"""The blank template is generated from the register declarations."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.workbook.reader import read_workbook
from dpsheets.workbook.registers import (
    BY_SHEET,
    HAZARD,
    META_SHEET,
    REGISTERS,
    RISK,
    TEMPLATE_ID,
    TEMPLATE_VERSION,
    FieldType,
)
from dpsheets.workbook.template import write_workbook
from dpsheets.workbook.template_export import PACKAGE_FILE


def _template(tmp_path):
    result = CliRunner().invoke(cli, ["template", "-o", str(tmp_path / "t.xlsx"), "--name", "宏达机械",
                                      "--county", "舞阳县"])
    assert result.exit_code == 0, result.output
    return tmp_path / "t.xlsx"


def test_template_sheets_and_headers_come_from_the_declarations(tmp_path):
    wb = openpyxl.load_workbook(_template(tmp_path))
    assert wb.sheetnames[0] == "填表说明"
    for register in REGISTERS:
        ws = wb[register.sheet]
        if register.key_value:
            assert [ws.cell(row=i + 2, column=1).value for i in range(len(register.fields))] == [f.header for f in register.fields]
        else:
            assert [c.value for c in ws[2]] == [f.header for f in register.fields]
            assert ws.freeze_panes == "A3"
            assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
            assert ws.print_title_rows == "$1:$2" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb[META_SHEET].sheet_state == "hidden"
    assert wb[META_SHEET]["B1"].value == TEMPLATE_ID and wb[META_SHEET]["B2"].value == TEMPLATE_VERSION
    assert wb["企业信息"]["B2"].value == "宏达机械"


def test_a3_template_prints_wide_registers_one_page_wide(tmp_path):
    """``template --paper A3`` (or [print] paper = "A3"): wide registers one A3 page wide at no less than 80 %,
    their free-text columns narrowed and codes, dates, phones and choices kept whole."""
    from dpsheets.workbook.print_setup import A3, MIN_SCALE, scale_for

    toml = tmp_path / "dpsheets.toml"
    toml.write_text('[print]\npaper = "A3"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["template", "-o", str(tmp_path / "a3.xlsx"), "--config", str(toml)])
    assert result.exit_code == 0, result.output
    flag = CliRunner().invoke(cli, ["template", "-o", str(tmp_path / "flag.xlsx"), "--paper", "A3"])
    assert flag.exit_code == 0, flag.output
    for book in ("a3.xlsx", "flag.xlsx"):
        wb = openpyxl.load_workbook(tmp_path / book)
        for register in (RISK, HAZARD):
            ws = wb[register.sheet]
            assert ws.page_setup.paperSize == 8 and ws.page_setup.orientation == "landscape"
            assert ws.sheet_properties.pageSetUpPr.fitToPage and (ws.page_setup.fitToWidth or 1) == 1  # one page wide
            assert ws.page_setup.fitToHeight == 0
            # the file stores a column's width with Excel's 5-pixel padding, (characters × 7 + 5) / 7, and
            # adjacent columns of one width as one range
            stored = {c: d.width - 5 / 7 for d in ws.column_dimensions.values() for c in range(d.min, d.max + 1)}
            widths = [stored[i + 1] for i in range(len(register.fields))]
            assert scale_for(widths, 1, A3) >= MIN_SCALE
            for f, width in zip(register.fields, widths, strict=True):
                if f.type not in (FieldType.TEXT, FieldType.MULTI) or f.key == "number":
                    assert abs(width - f.width) < 1, f.header  # codes, dates, phones and choices keep their width
    a4 = openpyxl.load_workbook(_template(tmp_path))[HAZARD.sheet]
    assert a4.page_setup.paperSize == 9 and a4.page_setup.fitToWidth == 2


def test_every_choice_field_has_a_dropdown(tmp_path):
    wb = openpyxl.load_workbook(_template(tmp_path))
    for sheet, register in BY_SHEET.items():
        ws = wb[sheet]
        lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
        choice_fields = [f for f in register.fields if f.type is FieldType.CHOICE]
        assert len(lists) == len(choice_fields), sheet
        for dv in lists:
            assert dv.promptTitle and dv.prompt  # an input message says what to choose


def test_conditional_formats_colour_levels(tmp_path):
    """(The overdue / due-soon formulas: tests/test_hazard_state.py.)"""
    wb = openpyxl.load_workbook(_template(tmp_path))
    risk_rules = [r for cf in wb[RISK.sheet].conditional_formatting for r in cf.rules]
    assert {r.formula[0].strip('"') for r in risk_rules} == {"重大风险", "较大风险", "一般风险", "低风险"}


def test_blank_template_reads_without_errors(tmp_path):
    data = read_workbook(_template(tmp_path))
    assert data.template_version == TEMPLATE_VERSION
    assert not [p for p in data.problems if p.severity == "error"]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_repository_template_is_not_stale(tmp_path):
    fresh = write_workbook(tmp_path / "fresh.xlsx")
    assert _parts(fresh) == _parts(PACKAGE_FILE), "run: python3 -m dpsheets.workbook.template_export"
