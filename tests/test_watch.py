"""The folder watcher on real temp folders: arrival, stability, duplicates, bursts, bad files, crashes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from builders import AS_OF, small_workbook, wait_until

from dpsheets.county.archive import Archive
from dpsheets.county.inbox import Processor, safe_name
from dpsheets.county.watch import acquire_lock, watch
from dpsheets.errors import DpsheetsError


class Watcher:
    def __init__(self, root: Path, poll: float | None = None, documents: bool = False) -> None:
        self.processor = Processor(root, as_of=AS_OF, documents=documents)
        self.layout = self.processor.layout
        self.stop = threading.Event()
        self.outcomes = []
        self.thread = threading.Thread(target=watch, args=(self.processor,),
                                       kwargs=dict(poll=poll, settle=0.3, stall=3.0, rescan_every=2.0, stop=self.stop,
                                                   report=self.outcomes.append), daemon=True)

    def __enter__(self):
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        self.processor.close()

    def names(self, folder: str) -> list[str]:
        return sorted(p.name for p in (self.layout.root / folder).iterdir() if not p.name.endswith(".txt"))

    def submissions(self) -> int:
        return self.processor.archive.count("submissions")


@pytest.fixture
def root(tmp_path):
    return tmp_path / "舞阳县"


def test_files_present_at_start_are_processed(root, tmp_path):
    (root / "收件箱" / "子文件夹").mkdir(parents=True)
    small_workbook(root / "收件箱" / "子文件夹" / "a.xlsx", 1)
    with Watcher(root) as w:
        assert wait_until(lambda: w.names("已处理") == ["a.xlsx"])
        assert w.submissions() == 1
        assert [p.name.split("_")[0] for p in (root / "反馈").iterdir()] == ["测试企业0001"]


def test_slow_chunked_copy_is_taken_once_only_when_complete(root, tmp_path):
    src = small_workbook(tmp_path / "src.xlsx", 2)
    data = src.read_bytes()
    with Watcher(root) as w:
        target = w.layout.inbox / "slow.xlsx"
        chunk = len(data) // 4 + 1
        with target.open("wb") as f:
            for i in range(0, len(data), chunk):
                f.write(data[i:i + chunk])
                f.flush()
                if i + chunk < len(data):
                    time.sleep(0.8)  # longer than the settle time: a stalled copy looks stable
                    assert w.names("已处理") == [] and w.names("退回") == []
        assert wait_until(lambda: w.names("已处理") == ["slow.xlsx"])
        time.sleep(1)
        assert w.submissions() == 1 and w.names("退回") == [] and len(w.outcomes) == 1


def test_atomic_rename_into_the_inbox(root, tmp_path):
    with Watcher(root) as w:
        staging = w.layout.inbox / "incoming.xlsx.tmp"  # ignored while it is being written
        small_workbook(staging, 3)
        time.sleep(1)
        assert w.names("已处理") == []
        os.rename(staging, w.layout.inbox / "renamed.xlsx")
        outside = small_workbook(root / "outside.xlsx", 4)
        os.rename(outside, w.layout.inbox / "moved-in.xlsx")
        assert wait_until(lambda: w.names("已处理") == ["moved-in.xlsx", "renamed.xlsx"])


def test_lock_file_beside_a_workbook_is_ignored(root, tmp_path):
    with Watcher(root) as w:
        small_workbook(w.layout.inbox / "台账.xlsx", 5)
        (w.layout.inbox / "~$台账.xlsx").write_bytes(b"owner-lock")
        (w.layout.inbox / ".~lock.台账.xlsx#").write_bytes(b"lo-lock")
        assert wait_until(lambda: w.names("已处理") == ["台账.xlsx"])
        time.sleep(1)
        assert sorted(p.name for p in w.layout.inbox.iterdir()) == [".~lock.台账.xlsx#", "~$台账.xlsx"]
        assert w.names("退回") == []


def test_same_content_twice_is_archived_once(root, tmp_path):
    src = small_workbook(tmp_path / "x.xlsx", 6)
    with Watcher(root) as w:
        shutil.copy(src, w.layout.inbox / "第一次.xlsx")
        assert wait_until(lambda: len(w.names("已处理")) == 1)
        shutil.copy(src, w.layout.inbox / "第二次.xlsx")
        shutil.copy(src, w.layout.inbox / "第一次.xlsx")  # the same name again
        assert wait_until(lambda: len(w.names("已处理")) == 3)
        assert w.submissions() == 1
        # the outcome is reported just after the file lands in 已处理: wait for it, not only for the file
        assert wait_until(lambda: sum(o.duplicate for o in w.outcomes) == 2)
        assert any(n.startswith("第一次_") for n in w.names("已处理"))  # renamed, not overwritten


def test_burst_of_files(root, tmp_path):
    """A burst larger than the event queue drains at once: every file archived exactly once."""
    sources = [small_workbook(tmp_path / f"s{i}.xlsx", 100 + i) for i in range(30)]
    with Watcher(root) as w:
        for i, src in enumerate(sources):
            shutil.copy(src, w.layout.inbox / f"企业{i:03d}.xlsx")
        assert wait_until(lambda: len(w.names("已处理")) == 30, timeout=120)
        assert w.submissions() == 30 and w.names("退回") == []
        # each outcome is reported just after its file lands in 已处理: wait for the last report too
        assert wait_until(lambda: len(w.outcomes) >= 30)
        assert sorted(o.name for o in w.outcomes) == [f"企业{i:03d}.xlsx" for i in range(30)]
        assert list(w.layout.inbox.iterdir()) == [] and list(w.layout.processing.iterdir()) == []


def test_bad_files_are_returned_with_a_reason_and_the_watcher_goes_on(root, tmp_path):
    with Watcher(root, poll=0.2) as w:  # the polling observer, as on a network share
        (w.layout.inbox / "坏文件.xlsx").write_bytes(b"PK\x03\x04 truncated")
        (w.layout.inbox / "名单.csv").write_text("名称\n", encoding="utf-8")
        bad_code = small_workbook(tmp_path / "b.xlsx", 7)
        import openpyxl

        wb = openpyxl.load_workbook(bad_code)
        wb["企业信息"]["B3"] = "91411121000000007X"
        wb.save(w.layout.inbox / "代码错.xlsx")
        small_workbook(w.layout.inbox / "好文件.xlsx", 8)
        assert wait_until(lambda: len(w.names("退回")) == 3 and w.names("已处理") == ["好文件.xlsx"], timeout=20)
        reasons = {p.name: p.read_text(encoding="utf-8") for p in w.layout.returned.glob("*.txt")}
        assert "不完整" in reasons["坏文件.xlsx.txt"]
        assert "不是 Excel" in reasons["名单.csv.txt"]
        assert "校验位" in reasons["代码错.xlsx.txt"] and "企业信息!B3" in reasons["代码错.xlsx.txt"]
        assert not any("代码错" in p.name for p in w.layout.feedback.iterdir())


def test_poison_files_are_returned_and_the_watcher_goes_on(root, tmp_path):
    """A date cell of -1e12 (calamine panics) and a cell at XFD1048576 (it would ask for hundreds of GB) used to
    take the watcher down; each is returned with its reason and the good file after them is archived."""
    from builders import date_out_of_range, far_cell

    good = small_workbook(tmp_path / "good.xlsx", 9)
    with Watcher(root) as w:
        date_out_of_range(good, tmp_path / "1_date.xlsx").rename(w.layout.inbox / "1_date.xlsx")
        far_cell(good, tmp_path / "2_far.xlsx", "XFD1048576").rename(w.layout.inbox / "2_far.xlsx")
        small_workbook(w.layout.inbox / "3_ok.xlsx", 10)
        assert wait_until(lambda: w.names("退回") == ["1_date.xlsx", "2_far.xlsx"] and w.names("已处理") == ["3_ok.xlsx"],
                          timeout=60)
        assert w.thread.is_alive() and not list(w.layout.processing.iterdir())
        reasons = {p.name: p.read_text(encoding="utf-8") for p in w.layout.returned.glob("*.txt")}
        assert "超出范围的日期数值" in reasons["1_date.xlsx.txt"] and "XFD1048576" in reasons["2_far.xlsx.txt"]


def test_odd_names_cannot_write_outside_the_folder(root, tmp_path):
    with Watcher(root) as w:
        small_workbook(w.layout.inbox / "a\nb ..xlsx", 9, name="../../越界/企业")
        assert wait_until(lambda: len(w.names("已处理")) == 1)
        feedback = list(w.layout.feedback.iterdir())
        assert len(feedback) == 1 and feedback[0].parent == w.layout.feedback
        assert not (tmp_path / "越界").exists() and not (root / "越界").exists()
    for hostile in ("../..", "..", "a/b\\c", "", "  . ", "x" * 500):
        name = safe_name(hostile)
        assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and len(name.encode()) <= 150


def test_one_watcher_per_folder(root):
    with Watcher(root) as w:
        with pytest.raises(DpsheetsError) as err:
            acquire_lock(w.layout)
        assert "另一个 dpsheets" in err.value.message


def test_kill_9_mid_batch_then_restart_accounts_for_every_file(root, tmp_path):
    names = [f"企业{i:02d}.xlsx" for i in range(12)]
    processor = Processor(root, as_of=AS_OF)
    processor.close()
    for i, name in enumerate(names):
        small_workbook(root / "收件箱" / name, 300 + i)
    shutil.copy(root / "收件箱" / names[0], root / "收件箱" / "重复.xlsx")
    names.append("重复.xlsx")
    cmd = [sys.executable, "-m", "dpsheets", "watch", str(root), "--as-of", "2026-11-28", "--settle", "0.1", "--no-docs"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_until(lambda: len(list((root / "已处理").iterdir())) >= 3, timeout=60)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = subprocess.run([sys.executable, "-m", "dpsheets", "ingest", str(root), "--as-of", "2026-11-28", "--no-docs"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    processed = sorted(p.name for p in (root / "已处理").iterdir())
    returned = [p.name for p in (root / "退回").iterdir()]
    assert processed == sorted(names) and returned == []
    assert list((root / "收件箱").iterdir()) == [] and list((root / "处理中").iterdir()) == []
    with Archive(root / "档案.sqlite") as db:
        assert db.count("submissions") == len(names) - 1
        assert db.unfinished_jobs() == []
        half = db.scalar("SELECT COUNT(*) FROM submissions s WHERE NOT EXISTS "
                         "(SELECT 1 FROM records r WHERE r.submission_id = s.id)")
        assert half == 0
