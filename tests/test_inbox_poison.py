"""One bad file never stops a county: poison files, odd names, symlinks, crash loops, full disks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import AS_OF, date_out_of_range, far_cell, huge_merge, small_workbook
from click.testing import CliRunner

from dpsheets.cli import cli
from dpsheets.county.inbox import NAME_BYTES, Processor, safe_name
from dpsheets.county.watch import ingest
from dpsheets.errors import DpsheetsError
from dpsheets.workbook.samples import valid_uscc


def _txt(folder: Path) -> dict[str, str]:
    return {p.name[:-4]: p.read_text(encoding="utf-8") for p in folder.glob("*.txt")}


@pytest.fixture
def county(tmp_path):
    root = tmp_path / "舞阳县"
    processor = Processor(root, as_of=AS_OF, documents=False)
    yield processor
    processor.close()


def test_poison_files_are_returned_and_the_good_ones_still_archived(county, tmp_path):
    good = small_workbook(tmp_path / "good.xlsx", 1)
    inbox = county.layout.inbox
    far_cell(good, inbox / "1_far.xlsx", "XFD1048576")
    far_cell(good, inbox / "2_wide.xlsx", "XFD19990")
    date_out_of_range(good, inbox / "3_date.xlsx")
    huge_merge(good, inbox / "4_merge.xlsx")
    (inbox / "5_empty.xlsx").write_bytes(b"")
    os.symlink(good, inbox / "6_link.xlsx")
    os.symlink(tmp_path / "nowhere.xlsx", inbox / "7_dangling.xlsx")
    small_workbook(inbox / "8_ok.xlsx", 2)
    small_workbook(inbox / "9_ok.xlsx", 3)
    outcomes = ingest(county)
    assert sorted(o.name for o in outcomes) == sorted(p for p in ("1_far.xlsx", "2_wide.xlsx", "3_date.xlsx", "4_merge.xlsx",
                                                                  "5_empty.xlsx", "6_link.xlsx", "7_dangling.xlsx",
                                                                  "8_ok.xlsx", "9_ok.xlsx"))
    assert sorted(p.name for p in county.layout.processed.iterdir()) == ["8_ok.xlsx", "9_ok.xlsx"]
    assert not list(county.layout.processing.iterdir())
    assert not list(county.layout.inbox.iterdir())
    reasons = _txt(county.layout.returned)
    assert sorted(reasons) == ["1_far.xlsx", "2_wide.xlsx", "3_date.xlsx", "4_merge.xlsx", "5_empty.xlsx", "6_link.xlsx",
                               "7_dangling.xlsx"]
    assert "XFD1048576" in reasons["1_far.xlsx"] and "XFD19990" in reasons["2_wide.xlsx"]
    assert "风险管控清单" in reasons["3_date.xlsx"] and "A1:XFD1048576" in reasons["4_merge.xlsx"]
    assert "符号链接" in reasons["6_link.xlsx"] and "符号链接" in reasons["7_dangling.xlsx"]
    assert (county.layout.returned / "6_link.xlsx").is_symlink()  # returned as it came, the target untouched
    assert good.exists()


def test_poison_files_left_in_processing_by_a_crash_are_returned_at_restart(county, tmp_path):
    """What a crash left in 处理中 — a poison file with its job claimed, another without a job — is returned
    by the next start's recover(), which goes on to the good file (it used to die there at every restart)."""
    good = small_workbook(tmp_path / "good.xlsx", 1)
    processing = county.layout.processing
    far_cell(good, processing / "1_far.xlsx", "XFD1048576")
    date_out_of_range(good, processing / "2_date.xlsx")
    huge_merge(good, processing / "3_merge.xlsx")  # a stray: no job knows it
    small_workbook(processing / "4_ok.xlsx", 2)
    for name in ("1_far.xlsx", "2_date.xlsx", "4_ok.xlsx"):
        job = county.archive.begin_job(name, name, name, county.clock())
        county.archive.set_job(job, county.clock(), state="claimed")
    outcomes = county.recover()
    assert sorted((o.name, o.destination) for o in outcomes) == [
        ("1_far.xlsx", "退回"), ("2_date.xlsx", "退回"), ("3_merge.xlsx", "退回"), ("4_ok.xlsx", "已处理")]
    reasons = _txt(county.layout.returned)
    assert "XFD1048576" in reasons["1_far.xlsx"] and "风险管控清单" in reasons["2_date.xlsx"]
    assert "A1:XFD1048576" in reasons["3_merge.xlsx"]
    assert not list(processing.iterdir()) and county.archive.unfinished_jobs() == []


