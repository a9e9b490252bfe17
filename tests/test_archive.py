"""一企一档: the SQLite archive, its history, its rejections and the `archive` commands."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import openpyxl
import pytest
from builders import AS_OF, small_workbook
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county.archive import SCHEMA_VERSION, Archive, migrate
from dpsheets.county.inbox import Processor
from dpsheets.errors import DpsheetsError
from dpsheets.pipeline import check
from dpsheets.workbook.samples import valid_uscc


def uscc_of(i: int) -> str:
    return valid_uscc(f"9141112100{i:07d}")


class Clock:
    def __init__(self, *times: str) -> None:
        self.times = [datetime.fromisoformat(t) for t in times]

    def __call__(self) -> datetime:
        return self.times[0] if len(self.times) == 1 else self.times.pop(0)


def test_schema_is_versioned_and_migrations_are_idempotent(tmp_path):
    with Archive(tmp_path / "a.sqlite") as a:
        assert a.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert migrate(a.db) == SCHEMA_VERSION  # nothing left to do
    db = sqlite3.connect(tmp_path / "a.sqlite")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(DpsheetsError, match="升级 dpsheets"):
        Archive(tmp_path / "a.sqlite")


def test_history_and_state_on_a_date(tmp_path):
    root = tmp_path / "县"
    march = small_workbook(tmp_path / "march.xlsx", 1)
    wb = openpyxl.load_workbook(march)
    wb["隐患排查治理清单"]["B3"] = "三月的隐患名称"
    wb.save(march)
    june = small_workbook(tmp_path / "june.xlsx", 1, mistakes=False)
    p = Processor(root, as_of=AS_OF, documents=False, clock=Clock("2026-03-20T09:00:00"))
    (root / "收件箱" / "三月.xlsx").write_bytes(march.read_bytes())
    assert p.process(root / "收件箱" / "三月.xlsx").submission_id == 1
    p.clock = Clock("2026-06-18T10:00:00")
    (root / "收件箱" / "六月.xlsx").write_bytes(june.read_bytes())
    assert p.process(root / "收件箱" / "六月.xlsx").submission_id == 2
    a = p.archive
    uscc = uscc_of(1)
    assert [s.file_name for s in a.history(uscc)] == ["三月.xlsx", "六月.xlsx"]
    in_april = a.latest(uscc, datetime(2026, 4, 30).date())
    assert in_april.file_name == "三月.xlsx"
    names = [r["name"] for r in a.records(in_april.id, "hazard")]
    assert "三月的隐患名称" in names
    assert "三月的隐患名称" not in [r["name"] for r in a.records(a.latest(uscc).id, "hazard")]
    # records are queryable in SQL as JSON
    overdue = a.db.execute("SELECT COUNT(*) FROM records WHERE submission_id = ? AND register = 'hazard' "
                           "AND json_extract(data, '$.status') != '已销号'", (in_april.id,)).fetchone()[0]
    assert overdue == sum(1 for r in a.records(in_april.id, "hazard") if r.get("status") != "已销号")
    p.close()


def test_archived_submission_matches_the_check(tmp_path):
    path = small_workbook(tmp_path / "x.xlsx", 3)
    data, report = check(path, AS_OF)
    with Archive(tmp_path / "a.sqlite") as a:
        sid = a.add_submission(data, report, file_name="x.xlsx", sha256="abc", received_at=datetime(2026, 11, 28, 9))
        row = a.db.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()
        assert row["hazards"] == len(data.records("hazard")) and row["posts"] == 3 and row["employees"] == 4
        assert row["errors"] == len(report.errors) and bool(row["valid"]) == report.valid
        assert sum(row[k] for k in ("risks_major", "risks_significant", "risks_general", "risks_low", "risks_unrated")) == 5
        assert len(a.records(sid)) == sum(len(s.records) for s in data.sheets.values())
        assert len(a.problems(sid)) == len(report.problems)
        with pytest.raises(sqlite3.IntegrityError):
            a.add_submission(data, report, file_name="y.xlsx", sha256="abc", received_at=datetime(2026, 11, 28, 10))


def test_empty_enterprise_sheet_is_rejected(tmp_path):
    root = tmp_path / "县"
    src = small_workbook(tmp_path / "x.xlsx", 4)
    wb = openpyxl.load_workbook(src)
    for row in wb["企业信息"].iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].value = None
    p = Processor(root, as_of=AS_OF, documents=False)
    wb.save(root / "收件箱" / "空.xlsx")
    outcome = p.process(root / "收件箱" / "空.xlsx")
    assert outcome.destination == "退回" and "企业信息" in outcome.message
    assert (root / "退回" / "空.xlsx.txt").read_text(encoding="utf-8").count("企业信息") >= 1
    assert p.archive.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    p.close()


@pytest.fixture
def county(tmp_path):
    root = tmp_path / "县"
    p = Processor(root, as_of=AS_OF, documents=False)
    for i in (1, 2):
        small_workbook(root / "收件箱" / f"企业{i}.xlsx", i)
        p.process(root / "收件箱" / f"企业{i}.xlsx")
    p.close()
    return root


def test_archive_commands(county, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli, ["archive", "--archive", str(county), "list"])
    assert listed.exit_code == 0 and "测试企业0001" in listed.output and "测试企业0002" in listed.output
    history = runner.invoke(cli, ["archive", "--archive", str(county / "档案.sqlite"), "history", uscc_of(2)])
    assert history.exit_code == 0 and "企业2.xlsx" in history.output
    shown = runner.invoke(cli, ["archive", "--archive", str(county), "show", uscc_of(1), "--json"])
    payload = json.loads(shown.stdout)
    assert payload["submission"]["uscc"] == uscc_of(1) and len(payload["records"]) == 5
    out = tmp_path / "导出.xlsx"
    exported = runner.invoke(cli, ["archive", "--archive", str(county), "export", "-o", str(out)])
    assert exported.exit_code == 0
    wb = openpyxl.load_workbook(out)
    assert wb["企业"].max_row == 3 and wb["报送记录"].max_row == 3
    unknown = runner.invoke(cli, ["archive", "--archive", str(county), "history", "914111210000000099"])
    assert unknown.exit_code == 2 and "档案中没有统一社会信用代码为 914111210000000099 的企业" in unknown.stderr


def test_missing_archive_is_explained(tmp_path):
    result = CliRunner().invoke(cli, ["archive", "--archive", str(tmp_path / "none.sqlite"), "list"])
    assert result.exit_code == 2 and "错误：" in result.stderr and "找不到档案库" in result.stderr
