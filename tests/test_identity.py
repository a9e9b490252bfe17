"""The enterprise identity columns are declared once (企业信息 in registers.py) and every listing shows them."""

from __future__ import annotations

from datetime import date

import openpyxl
from archive_builders import at, submit
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county import roster as roster_module
from dpsheets.county.archive import Archive
from dpsheets.county.county import County, write_summary
from dpsheets.county.roster import write_template
from dpsheets.workbook.registers import ENTERPRISE, IDENTITY

AS_OF = date(2026, 11, 28)
HEADERS = [f.header for f in IDENTITY]


def _header(ws, first: int = 1) -> list[str]:
    return [c.value for c in ws[1]][first - 1:first - 1 + len(HEADERS)]


def test_identity_is_the_enterprise_register(tmp_path):
    assert all(ENTERPRISE[f.key] is f for f in IDENTITY)
    with Archive(tmp_path / "档案.sqlite") as a:
        for table in ("enterprises", "submissions"):
            columns = {r["name"] for r in a.db.execute(f"PRAGMA table_info({table})")}
            assert {f.key for f in IDENTITY} <= columns, table


def test_every_listing_shows_the_declared_identity_columns(tmp_path):
    with Archive(tmp_path / "档案.sqlite") as a:
        submit(a, 1, at(AS_OF), seed=1)
    roster = write_template(tmp_path / "名单.xlsx")
    ws = openpyxl.load_workbook(roster).active
    # the identity columns, then the county's optional due dates (declared once in the roster module)
    assert [c.value for c in ws[1]][:len(HEADERS)] == [h for _, h, _ in roster_module.COLUMNS]
    assert sorted(c.value for c in ws[1]) == sorted([*HEADERS, *(h for _, h, _ in roster_module.DEADLINE_COLUMNS)])
    county = County.open(tmp_path)
    book = openpyxl.load_workbook(write_summary(county.rollup(AS_OF, roster=[]), tmp_path / "汇总"))
    for sheet in ("企业明细", "逾期隐患", "重大隐患", "未报送企业"):
        assert _header(book[sheet]) == HEADERS, sheet
    assert _header(book["重点检查企业"], first=2) == HEADERS
    export = openpyxl.load_workbook(county.export(tmp_path / "导出.xlsx"))
    assert _header(export["企业"]) == HEADERS and _header(export["报送记录"], first=2) == HEADERS
    county.close()
    listed = CliRunner().invoke(cli, ["archive", "--archive", str(tmp_path), "list"])
    assert listed.exit_code == 0 and all(h in listed.output for h in HEADERS)
