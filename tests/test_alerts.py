"""Major-hazard alerts: told at once, exactly once (restart, the same file twice, several passes), in 提醒/,
in the log, and in the summary's 新增重大隐患 sheet."""

from __future__ import annotations

import shutil
import stat
from datetime import datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from archive_builders import at, submit
from archive_builders import uscc as built_uscc
from builders import AS_OF, wait_until
from click.testing import CliRunner
from test_watch import Watcher

from dpsheets.cli import cli
from dpsheets.county import alerts
from dpsheets.county.archive import Archive
from dpsheets.county.county import County
from dpsheets.county.summary_book import write_summary
from dpsheets.county.summary_read import combine, read_summary
from dpsheets.fsutil import UMASK
from dpsheets.workbook.samples import plant, valid_uscc
from dpsheets.workbook.template import write_workbook

MAJOR = "YH-2026-007"  # the sample plant's major hazard: 整改中, deadline AS_OF + 20, reported AS_OF - 7, with a plan


def code(i: int) -> str:
    return valid_uscc(f"9141112100{i:07d}")


def book(path, i: int, *, seed: int = 1, change=None):
    """Enterprise *i*'s workbook with eight hazards (the seventh major); *change* edits the hazard rows."""
    p = plant(AS_OF, seed=seed, risks=5, hazards=8, posts=3, employees=4, uscc=code(i), name=f"测试企业{i:04d}")
    if change:
        change(p.rows["hazard"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_workbook(path, p.enterprise, p.rows)


def second_major(rows):
    rows[7].update(level="重大隐患", status="待整改", plan=None, reported_on=None, completed_on=None,
                   accepted_by=None, accepted_on=None, acceptance=None, deadline=AS_OF + timedelta(days=40))


def files(root):
    folder = root / "提醒"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def ingest(root, as_of=AS_OF):
    lines = []
    with County(root) as county:
        outcomes = county.ingest(as_of=as_of, documents=False, alert=lambda a: lines.append(a.line()))
    return outcomes, lines


def test_a_new_major_hazard_is_told_once_in_the_folder_and_the_log(tmp_path):
    root = tmp_path / "舞阳县"
    book(root / "收件箱" / "a.xlsx", 1)
    outcomes, lines = ingest(root)
    [name] = files(root)
    assert name.startswith(f"{AS_OF.isoformat()}_000001_新增重大隐患_测试企业0001_{MAJOR}") and name.endswith(".txt")
    text = (root / "提醒" / name).read_text(encoding="utf-8")
    for part in ("重大事故隐患提醒：新增重大隐患", "企业名称：测试企业0001", f"统一社会信用代码：{code(1)}",
                 f"隐患编号：{MAJOR}", "治理状态：整改中", "治理方案：目标：恢复机械排风",
                 f"上报日期：{(AS_OF - timedelta(days=7)).isoformat()}",
                 f"治理期限：{(AS_OF + timedelta(days=20)).isoformat()}", "第 1 号报送"):
        assert part in text, part
    assert stat.S_IMODE((root / "提醒" / name).stat().st_mode) == 0o666 & ~UMASK  # like the other outputs
    assert [a.file_name for a in outcomes[0].alerts] == [name]
    assert lines == [outcomes[0].alerts[0].line()] and lines[0].startswith("⚠ 重大隐患提醒（新增重大隐患）：测试企业0001")
    assert lines[0].endswith(f"→ 提醒/{name}")

    # the same file again, and a new workbook with the same hazards, after a restart: nothing new
    shutil.copy(root / "已处理" / "a.xlsx", root / "收件箱" / "a-again.xlsx")
    book(root / "收件箱" / "b.xlsx", 1, seed=2)
    outcomes, lines = ingest(root)
    assert [o.duplicate for o in outcomes] == [True, False] and lines == [] and files(root) == [name]
    # a second major hazard, without plan and report: one more alert, which says so
    book(root / "收件箱" / "c.xlsx", 1, seed=3, change=second_major)
    _, lines = ingest(root)
    assert len(lines) == 1 and len(files(root)) == 2
    text = (root / "提醒" / files(root)[1]).read_text(encoding="utf-8")
    assert "隐患编号：YH-2026-008" in text and "治理方案：未填写" in text and "上报日期：未填写" in text
    with Archive(root / "档案.sqlite") as a:
        assert a.count("alerts") == 2


def test_overdue_is_told_once_at_ingest_or_by_the_daily_pass(tmp_path):
    root = tmp_path / "舞阳县"
    book(root / "收件箱" / "a.xlsx", 1)
    ingest(root)
    county = County(root)
    now = datetime(2026, 12, 20, 8)
    assert county.alerts(AS_OF + timedelta(days=20), now=now) == []  # due that day: not yet overdue
    [late] = county.alerts(AS_OF + timedelta(days=21), now=now)
    assert late.kind == alerts.OVERDUE and late.days_overdue == 1
    text = (root / "提醒" / late.file_name).read_text(encoding="utf-8")
    assert "提醒类型：重大隐患逾期" in text and "已逾期 1 天" in text
    assert county.alerts(AS_OF + timedelta(days=40), now=now) == []
    result = CliRunner().invoke(cli, ["archive", "--archive", str(root), "alerts", "--as-of", "2027-01-20"])
    assert result.exit_code == 0 and "新写出提醒 0 份" in result.output, result.output
    county.close()
    # a new major hazard already overdue when it arrives: one alert (新增, saying 已逾期), never a second one
    book(root / "收件箱" / "b.xlsx", 2, change=lambda rows: rows[6].update(deadline=AS_OF - timedelta(days=3)))
    _, lines = ingest(root)
    assert len(lines) == 1 and "新增重大隐患（已逾期）" in lines[0] and "已逾期 3 天" in lines[0]
    with County(root) as county:
        assert county.alerts(AS_OF + timedelta(days=30), now=now) == []
    assert len(files(root)) == 3


def test_a_crash_between_the_table_and_the_file_writes_the_same_file_once(tmp_path):
    root = tmp_path / "舞阳县"
    book(root / "收件箱" / "a.xlsx", 1)
    ingest(root)
    [name] = files(root)
    with Archive(root / "档案.sqlite") as a, a.transaction() as tx:  # as if killed before the file was recorded
        tx.execute(sa.text("UPDATE alerts SET file_name = NULL"))
    (root / "提醒" / name).unlink()
    with County(root) as county:
        [again] = county.alerts(AS_OF, now=datetime(2026, 11, 28, 18))
    assert again.file_name == name and files(root) == [name]
    with Archive(root / "档案.sqlite") as a, a.transaction() as tx:  # killed after writing, before recording
        tx.execute(sa.text("UPDATE alerts SET file_name = NULL"))
    _, lines = ingest(root)
    assert len(lines) == 1 and files(root) == [name]


def test_the_database_enforces_exactly_once(archive_target, tmp_path):
    now = datetime(2026, 11, 28, 9)
    with Archive(archive_target) as a:
        first = submit(a, 1, at(AS_OF), seed=1, hazards=8)
        with a.transaction() as tx:
            assert len(alerts.raise_for_submission(tx, first, as_of=AS_OF, now=now, folder=None)) == 1
        with a.transaction() as tx:
            assert alerts.raise_for_submission(tx, first, as_of=AS_OF, now=now, folder=None) == []
        second = submit(a, 1, at(AS_OF + timedelta(days=1)), seed=2, hazards=8)
        with a.transaction() as tx:  # the same major hazard in a later submission: known
            assert alerts.raise_for_submission(tx, second, as_of=AS_OF, now=now, folder=None) == []
        with pytest.raises(sa.exc.IntegrityError), a.transaction() as tx:
            tx.execute(sa.text("INSERT INTO alerts (uscc, kind, hazard_key, raised_on, created_at) "
                               "SELECT uscc, kind, hazard_key, raised_on, created_at FROM alerts"))
        with a.transaction() as tx:
            assert len(alerts.raise_overdue(tx, as_of=AS_OF + timedelta(days=25), now=now)) == 1
        with a.transaction() as tx:
            assert alerts.raise_overdue(tx, as_of=AS_OF + timedelta(days=26), now=now) == []
        written = alerts.write_pending(a, tmp_path, None)
        assert [w.kind for w in written] == ["new", "overdue"] and len(files(tmp_path)) == 2
        assert alerts.write_pending(a, tmp_path, None) == []
        with a.connect() as conn:
            shown = alerts.listed(conn, AS_OF - timedelta(days=30), AS_OF + timedelta(days=25))
        assert [(r["kind"], r["uscc"], r["number"]) for r in shown] == [
            ("新增重大隐患", built_uscc(1), MAJOR), ("重大隐患逾期", built_uscc(1), MAJOR)]


def test_the_watcher_tells_once_across_a_restart(tmp_path):
    root = tmp_path / "舞阳县"
    src = book(tmp_path / "a.xlsx", 1)
    with Watcher(root) as w:
        shutil.copy(src, w.layout.inbox / "a.xlsx")
        assert wait_until(lambda: len(files(root)) == 1 and len(w.outcomes) == 1)
    with Watcher(root) as w:  # restarted: the same content again and a new workbook with the same hazards
        shutil.copy(src, w.layout.inbox / "a-again.xlsx")
        book(w.layout.inbox / "b.xlsx", 1, seed=2)
        assert wait_until(lambda: len(w.outcomes) == 2)
    assert len(files(root)) == 1


def test_the_summary_lists_the_alerts_of_its_period_and_a_city_carries_them(tmp_path):
    counties = []
    for i, name in ((1, "舞阳县"), (2, "临颍县")):
        root = tmp_path / name
        book(root / "收件箱" / "a.xlsx", i)
        ingest(root)
        with County(root) as county:
            county.alerts(AS_OF + timedelta(days=21), now=datetime(2026, 12, 19, 8))
        counties.append(root)
    as_of = AS_OF + timedelta(days=25)
    with County(counties[0]) as county:
        summary = county.rollup(as_of)
        recent = county.rollup(as_of, alerts_since=AS_OF)
    assert [(a["raised_on"], a["kind"], a["number"]) for a in summary.alerts] == [
        (AS_OF.isoformat(), "新增重大隐患", MAJOR), ((AS_OF + timedelta(days=21)).isoformat(), "重大隐患逾期", MAJOR)]
    assert [a["kind"] for a in recent.alerts] == ["重大隐患逾期"]  # after the previous summary only
    path = write_summary(summary, tmp_path / "舞阳县汇总.xlsx")
    sheet = list(openpyxl.load_workbook(path)["新增重大隐患"].iter_rows(values_only=True))
    assert sheet[0][:6] == ("提醒日期", "提醒类型", "所属县（市、区）", "乡镇（街道）/产业园区", "企业名称", "统一社会信用代码")
    assert sheet[1][4:9] == ("测试企业0001", code(1), MAJOR, "喷漆房排风机故障", "喷涂车间喷漆房")
    assert sheet[1][11] == (AS_OF - timedelta(days=7)).isoformat()  # 上报日期
    assert read_summary(path).alerts == summary.alerts
    with County(counties[1]) as county:
        other = write_summary(county.rollup(as_of), tmp_path / "临颍县汇总.xlsx")
    city = combine([read_summary(path), read_summary(other)], "市")
    assert len(city.alerts) == 4 and {a["uscc"] for a in city.alerts} == {code(1), code(2)}
    assert read_summary(write_summary(city, tmp_path / "市.xlsx")).alerts == city.alerts


def test_push_takes_the_alerts_along_once(tmp_path, archive_target):
    from dpsheets.county.archive_ops import push
    from dpsheets.county.rollup import rollup_archives

    root = tmp_path / "舞阳县"
    book(root / "收件箱" / "a.xlsx", 1)
    book(root / "收件箱" / "b.xlsx", 2, change=second_major)
    ingest(root)
    county = root / "档案.sqlite"
    assert push(county, archive_target).rows["alerts"] == 3
    assert push(county, archive_target).rows["alerts"] == 0
    as_of = AS_OF + timedelta(days=1)
    assert rollup_archives([archive_target], as_of=as_of).alerts == rollup_archives([county], as_of=as_of).alerts
    with Archive(archive_target) as a:
        assert a.scalar("SELECT COUNT(*) FROM alerts l JOIN submissions s ON s.id = l.submission_id") == 3
