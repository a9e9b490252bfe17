"""Every journal state that ``Processor.recover()`` handles, set up deterministically.

The ``kill -9`` test in test_watch.py shows recovery works after a real crash at a random moment;
these tests put the journal and the folders into each state a crash can leave, one at a time,
and check that a restart ends with every file in exactly one of 已处理/ and 退回/ (or still in the
inbox when it was never claimed) and every submission archived exactly once.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from builders import AS_OF, small_workbook

from dpsheets.county.inbox import MAX_ATTEMPTS, Processor, sha256_of
from dpsheets.pipeline import check

NOW = datetime(2026, 11, 28, 9, 0, 0)


@pytest.fixture
def proc(tmp_path):
    p = Processor(tmp_path / "县", as_of=AS_OF, documents=False, clock=lambda: NOW)
    yield p
    p.close()


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".txt"))


def submissions(proc: Processor) -> int:
    return proc.archive.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]


def job_row(proc: Processor, job: int):
    return proc.archive.db.execute("SELECT * FROM jobs WHERE id = ?", (job,)).fetchone()


def in_processing(proc: Processor, name: str, seed: int):
    return small_workbook(proc.layout.processing / name, seed)


def test_claiming_before_the_rename_leaves_the_file_in_the_inbox_for_the_next_scan(proc):
    src = small_workbook(proc.layout.inbox / "甲.xlsx", 1)
    job = proc.archive.begin_job("甲.xlsx", "甲.xlsx", "甲.xlsx", NOW)  # crash before os.rename
    assert proc.recover() == []
    row = job_row(proc, job)
    assert row["state"] == "done" and row["destination"] == "gone"
    assert src.exists() and names(proc.layout.processed) == []
    outcome = proc.process(src)  # the next scan takes it normally
    assert outcome is not None and outcome.destination == "已处理"
    assert names(proc.layout.processed) == ["甲.xlsx"] and submissions(proc) == 1


def test_claiming_after_the_rename_is_processed(proc):
    in_processing(proc, "乙.xlsx", 2)
    job = proc.archive.begin_job("乙.xlsx", "乙.xlsx", "乙.xlsx", NOW)  # renamed, state not yet "claimed"
    outcomes = proc.recover()
    assert [o.destination for o in outcomes] == ["已处理"]
    assert job_row(proc, job)["state"] == "done"
    assert names(proc.layout.processed) == ["乙.xlsx"] and names(proc.layout.processing) == []
    assert submissions(proc) == 1


def test_claimed_file_is_processed_once(proc):
    in_processing(proc, "丙.xlsx", 3)
    job = proc.archive.begin_job("丙.xlsx", "丙.xlsx", "丙.xlsx", NOW)
    proc.archive.set_job(job, NOW, state="claimed")
    assert [o.destination for o in proc.recover()] == ["已处理"]
    assert proc.recover() == []  # a second restart finds nothing to do
    assert names(proc.layout.processed) == ["丙.xlsx"] and submissions(proc) == 1
    assert proc.archive.unfinished_jobs() == []


def test_claimed_file_that_vanished_closes_the_job(proc):
    job = proc.archive.begin_job("丁.xlsx", "丁.xlsx", "丁.xlsx", NOW)
    proc.archive.set_job(job, NOW, state="claimed")
    assert proc.recover() == []
    row = job_row(proc, job)
    assert row["state"] == "done" and row["destination"] == "gone"


def test_archived_submission_is_moved_without_archiving_it_again(proc):
    path = in_processing(proc, "戊.xlsx", 4)
    data, report = check(path, AS_OF)
    job = proc.archive.begin_job("戊.xlsx", "戊.xlsx", "戊.xlsx", NOW)
    with proc.archive.transaction() as tx:  # what _accept commits, then the crash before the rename
        sid = proc.archive.add_submission(data, report, file_name="戊.xlsx", sha256=sha256_of(path), received_at=NOW,
                                          stored_name="戊.xlsx", db=tx)
        proc.archive.set_job(job, NOW, db=tx, state="archived", destination="已处理", final_name="戊.xlsx",
                             submission_id=sid)
    outcomes = proc.recover()
    assert [(o.name, o.destination) for o in outcomes] == [("戊.xlsx", "已处理")]
    assert names(proc.layout.processed) == ["戊.xlsx"] and names(proc.layout.processing) == []
    assert submissions(proc) == 1 and proc.archive.unfinished_jobs() == []


def test_archived_rejection_is_returned_with_its_reason(proc):
    (proc.layout.processing / "坏.xlsx").write_bytes(b"not a workbook")
    job = proc.archive.begin_job("坏.xlsx", "坏.xlsx", "坏.xlsx", NOW)
    proc.archive.set_job(job, NOW, state="archived", destination="退回", final_name="坏.xlsx", reason="不是 Excel 工作簿")
    assert [o.destination for o in proc.recover()] == ["退回"]
    assert names(proc.layout.returned) == ["坏.xlsx"]
    assert "不是 Excel 工作簿" in (proc.layout.returned / "坏.xlsx.txt").read_text(encoding="utf-8")
    assert submissions(proc) == 0


def test_archived_job_whose_file_already_moved_is_only_marked_done(proc):
    small_workbook(proc.layout.processed / "己.xlsx", 6)  # the rename into place happened, "done" did not
    job = proc.archive.begin_job("己.xlsx", "己.xlsx", "己.xlsx", NOW)
    proc.archive.set_job(job, NOW, state="archived", destination="已处理", final_name="己.xlsx")
    proc.recover()
    assert job_row(proc, job)["state"] == "done"
    assert names(proc.layout.processed) == ["己.xlsx"]  # not duplicated under another name


def test_stray_file_in_processing_without_a_job_is_taken_up(proc):
    in_processing(proc, "庚.xlsx", 7)
    (proc.layout.processing / ".dpsheets-tmp.xlsx").write_bytes(b"half")  # our own temp file: left alone
    assert [o.destination for o in proc.recover()] == ["已处理"]
    assert names(proc.layout.processed) == ["庚.xlsx"] and submissions(proc) == 1


def test_a_file_that_crashed_the_process_repeatedly_is_returned(proc):
    in_processing(proc, "毒.xlsx", 8)
    job = proc.archive.begin_job("毒.xlsx", "毒.xlsx", "毒.xlsx", NOW)
    proc.archive.set_job(job, NOW, state="claimed")
    marker = proc.layout.state / "attempts" / str(job)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(MAX_ATTEMPTS))  # it already crashed the process this often
    assert [o.destination for o in proc.recover()] == ["退回"]
    assert names(proc.layout.returned) == ["毒.xlsx"] and submissions(proc) == 0
    assert "意外中断" in (proc.layout.returned / "毒.xlsx.txt").read_text(encoding="utf-8")
    assert not marker.exists()


def test_recovery_handles_every_state_at_once_and_keeps_going(proc):
    """One restart after a crash that left several files in several states."""
    in_processing(proc, "一.xlsx", 11)
    j1 = proc.archive.begin_job("一.xlsx", "一.xlsx", "一.xlsx", NOW)
    proc.archive.set_job(j1, NOW, state="claimed")
    j2 = proc.archive.begin_job("二.xlsx", "二.xlsx", "二.xlsx", NOW)
    proc.archive.set_job(j2, NOW, state="claimed")  # vanished
    (proc.layout.processing / "三.xlsx").write_bytes(b"PK\x03\x04 truncated")
    in_processing(proc, "四.xlsx", 14)  # stray
    outcomes = proc.recover()
    assert sorted((o.name, o.destination) for o in outcomes) == [
        ("一.xlsx", "已处理"), ("三.xlsx", "退回"), ("四.xlsx", "已处理")]
    assert os.listdir(proc.layout.processing) == [] or all(n.startswith(".") for n in os.listdir(proc.layout.processing))
    assert submissions(proc) == 2 and proc.archive.unfinished_jobs() == []


def test_temporary_files_a_kill_left_are_removed_at_restart_and_the_outputs_stay_whole(proc):
    """``kill -9`` while the highlighted copy (or a reason, an alert) is being saved leaves a ``.dpsheets-*``
    file beside it; the copy itself is only ever replaced by a rename, so it stays whole. The next start
    removes the leftovers; in 提醒/ (also written by ``dpsheets archive alerts``, without the folder lock)
    only those old enough not to be a write in progress."""
    import signal
    import stat
    import subprocess
    import sys
    import time

    assert proc.process(small_workbook(proc.layout.inbox / "辛.xlsx", 9)).destination == "已处理"
    [copy] = proc.layout.feedback.rglob("*_检查结果.xlsx")
    outputs = {p: p.read_bytes() for p in proc.layout.feedback.rglob("*") if p.is_file()}
    assert len(outputs) == 2  # the copy and 检查报告.txt
    from dpsheets.fsutil import UMASK

    assert {stat.S_IMODE(p.stat().st_mode) for p in outputs} == {0o666 & ~UMASK}  # for the county's other users too
    killed = ("import os, signal, sys\nfrom pathlib import Path\nfrom dpsheets.fsutil import atomic_path\n"
              "with atomic_path(Path(sys.argv[1])) as tmp:\n"
              "    tmp.write_bytes(b'PK half a copy')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    alert = proc.layout.root / "提醒" / "2026-11-28_000001_新增重大隐患.txt"
    for target in (copy, proc.layout.returned / "坏.xlsx.txt", alert):
        target.parent.mkdir(exist_ok=True)
        assert subprocess.run([sys.executable, "-c", killed, str(target)]).returncode == -signal.SIGKILL
    [old_alert] = alert.parent.glob(".dpsheets-*")
    os.utime(old_alert, (time.time() - 3600, time.time() - 3600))
    writing = alert.parent / ".dpsheets-being-written.txt"  # `archive alerts` saving one right now
    writing.write_text("", encoding="utf-8")
    assert len(list(proc.layout.root.rglob(".dpsheets-*"))) == 4

    restarted = Processor(proc.layout.root, as_of=AS_OF, documents=False, clock=lambda: NOW)
    try:
        assert restarted.recover() == []
    finally:
        restarted.close()
    assert list(proc.layout.root.rglob(".dpsheets-*")) == [writing]
    assert {p: p.read_bytes() for p in proc.layout.feedback.rglob("*") if p.is_file()} == outputs
    assert not alert.exists() and not (proc.layout.returned / "坏.xlsx.txt").exists()