def test_ingest_exit_code_says_when_files_were_returned(tmp_path):
    root = tmp_path / "县"
    (root / "收件箱").mkdir(parents=True)
    small_workbook(root / "收件箱" / "ok.xlsx", 1)
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(root), "--as-of", AS_OF.isoformat(), "--no-docs"])
    assert result.exit_code == 0, result.output
    far_cell(small_workbook(tmp_path / "g.xlsx", 2), root / "收件箱" / "far.xlsx", "XFD1048576")
    result = runner.invoke(cli, ["ingest", str(root), "--as-of", AS_OF.isoformat(), "--no-docs"])
    assert result.exit_code == 1
    assert "共 1 个文件：已处理 0，退回 1" in result.output and "XFD1048576" in result.output


@pytest.mark.parametrize("name", ["😀" * 70, "𠀀" * 70, "宏达" * 40 + "机械"])
def test_long_names_are_cut_by_bytes_and_the_folder_keeps_the_credit_code(county, tmp_path, name):
    uscc = valid_uscc("91411121MA9KXD3R0")
    wb = small_workbook(county.layout.inbox / f"{name[:60]}.xlsx", 5, name=name)
    assert wb.exists()
    [outcome] = ingest(county)
    assert outcome.destination == "已处理", outcome.message
    [folder] = county.layout.feedback.iterdir()
    assert len(folder.name.encode()) <= NAME_BYTES and folder.name.endswith("_" + folder.name.rsplit("_", 1)[1])
    assert folder.name.rsplit("_", 1)[1] == county.archive.db.execute("SELECT uscc FROM enterprises").fetchone()[0]
    assert all(len(p.name.encode()) <= 255 for p in folder.rglob("*"))
    del uscc


def test_two_enterprises_with_the_same_long_name_prefix_get_two_folders(county):
    prefix = "河南省漯河市舞阳县" * 10
    small_workbook(county.layout.inbox / "a.xlsx", 11, name=prefix + "甲厂")
    small_workbook(county.layout.inbox / "b.xlsx", 12, name=prefix + "乙厂")
    ingest(county)
    folders = sorted(p.name for p in county.layout.feedback.iterdir())
    assert len(folders) == 2 and len({f.rsplit("_", 1)[1] for f in folders}) == 2
    assert all((county.layout.feedback / f / "检查报告.txt").exists() for f in folders)


def test_safe_name_counts_bytes_and_keeps_the_extension():
    for text in ("😀" * 200, "𠀀" * 200, "a" * 1000, "名" * 300 + ".xlsx", "x\udcff\u200by.xlsx"):
        name = safe_name(text)
        assert len(name.encode("utf-8")) <= NAME_BYTES
        if text.endswith(".xlsx"):
            assert name.endswith(".xlsx")


def test_a_file_that_crashed_the_process_three_times_is_returned(county, tmp_path):
    """A crash inside a file's work leaves its attempt counted; the fourth start returns it."""
    small_workbook(county.layout.inbox / "a.xlsx", 1)
    processing = county.layout.processing / "a.xlsx"
    os.rename(county.layout.inbox / "a.xlsx", processing)
    (county.layout.state / "attempts").mkdir()
    job = county.archive.begin_job("a.xlsx", "a.xlsx", "a.xlsx", county.clock())
    county.archive.set_job(job, county.clock(), state="claimed")
    (county.layout.state / "attempts" / str(job)).write_text("3")
    [outcome] = county.recover()
    assert outcome.destination == "退回" and "3 次" in outcome.message
    assert (county.layout.returned / "a.xlsx").exists() and not list(county.layout.processing.iterdir())


def test_one_job_failing_in_recovery_does_not_stop_the_others(county, tmp_path):
    """A journal entry that cannot be finished (its destination is unusable) is logged and skipped."""
    small_workbook(county.layout.processing / "stuck.xlsx", 1)
    job = county.archive.begin_job("stuck.xlsx", "stuck.xlsx", "stuck.xlsx", county.clock())
    county.archive.set_job(job, county.clock(), state="archived", destination="不存在的文件夹/子", final_name="stuck.xlsx")
    small_workbook(county.layout.processing / "stray.xlsx", 2)  # left by a crash before the journal knew it
    outcomes = county.recover()
    assert [o.name for o in outcomes] == ["stray.xlsx"] and outcomes[0].destination == "已处理"


