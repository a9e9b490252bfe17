"""A county's shared folder: inbox → processing → processed / returned, feedback, archive.

Each file goes through a journal kept in the archive database, so that a crash (even
``kill -9``) at any moment followed by a restart ends with every file in exactly one of
已处理/ and 退回/, the archive holding each submission once and whole:

1. a job row is written (``claiming``), then the file is renamed into 处理中/ (``claimed``);
2. the per-file :func:`~dpsheets.pipeline.pipeline` runs (outputs written to temp names and renamed);
3. the submission is archived and the job marked ``archived`` with its destination, in one transaction;
4. the file is renamed into 已处理/ or 退回/ and the job marked ``done``.

Recovery replays from the last completed step. The original is only ever renamed, never
written; names from users are sanitised so nothing is written outside the folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dpsheets.config import Config
from dpsheets.county.archive import Archive
from dpsheets.fsutil import write_text_atomic
from dpsheets.pipeline import FileResult, pipeline
from dpsheets.workbook.model import WorkbookData
from dpsheets.workbook.sniff import is_temp_or_lock

log = logging.getLogger(__name__)

INBOX, PROCESSING, PROCESSED, RETURNED, FEEDBACK = "收件箱", "处理中", "已处理", "退回", "反馈"
ARCHIVE_FILE = "档案.sqlite"
STATE_DIR = ".dpsheets"
README = """dpsheets 台账收件文件夹
========================

把企业的双重预防体系台账（.xlsx）放进“收件箱”（可以建子文件夹）。dpsheets 会逐个检查：

  收件箱/   待处理的台账；Excel/WPS 的临时文件（~$ 开头等）会被忽略
  处理中/   正在处理的台账（程序意外停止后再次启动会继续处理，不会丢失）
  已处理/   处理完的原始文件（原样保存，从不修改；重名时加上时间）
  退回/     无法处理的文件，旁边的同名 .txt 写明原因和改正方法
  反馈/     按企业分文件夹：标注了问题的台账副本、检查报告、告知卡和通知书等文书
  档案.sqlite  一企一档数据库：每家企业每次报送的记录（用 dpsheets archive 查看）
