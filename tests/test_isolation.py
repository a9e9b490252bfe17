"""The county reads each file in a worker process with a memory cap and a timeout: a file that needs
too much memory, reads too long or kills its reader is returned with its reason, the next file is
archived, nothing stays in 处理中, and a county killed with ``kill -9`` meanwhile recovers.

The poison files are real workbooks the XML pre-scan allows (it must: they are within every limit),
built by code: a sheet 256 columns × 19,000 rows wide (calamine asks for 155 MB at once) and three
registers of 19,000 rows (seconds to read and check).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from builders import AS_OF, far_cell, many_rows, small_workbook, wait_until

from dpsheets.config import config_from_dict
from dpsheets.county.inbox import Processor
from dpsheets.county.watch import ingest
from dpsheets.errors import DpsheetsError
from dpsheets.isolation import Worker
from dpsheets.pipeline import pipeline

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS and signals are POSIX")


@pytest.fixture(scope="module")
def poison(tmp_path_factory):
    folder = tmp_path_factory.mktemp("poison")
    good = small_workbook(folder / "good.xlsx", 1)
    return {"wide": far_cell(good, folder / "wide.xlsx", "IV19000"), "slow": many_rows(good, folder / "slow.xlsx"),
            "long": many_rows(good, folder / "long.xlsx", 8000, ("风险管控清单",))}


def _county(tmp_path: Path, **limits) -> Processor:
    return Processor(tmp_path / "县", as_of=AS_OF, documents=False, config=config_from_dict({"limits": limits}))


def _inbox(county: Processor, poison_file: Path, name: str) -> None:
    shutil.copy(poison_file, county.layout.inbox / name)
    small_workbook(county.layout.inbox / "2_ok.xlsx", 2)


def _reason(county: Processor, name: str) -> str:
    return (county.layout.returned / f"{name}.txt").read_text(encoding="utf-8")


def _settled(county: Processor, returned: str) -> None:
    """The poison file returned, the good one after it archived with its copy, nothing left behind."""
    assert sorted(p.name for p in county.layout.processed.iterdir()) == ["2_ok.xlsx"]
    assert sorted(p.name for p in county.layout.returned.iterdir()) == [returned, f"{returned}.txt"]
    assert not list(county.layout.processing.iterdir()) and not list(county.layout.inbox.iterdir())
    assert [p.name for p in county.layout.feedback.rglob("*_检查结果.xlsx")] == ["2_ok_检查结果.xlsx"]
    assert county.archive.count("submissions") == 1 and county.archive.unfinished_jobs() == []


def test_a_file_that_needs_more_memory_than_the_cap_is_returned(tmp_path, poison):
    assert pipeline(poison["wide"], as_of=AS_OF, highlight=False).error is None  # in-process, uncapped, it reads
    county = _county(tmp_path, memory_mb=128)
    try:
        _inbox(county, poison["wide"], "1_wide.xlsx")
        outcomes = ingest(county)
        assert [o.destination for o in outcomes] == ["退回", "已处理"]
        _settled(county, "1_wide.xlsx")
        assert "“1_wide.xlsx”读取时内存超过 128 MB" in _reason(county, "1_wide.xlsx")
        assert county.worker.starts == 2  # the worker that ran out was replaced for the next file
    finally:
        county.close()


def test_a_file_that_reads_past_the_timeout_is_returned(tmp_path, poison):
    county = _county(tmp_path, timeout_s=1.5)
    try:
        _inbox(county, poison["slow"], "1_slow.xlsx")
        started = time.monotonic()
        outcomes = ingest(county)
        assert [o.destination for o in outcomes] == ["退回", "已处理"]
        assert time.monotonic() - started < 30  # the slow file was cut off, not read to its end
        _settled(county, "1_slow.xlsx")
        assert "“1_slow.xlsx”读取超时（1.5 秒）" in _reason(county, "1_slow.xlsx")
    finally:
        county.close()


def test_a_reader_killed_by_a_signal_returns_only_that_file(tmp_path, poison):
    county = _county(tmp_path)
    try:
        _inbox(county, poison["slow"], "1_slow.xlsx")
        outcomes: list = []
        runner = threading.Thread(target=lambda: outcomes.extend(ingest(county)))
        runner.start()
        worker = county.worker
        assert wait_until(lambda: worker.busy and worker.current.name == "1_slow.xlsx" and worker.task == "check")
        os.kill(worker.pid, signal.SIGABRT)  # as an abort inside a native library would
        runner.join(120)
        assert [o.destination for o in outcomes] == ["退回", "已处理"]
        _settled(county, "1_slow.xlsx")
        assert "“1_slow.xlsx”读取进程异常退出（信号 6）" in _reason(county, "1_slow.xlsx")
    finally:
        county.close()


def test_a_reader_killed_while_marking_still_leaves_a_copy_with_the_results(tmp_path, poison):
    """The file was read and checked: it is archived, and its copy lists the results without the original."""
    county = _county(tmp_path)
    try:
        shutil.copy(poison["long"], county.layout.inbox / "1_long.xlsx")
        outcomes: list = []
        runner = threading.Thread(target=lambda: outcomes.extend(ingest(county)))
        runner.start()
        worker = county.worker
        assert wait_until(lambda: worker.busy and worker.task == "mark", timeout=120)
        os.kill(worker.pid, signal.SIGKILL)
        runner.join(120)
        assert [o.destination for o in outcomes] == ["已处理"]
        [copy] = county.layout.feedback.rglob("*_检查结果.xlsx")
        wb = openpyxl.load_workbook(copy, read_only=True)
        assert wb.sheetnames == ["检查结果"] and "复制原工作簿时读取进程异常退出" in str(wb["检查结果"]["A2"].value)
        assert "标注副本只列出检查结果" in (copy.parent / "检查报告.txt").read_text(encoding="utf-8")
        assert not list(copy.parent.glob(".dpsheets-*"))  # the half-written copy was removed
    finally:
        county.close()


def test_a_worker_killed_between_files_is_started_again(tmp_path):
    good = small_workbook(tmp_path / "a.xlsx", 3)
    with Worker() as worker:
        first = worker.check(good, AS_OF, config_from_dict({}))
        os.kill(worker.pid, signal.SIGKILL)
        second = worker.check(good, AS_OF, config_from_dict({}))
        assert worker.starts == 2 and first[1].counts() == second[1].counts()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, IndexError):
        return True


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the worker through /proc")
def test_kill_9_of_the_county_while_its_worker_reads_then_recover(tmp_path, poison):
    root = tmp_path / "县"
    (root / "收件箱").mkdir(parents=True)
    shutil.copy(poison["slow"], root / "收件箱" / "1_slow.xlsx")
    small_workbook(root / "收件箱" / "2_ok.xlsx", 2)
    config = tmp_path / "dpsheets.toml"
    config.write_text("[limits]\ntimeout_s = 3\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "dpsheets", "ingest", str(root), "--no-docs", "--as-of", AS_OF.isoformat(),
           "--config", str(config)]
    county = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: (root / "处理中" / "1_slow.xlsx").exists() and _children(county.pid))
        [worker] = _children(county.pid)
    finally:
        os.kill(county.pid, signal.SIGKILL)  # the county only: its worker is orphaned mid-read
        county.wait()
    assert wait_until(lambda: _gone(worker), timeout=3 + 5 + 30)  # it ends by itself (its parent gone, its alarm)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # a file was returned
    assert "共 2 个文件：已处理 1，退回 1" in done.stdout and "Traceback" not in done.stderr
    assert sorted(p.name for p in (root / "已处理").iterdir()) == ["2_ok.xlsx"]
    assert not list((root / "处理中").iterdir()) and not list((root / "收件箱").iterdir())
    assert "读取超时（3 秒）" in (root / "退回" / "1_slow.xlsx.txt").read_text(encoding="utf-8")


def test_a_worker_that_cannot_start_is_the_machines_fault_and_the_file_waits(tmp_path, monkeypatch):
    """No Python to start (as when the machine is out of processes): ingest stops naming the cause,
    the file stays in 处理中 and is archived at the next run."""
    county = _county(tmp_path)
    try:
        small_workbook(county.layout.inbox / "a.xlsx", 4)
        monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
        with pytest.raises(DpsheetsError) as err:
            ingest(county)
        assert err.value.code == "env.worker" and "无法启动读取台账的子进程" in err.value.message
        assert [p.name for p in county.layout.processing.iterdir()] == ["a.xlsx"]
        monkeypatch.undo()
        [outcome] = county.recover()
        assert outcome.destination == "已处理" and not list(county.layout.processing.iterdir())
    finally:
        county.close()


def test_a_panic_reaches_the_county_as_its_chinese_reason_only_even_with_rust_backtrace_set(tmp_path, monkeypatch):
    """RUST_BACKTRACE set in the county's environment, a date cell of -1e12 makes calamine panic: the worker
    runs with RUST_BACKTRACE=0 (no pages of frames, even in its own log), the file is returned with its
    Chinese reason, and nothing of Rust reaches the terminal of ``dpsheets ingest``."""
    from builders import date_out_of_range

    from dpsheets.config import Config

    monkeypatch.setenv("RUST_BACKTRACE", "full")
    bad = date_out_of_range(small_workbook(tmp_path / "good.xlsx", 1), tmp_path / "date.xlsx")
    with Worker() as worker:
        with pytest.raises(DpsheetsError) as refused:
            worker.check(bad, AS_OF, Config())
        assert refused.value.code == "file.corrupt" and "超出范围的日期数值" in refused.value.message
        assert "panicked" in worker._tail() and "stack backtrace" not in worker._tail()
    inbox = tmp_path / "县" / "收件箱"
    inbox.mkdir(parents=True)
    shutil.copy(bad, inbox / "1_date.xlsx")
    small_workbook(inbox / "2_ok.xlsx", 2)
    done = subprocess.run([sys.executable, "-m", "dpsheets", "ingest", str(tmp_path / "县"), "--no-docs",
                           "--as-of", AS_OF.isoformat()], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "1_date.xlsx → 退回" in done.stdout and "超出范围的日期数值" in done.stdout
    assert "panicked" not in done.stdout + done.stderr and "backtrace" not in (done.stdout + done.stderr).lower()