def test_a_full_archive_names_the_path_and_keeps_the_file(county, tmp_path):
    small_workbook(county.layout.inbox / "a.xlsx", 1)
    pages = county.archive.db.execute("PRAGMA page_count").fetchone()[0]
    county.archive.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    with pytest.raises(DpsheetsError) as err:
        ingest(county)
    assert err.value.code == "env.disk-full" and str(county.archive.path) in err.value.message
    assert "请换回" not in err.value.message
    assert [p.name for p in county.layout.processing.iterdir()] == ["a.xlsx"]  # nothing lost
    county.archive.db.execute("PRAGMA max_page_count = 1073741823")
    [outcome] = county.recover()
    assert outcome.destination == "已处理" and not list(county.layout.processing.iterdir())


def _immutable(folder: Path) -> bool:
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return True
    return shutil.which("chattr") is not None and subprocess.run(["chattr", "+i", str(folder)]).returncode == 0


def _mutable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


def test_an_unwritable_folder_is_named_and_nothing_is_lost(county, tmp_path):
    small_workbook(county.layout.inbox / "a.xlsx", 1)
    assert _immutable(county.layout.feedback), "cannot make a folder unwritable here"
    try:
        with pytest.raises(DpsheetsError) as err:
            ingest(county)
    finally:
        _mutable(county.layout.feedback)
    assert err.value.code == "env.denied" and str(county.layout.feedback) in err.value.message
    assert [p.name for p in county.layout.processing.iterdir()] == ["a.xlsx"]
    [outcome] = county.recover()
    assert outcome.destination == "已处理"


def _full_disk(folder: Path) -> bool:
    """*folder* made a real full disk: a 64 KB tmpfs mounted on it and filled (needs root and a kernel that lets us)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        return False
    with (folder / "填满.bin").open("wb") as f, pytest.raises(OSError):
        f.write(b"\0" * (1 << 20))
        f.flush()
    return True


def test_a_full_disk_names_the_output_and_the_file_waits(tmp_path):
    """The feedback folder's disk is full: `dpsheets ingest` stops with one Chinese message naming the copy it
    could not write (a full disk fails the write, which names no file), no traceback, no half-written file;
    the workbook waits in 处理中 and the next run, with room again, finishes it."""
    root = tmp_path / "县"
    small_workbook(root / "收件箱" / "a.xlsx", 1)
    feedback = root / "反馈"
    if not _full_disk(feedback):
        pytest.skip("cannot mount a small file system here (not root, or not allowed)")
    ingest_command = [sys.executable, "-m", "dpsheets", "ingest", str(root), "--no-docs", "--as-of", AS_OF.isoformat()]
    try:
        done = subprocess.run(ingest_command, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "磁盘已满，无法写入" in done.stderr and "_检查结果.xlsx" in done.stderr and str(feedback) in done.stderr
        assert "Traceback" not in done.stderr and "请换回" not in done.stderr and "No space" not in done.stderr
        assert [p.name for p in (root / "处理中").iterdir()] == ["a.xlsx"]
        assert not list(feedback.rglob(".dpsheets-*"))
    finally:
        subprocess.run(["umount", str(feedback)], check=False)
    done = subprocess.run(ingest_command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in (root / "已处理").iterdir()] == ["a.xlsx"] and not list((root / "处理中").iterdir())


def test_an_unreachable_archive_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "档案.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    done = subprocess.run([sys.executable, "-m", "dpsheets", "archive", "--archive", str(bad), "list"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(bad) in done.stderr.replace("\n", "") and "无法打开" in done.stderr


def test_two_processes_starting_on_a_new_folder_at_once(tmp_path):
    """Both create the folders and the archive at the same moment: one works, the other works after or is refused."""
    for round_ in range(3):
        root = tmp_path / f"县{round_}"
        procs = [subprocess.Popen([sys.executable, "-m", "dpsheets", "ingest", str(root), "--no-docs"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
        for code, err in results:
            assert code in (0, 3), err
            assert "Traceback" not in err and "locked" not in err and "already exists" not in err
        assert any(code == 0 for code, _ in results)