"""

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(name: str, fallback: str = "未命名", limit: int = 80) -> str:
    """A single path component made from user text: no separators, no dots-only, bounded length."""
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip().strip(".").strip()
    text = text[:limit].strip()
    return text if text and text not in (".", "..") else fallback


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / INBOX

    @property
    def processing(self) -> Path:
        return self.root / PROCESSING

    @property
    def processed(self) -> Path:
        return self.root / PROCESSED

    @property
    def returned(self) -> Path:
        return self.root / RETURNED

    @property
    def feedback(self) -> Path:
        return self.root / FEEDBACK

    @property
    def state(self) -> Path:
        return self.root / STATE_DIR

    def create(self) -> None:
        for folder in (self.inbox, self.processing, self.processed, self.returned, self.feedback, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        readme = self.root / "使用说明.txt"
        if not readme.exists():
            readme.write_text(README, encoding="utf-8")

    def inbox_files(self) -> list[Path]:
        """Workbook candidates in the inbox (any depth), temp and lock files left out."""
        out = []
        for dirpath, _dirs, files in os.walk(self.inbox):
            out.extend(Path(dirpath) / f for f in files if not is_temp_or_lock(Path(f)))
        return sorted(out)


def unique_path(folder: Path, name: str, now: datetime) -> Path:
    """*folder*/*name*, or with a timestamp (and a counter) when the name is taken."""
    name = safe_name(name)
    target = folder / name
    if not target.exists() and not target.is_symlink():
        return target
    stem, suffix = os.path.splitext(name)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    for i in range(1, 10_000):
        target = folder / f"{stem}_{stamp}{'' if i == 1 else f'_{i}'}{suffix}"
        if not target.exists():
            return target
    raise RuntimeError("no free name")  # pragma: no cover


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Outcome:
    """What happened to one file, for the one-line log."""

    name: str
    destination: str  # 已处理 or 退回
    message: str
    enterprise: str = ""
    submission_id: int | None = None
    duplicate: bool = False

    def line(self) -> str:
        mark = "✓" if self.destination == PROCESSED else "✗"
        who = f"（{self.enterprise}）" if self.enterprise else ""
        return f"{mark} {self.name}{who} → {self.destination}：{self.message}"


Clock = Callable[[], datetime]


class Processor:
    """Processes inbox files one at a time through the journal. Used by ``watch`` and ``ingest``."""

    def __init__(self, root: Path, *, as_of: date | None, config: Config | None = None, documents: bool = True,
                 archive_path: Path | None = None, clock: Clock = datetime.now) -> None:
        self.layout = Layout(root)
        self.layout.create()
        self.config = config or Config()
        self.as_of = as_of  # None: the date of each file's arrival
        self.documents = documents
        self.clock = clock
        self.archive = Archive(archive_path or root / ARCHIVE_FILE)

    def close(self) -> None:
        self.archive.close()

    # --- steps ------------------------------------------------------------------------------

    def process(self, source: Path) -> Outcome | None:
        """Claim *source* from the inbox and process it; None if it vanished meanwhile."""
        if not self._inside_inbox(source):
            raise ValueError(f"{source} is not in the inbox")
        now = self.clock()
        relative = source.relative_to(self.layout.inbox)
        processing = unique_path(self.layout.processing, source.name, now)
        job = self.archive.begin_job(str(relative), source.name, processing.name, now)
        try:
            os.rename(source, processing)
        except FileNotFoundError:
            self.archive.set_job(job, now, state="done", destination="gone", reason="文件在处理前被移走")
            return None
        self.archive.set_job(job, now, state="claimed")
        return self._run(job, processing, source.name)

    def recover(self) -> list[Outcome]:
        """Finish what a crash interrupted; then take up files left in 处理中/ without a job."""
        outcomes = []
        for job in self.archive.unfinished_jobs():
            processing = self.layout.processing / job["processing_name"]
            state = job["state"]
            if state == "claiming":
                if processing.exists():
                    state = "claimed"
                    self.archive.set_job(job["id"], self.clock(), state=state)
                else:  # the rename never happened: the file is still in the inbox and will be taken again
                    self.archive.set_job(job["id"], self.clock(), state="done", destination="gone", reason="认领前中断")
                    continue
            if state == "claimed":
                if processing.exists():
                    outcomes.append(self._run(job["id"], processing, job["original_name"]))
                else:
                    self.archive.set_job(job["id"], self.clock(), state="done", destination="gone", reason="文件已不在处理中")
            elif state == "archived":
                self._finish(job["id"], processing, job["destination"], job["final_name"], job["reason"])
                outcomes.append(Outcome(job["original_name"], job["destination"], "中断后已完成归档"))
        known = self.archive.job_names()
        for stray in sorted(self.layout.processing.iterdir()):
            if stray.is_file() and stray.name not in known and not stray.name.startswith(".dpsheets-"):
                now = self.clock()
                job = self.archive.begin_job(f"{PROCESSING}/{stray.name}", stray.name, stray.name, now)
                self.archive.set_job(job, now, state="claimed")
                outcomes.append(self._run(job, stray, stray.name))
        return outcomes

    def _run(self, job: int, processing: Path, original_name: str) -> Outcome:
        now = self.clock()
        as_of = self.as_of or now.date()
        if processing.is_symlink():
            return self._reject(job, processing, original_name, "这是一个快捷方式（符号链接），不是台账文件本身。请放入文件本身。")
        sha = sha256_of(processing)
        existing = self.archive.find_by_hash(sha)
        if existing is not None:
            name = self.archive.db.execute("SELECT name FROM submissions WHERE id = ?", (existing,)).fetchone()[0]
            outcome = self._accept(job, processing, original_name, None, f"与第 {existing} 号报送内容完全相同，未重复归档",
                                   None, name)
            outcome.duplicate = True
            return outcome
        feedback = self._feedback_folder
        docs = (lambda data: (f / "打印") if (f := feedback(data)) else None) if self.documents else None
        result = pipeline(processing, as_of=as_of, config=self.config, out_dir=feedback, documents_dir=docs,
                          display_name=safe_name(original_name), text_report=True, require_enterprise=True)
        if result.error is not None:
            return self._reject(job, processing, original_name, result.error.message)
        assert result.data is not None and result.report is not None  # pipeline: no error means both
        folder = self.layout.feedback / feedback_folder(result.data)
        counts = result.report.counts()
        message = (f"错误 {counts['error']}，提醒 {counts['warning']}，发现 {counts['finding']}；"
                   f"反馈在 {FEEDBACK}/{folder.name}/")
        return self._accept(job, processing, original_name, result, message, sha, folder.name)

    def _feedback_folder(self, data: WorkbookData | None) -> Path | None:
        """Where an enterprise collects its feedback (the pipeline asks only for an archivable workbook)."""
        return None if data is None else self.layout.feedback / feedback_folder(data)

    def _accept(self, job: int, processing: Path, original_name: str, result: FileResult | None, message: str,
                sha: str | None, enterprise: str) -> Outcome:
        now = self.clock()
        final = unique_path(self.layout.processed, original_name, now)
        with self.archive.transaction() as tx:
            sid = None
            if result is not None and sha is not None:
                assert result.data is not None and result.report is not None
                sid = self.archive.add_submission(result.data, result.report, file_name=original_name, sha256=sha,
                                                  received_at=now, stored_name=final.name, config=self.config, db=tx)
            self.archive.set_job(job, now, db=tx, state="archived", destination=PROCESSED, final_name=final.name,
                                 submission_id=sid)
        self._finish(job, processing, PROCESSED, final.name, None)
        return Outcome(original_name, PROCESSED, message, enterprise, sid)

    def _reject(self, job: int, processing: Path, original_name: str, reason: str) -> Outcome:
        now = self.clock()
        final = unique_path(self.layout.returned, original_name, now)
        self.archive.set_job(job, now, state="archived", destination=RETURNED, final_name=final.name, reason=reason)
        self._finish(job, processing, RETURNED, final.name, reason)
        return Outcome(original_name, RETURNED, reason)

    def _finish(self, job: int, processing: Path, destination: str, final_name: str, reason: str | None) -> None:
        folder = self.layout.root / destination
        target = folder / final_name
        if reason is not None:
            write_text_atomic(target.with_name(target.name + ".txt"),
                          f"文件：{final_name}\n退回原因：{reason}\n\n请改正后重新放入“{INBOX}”文件夹。\n")
        if processing.exists() or processing.is_symlink():
            if target.exists():  # a crash after a rename into place is the only way here
                target = unique_path(folder, final_name, self.clock())
            os.rename(processing, target)
        self.archive.set_job(job, self.clock(), state="done")

    def _inside_inbox(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.layout.inbox.resolve())
        except ValueError:
            return False
        return True


def feedback_folder(data: WorkbookData) -> str:
    ent = data.enterprise
    uscc = ent["uscc"] if ent else ""
    name = ent["name"] if ent and ent["name"] else ""
    return safe_name(f"{name}_{uscc}" if name else uscc, fallback=uscc or "未知企业")
