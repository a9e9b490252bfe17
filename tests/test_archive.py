"""一企一档: the SQLite archive, its history, its rejections and the `archive` commands."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
import sqlalchemy as sa
from builders import AS_OF, small_workbook
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county import schema
from dpsheets.county.archive import SCHEMA_VERSION, Archive, DuplicateSubmission, migrate
from dpsheets.county.database import current_revision
from dpsheets.county.inbox import Processor
from dpsheets.errors import DpsheetsError
from dpsheets.pipeline import check
from dpsheets.workbook.registers import BY_KEY
from dpsheets.workbook.samples import valid_uscc


def uscc_of(i: int) -> str:
    return valid_uscc(f"9141112100{i:07d}")


class Clock:
    def __init__(self, *times: str) -> None:
        self.times = [datetime.fromisoformat(t) for t in times]

    def __call__(self) -> datetime:
        return self.times[0] if len(self.times) == 1 else self.times.pop(0)


def test_schema_is_versioned_and_migrations_are_idempotent(archive_target):
    with Archive(archive_target) as a:
        with a.connect() as conn:
            assert current_revision(conn) == SCHEMA_VERSION
        assert migrate(a) == SCHEMA_VERSION  # nothing left to do
        if a.is_sqlite:  # an older dpsheets refuses the file instead of damaging it
            assert a.scalar("PRAGMA user_version") == int(SCHEMA_VERSION)
        with a.transaction() as tx:
            tx.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DpsheetsError, match="升级 dpsheets"):
        Archive(archive_target)


def test_schema_on_both_engines_is_the_declared_one(archive_target):
    """The migrated database has exactly the tables, columns and indexes of dpsheets.county.schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with Archive(archive_target) as a, a.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), schema.metadata)
    assert diff == []


def test_typed_tables_follow_the_register_declarations():
    for key, table in schema.record_tables.items():
        declared = [f.key for f in BY_KEY[key].fields]
        assert [c.name for c in table.columns] == ["submission_id", "row", *declared], key


def test_history_and_state_on_a_date(tmp_path, archive_target):
    root = tmp_path / "县"
    march = small_workbook(tmp_path / "march.xlsx", 1)
    wb = openpyxl.load_workbook(march)
    wb["隐患排查治理清单"]["B3"] = "三月的隐患名称"
    wb.save(march)
    june = small_workbook(tmp_path / "june.xlsx", 1, mistakes=False)
    p = Processor(root, as_of=AS_OF, documents=False, clock=Clock("2026-03-20T09:00:00"), archive_path=archive_target)
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
    # records are typed rows: questions are SQL
    still_open = a.scalar("SELECT COUNT(*) FROM hazards WHERE submission_id = :s AND status <> '已销号'", s=in_april.id)
    assert still_open == sum(1 for r in a.records(in_april.id, "hazard") if r.get("status") != "已销号")
    p.close()


def test_archived_submission_matches_the_check(tmp_path, archive_target):
    path = small_workbook(tmp_path / "x.xlsx", 3)
    data, report = check(path, AS_OF)
    with Archive(archive_target) as a:
        sid = a.add_submission(data, report, file_name="x.xlsx", sha256="abc", received_at=datetime(2026, 11, 28, 9))
        row = a.rows("SELECT * FROM submissions WHERE id = :id", id=sid)[0]
        assert row["hazards"] == len(data.records("hazard")) and row["posts"] == 3 and row["employees"] == 4
        assert row["errors"] == len(report.errors) and bool(row["valid"]) == report.valid
        assert sum(row[k] for k in ("risks_major", "risks_significant", "risks_general", "risks_low", "risks_unrated")) == 5
        assert row["city"] == "漯河市"  # from the division code 411121 inside the credit code
        assert len(a.records(sid)) == sum(len(s.records) for s in data.sheets.values())
        assert [p["code"] for p in a.problems(sid)] == [p.code for p in report.problems]
        for key, table in schema.record_tables.items():  # every record also as a typed row
            assert a.count(table.name) == len(data.records(key)), key
        assert a.count("hazards") == len(data.records("hazard"))
        risk = data.records("risk")[0]
        stored = a.rows("SELECT * FROM risks WHERE submission_id = :s AND row = :r", s=sid, r=risk.row)[0]
        assert stored["name"] == risk["name"] and stored["identified_on"] in (risk["identified_on"],
                                                                            risk["identified_on"].isoformat())
        before = a.table_counts()
        with pytest.raises(DuplicateSubmission) as dup:  # the database refuses the same content twice
            a.add_submission(data, report, file_name="y.xlsx", sha256="abc", received_at=datetime(2026, 11, 28, 10))
        assert dup.value.submission_id == sid and a.table_counts() == before
        again = dict(a.rows("SELECT * FROM submissions")[0], id=None)
        with pytest.raises(sa.exc.IntegrityError), a.transaction() as tx:  # the constraint itself, not a check
            tx.execute(schema.submissions.insert().values(again))


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
    assert p.archive.count("submissions") == 0
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


def test_migrations_froze_the_declared_columns_and_types():
    """The record tables created by 0003 and 0004 (frozen there) have the declared columns and types."""
    import importlib.util

    from dpsheets.county.database import MIGRATIONS_DIR

    frozen = {}
    for name in ("0003_record_rows", "0004_sanyou_and_report_date"):
        spec = importlib.util.spec_from_file_location(name, MIGRATIONS_DIR / "versions" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        frozen.update(module.TABLES)
    assert set(frozen) == set(schema.RECORD_TABLES.values())
    for key, table in schema.RECORD_TABLES.items():
        register, *columns = frozen[table]
        assert register == key
        assert list(columns) == schema.record_columns(BY_KEY[key]), key
