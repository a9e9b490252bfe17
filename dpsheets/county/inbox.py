"""A county's shared folder: inbox → processing → processed / returned, feedback, archive.

Each file goes through a journal kept in the archive database, so that a crash (even
``kill -9``) at any moment followed by a restart ends with every file in exactly one of
已处理/ and 退回/, the archive holding each submission once and whole:

1. a job row is written (``claiming``), then the file is renamed into 处理中/ (``claimed``);
2. the per-file :func:`~dpsheets.pipeline.pipeline` runs (outputs written to temp names and renamed),
   the file read, checked and marked in a worker process with a memory cap and a timeout
   (:mod:`dpsheets.isolation`), so that whatever a file does ends as that file's 退回;
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dpsheets.config import Config
from dpsheets.county import alerts
from dpsheets.county.alerts import Alert
from dpsheets.county.archive import Archive, DuplicateSubmission
from dpsheets.fsutil import TEMP_PREFIX, environment_error, write_text_atomic
from dpsheets.isolation import Worker
from dpsheets.pipeline import FileResult, pipeline
from dpsheets.workbook.model import WorkbookData
from dpsheets.workbook.sniff import is_temp_or_lock

log = logging.getLogger(__name__)

INBOX, PROCESSING, PROCESSED, RETURNED, FEEDBACK = "收件箱", "处理中", "已处理", "退回", "反馈"
ARCHIVE_FILE = "档案.sqlite"
MAX_ATTEMPTS = 3  # starts of one file's work that ended in a crash before it is returned
LEFTOVER_AGE_S = 600  # 提醒/ is written by `dpsheets archive alerts` too, which takes no folder lock
STATE_DIR = ".dpsheets"
README = """dpsheets 台账收件文件夹
========================

把企业的双重预防体系台账（.xlsx）放进“收件箱”（可以建子文件夹）。dpsheets 会逐个检查：

  收件箱/   待处理的台账；Excel/WPS 的临时文件（~$ 开头等）会被忽略
  处理中/   正在处理的台账（程序意外停止后再次启动会继续处理，不会丢失）
  已处理/   处理完的原始文件（原样保存，从不修改；重名时加上时间）
  退回/     无法处理的文件，旁边的同名 .txt 写明原因和改正方法
  反馈/     按企业分文件夹：标注了问题的台账副本、检查报告、告知卡和通知书等文书
  提醒/     重大隐患提醒：新增的重大隐患、逾期的重大隐患，每条一个文本文件（按日期排序）
  档案.sqlite  一企一档数据库：每家企业每次报送的记录（用 dpsheets archive 查看）
"""

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
NAME_BYTES = 150  # of a file system's 255 bytes per name: room for "_20261128-101010_2", "_检查结果.xlsx", ".txt"


def clip_bytes(text: str, limit: int) -> str:
    """*text* cut to at most *limit* UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def safe_name(name: str, fallback: str = "未命名", limit: int = NAME_BYTES) -> str:
    """A single path component made from user text: no separators, no dots-only, at most *limit*
    UTF-8 bytes (file systems count bytes: 70 emoji are 280), keeping a short extension."""
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip().strip(".").strip()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C") or ch == " ")
    stem, suffix = os.path.splitext(text)
    if len(suffix.encode()) > 10:
        stem, suffix = text, ""
    text = (clip_bytes(stem, limit - len(suffix.encode())).strip() + suffix).strip()
    return text if text and text.strip(".") else fallback


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
        out: list[Path] = []
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
    alerts: list[Alert] = field(default_factory=list)  # major-hazard alerts this file raised (提醒/)

    def line(self) -> str:
        mark = "✓" if self.destination == PROCESSED else "✗"
        who = f"（{self.enterprise}）" if self.enterprise else ""
        return f"{mark} {self.name}{who} → {self.destination}：{self.message}"


Clock = Callable[[], datetime]


class Processor:
    """Processes inbox files one at a time through the journal. Used by ``watch`` and ``ingest``."""

    def __init__(self, root: Path, *, as_of: date | None, config: Config | None = None, documents: bool = True,
                 archive_path: str | Path | None = None, clock: Clock = datetime.now,
                 on_alert: Callable[[Alert], None] | None = None) -> None:
        self.layout = Layout(root)
        self.layout.create()
        self.config = config or Config()
        self.as_of = as_of  # None: the date of each file's arrival
        self.documents = documents
        self.clock = clock
        self.archive = Archive(archive_path or root / ARCHIVE_FILE)
        self.worker = Worker(self.config.limits)  # reads every incoming file (started at the first one)
        if self.config.qr_base_url and not self.config.qr_secret:  # printed QR codes open `dpsheets serve`
            from dataclasses import replace

            from dpsheets.web.store import QR_SECRET

            self.config = replace(self.config, qr_secret=self.archive.secret(QR_SECRET))
        self.folder = str(self.layout.root.resolve())  # this folder's entries in a journal shared by many
        self.on_alert = on_alert or (lambda a: log.warning("%s", a.line()))

    def close(self) -> None:
        self.worker.close()
        self.archive.close()

    # --- steps ------------------------------------------------------------------------------

    def process(self, source: Path) -> Outcome | None:
        """Claim *source* from the inbox and process it; None if it vanished meanwhile."""
        if not self._inside_inbox(source):
            raise ValueError(f"{source} is not in the inbox")
        now = self.clock()
        relative = source.relative_to(self.layout.inbox)
        processing = unique_path(self.layout.processing, source.name, now)
        job = self.archive.begin_job(str(relative), source.name, processing.name, now, folder=self.folder)
        try:
            os.rename(source, processing)
        except FileNotFoundError:
            self.archive.set_job(job, now, state="done", destination="gone", reason="文件在处理前被移走")
            return None
        self.archive.set_job(job, now, state="claimed")
        return self._run(job, processing, source.name)

    def recover(self) -> list[Outcome]:
        """Finish what a crash interrupted; then take up files left in 处理中/ without a job."""
        self.remove_leftovers()
        outcomes = []
        for job in self.archive.unfinished_jobs(self.folder):
            try:
                outcome = self._recover_job(job)
            except Exception as exc:  # noqa: BLE001 - one job must never keep the others from recovering
                env = environment_error(exc, archive=self.archive.where, path=self.layout.root)
                if env is not None:
                    raise env from exc  # the machine's fault (disk full, archive unreachable): stop, nothing is lost
                log.exception("recovering job %s (%s) failed; it is retried at the next start", job["id"], job["original_name"])
                continue
            if outcome is not None:
                outcomes.append(outcome)
        known = self.archive.job_names(self.folder)
        for stray in sorted(self.layout.processing.iterdir()):
            if (stray.is_file() or stray.is_symlink()) and stray.name not in known and not stray.name.startswith(TEMP_PREFIX):
                now = self.clock()
                stray_job = self.archive.begin_job(f"{PROCESSING}/{stray.name}", stray.name, stray.name, now,
                                                   folder=self.folder)
                self.archive.set_job(stray_job, now, state="claimed")
                outcomes.append(self._run(stray_job, stray, stray.name))
        return outcomes

    def remove_leftovers(self) -> list[Path]:
        """Remove the temporary files (``.dpsheets-*``, :func:`dpsheets.fsutil.atomic_path`) that a crash
        (``kill -9`` while a highlighted copy, a report or a reason was being saved) left in the folders
        this processor writes; the real outputs beside them are whole (they are replaced only by a rename).
        Called under the folder lock, so none is being written now; in 提醒/, which ``dpsheets archive
        alerts`` also writes, only those older than :data:`LEFTOVER_AGE_S`."""
        import time

        from dpsheets.county.alerts import FOLDER as ALERTS

        removed = []
        folders = [(self.layout.feedback, 0.0), (self.layout.returned, 0.0), (self.layout.processing, 0.0),
                   (self.layout.state, 0.0), (self.layout.root / ALERTS, time.time() - LEFTOVER_AGE_S)]
        for folder, before in folders:
            for path in folder.rglob(f"{TEMP_PREFIX}*") if folder.is_dir() else ():
                try:
                    if path.is_file() and not path.is_symlink() and (not before or path.stat().st_mtime < before):
                        path.unlink()
                        removed.append(path)
                except FileNotFoundError:
                    continue
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted run", len(removed))
        return removed

    def _recover_job(self, job: Mapping[str, Any]) -> Outcome | None:
        processing = self.layout.processing / job["processing_name"]
        state = job["state"]
        present = processing.exists() or processing.is_symlink()
        if state == "claiming":
            if not present:  # the rename never happened: the file is still in the inbox and will be taken again
                self.archive.set_job(job["id"], self.clock(), state="done", destination="gone", reason="认领前中断")
                return None
            state = "claimed"
            self.archive.set_job(job["id"], self.clock(), state=state)
        if state == "claimed":
            if present:
                return self._run(job["id"], processing, job["original_name"])
            self.archive.set_job(job["id"], self.clock(), state="done", destination="gone", reason="文件已不在处理中")
        elif state == "archived":
            self._finish(job["id"], processing, job["destination"], job["final_name"], job["reason"])
            return Outcome(job["original_name"], job["destination"], "中断后已完成归档")
        return None

    def _run(self, job: int, processing: Path, original_name: str) -> Outcome:
        """Process one claimed file. Whatever the file does, it ends in 已处理 or 退回; only the
        machine's faults (disk full, folder not writable, archive unreachable) raise, as a
        :class:`DpsheetsError` naming the path, and leave the file in 处理中 for the next run."""
        attempts = self._attempts(job, +1)
        try:
            if attempts > MAX_ATTEMPTS:
                outcome = self._reject(job, processing, original_name,
                                       f"处理这个文件时程序已 {attempts - 1} 次意外中断，为不影响其他文件，已将它退回。"
                                       "请用 Excel 打开后“另存为”新的 .xlsx 文件再提交；如仍如此，请联系县应急管理局。")
            else:
                outcome = self._work(job, processing, original_name)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - one file must never stop the county
            env = environment_error(exc, archive=self.archive.where, own_file=processing, path=self.layout.root)
            if env is not None:
                raise env from exc
            log.exception("processing %s failed", original_name)
            outcome = self._reject(job, processing, original_name,
                                   f"处理时发生意外错误（{type(exc).__name__}），无法检查这个文件。"
                                   "请用 Excel 打开后“另存为”新的 .xlsx 文件再提交；如仍如此，请联系县应急管理局。")
        self._attempts(job, None)
        return outcome

    def _attempts(self, job: int, change: int | None) -> int:
        """Count the starts of a job's work (a crash inside it leaves the count up); None clears it."""
        marker = self.layout.state / "attempts" / str(job)
        if change is None:
            marker.unlink(missing_ok=True)
            return 0
        try:
            count = int(marker.read_text() or 0) + change
        except (FileNotFoundError, ValueError):
            count = change
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, str(count))
        return count

    def _work(self, job: int, processing: Path, original_name: str) -> Outcome:
        now = self.clock()
        as_of = self.as_of or now.date()
        if processing.is_symlink():
            return self._reject(job, processing, original_name, "这是一个快捷方式（符号链接），不是台账文件本身。请放入文件本身。")
        if not processing.is_file():
            return self._reject(job, processing, original_name, "这不是一个普通文件（可能是设备文件或管道）。请放入 Excel 台账文件。")
        try:
            sha = sha256_of(processing)
        except OSError as exc:
            return self._reject(job, processing, original_name, f"文件无法读取（{exc.strerror}）。请确认文件没有被其他程序占用、有读取权限后重新提交。")
        existing = self.archive.find_by_hash(sha)
        if existing is not None:
            return self._duplicate(job, processing, original_name, existing)
        feedback = self._feedback_folder
        docs = (lambda data: (f / "打印") if (f := feedback(data)) else None) if self.documents else None
        result = pipeline(processing, as_of=as_of, config=self.config, out_dir=feedback, documents_dir=docs,
                          display_name=safe_name(original_name), text_report=True, require_enterprise=True,
                          reader=self.worker)
        if result.error is not None:
            if environment_error(result.error) is not None:  # the machine's (a worker that cannot start): it waits
                raise result.error
            return self._reject(job, processing, original_name, result.error.message)
        if result.environment is not None:  # the feedback could not be written: not the file's fault
            raise result.environment
        assert result.data is not None and result.report is not None  # pipeline: no error means both
        folder = self.layout.feedback / feedback_folder(result.data)
        counts = result.report.counts()
        message = (f"错误 {counts['error']}，提醒 {counts['warning']}，发现 {counts['finding']}；"
                   f"反馈在 {FEEDBACK}/{folder.name}/")
        try:
            return self._accept(job, processing, original_name, result, message, sha, folder.name)
        except DuplicateSubmission as dup:  # another process archived the same content meanwhile
            return self._duplicate(job, processing, original_name, dup.submission_id)

    def _duplicate(self, job: int, processing: Path, original_name: str, existing: int | None) -> Outcome:
        name = self.archive.submission_name(existing) if existing is not None else ""
        outcome = self._accept(job, processing, original_name, None, f"与第 {existing} 号报送内容完全相同，未重复归档",
                               None, name)
        outcome.duplicate = True
        return outcome

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
                alerts.raise_for_submission(tx, sid, as_of=self.as_of or now.date(), now=now, folder=self.folder)
            self.archive.set_job(job, now, db=tx, state="archived", destination=PROCESSED, final_name=final.name,
                                 submission_id=sid)
        told = self.write_alerts()  # before the file lands in 已处理: whoever sees it there sees the alerts too
        self._finish(job, processing, PROCESSED, final.name, None)
        return Outcome(original_name, PROCESSED, message, enterprise, sid, alerts=told)

    # --- major-hazard alerts (dpsheets.county.alerts) ------------------------------------------

    def write_alerts(self) -> list[Alert]:
        """Write this folder's pending alerts to 提醒/ and tell :attr:`on_alert` of each. A file that cannot be
        written (disk full) stays pending in the archive and is written at the next pass."""
        try:
            written = alerts.write_pending(self.archive, self.layout.root, self.folder)
        except OSError as exc:
            env = environment_error(exc, path=self.layout.root / alerts.FOLDER)
            log.error("%s", env.message if env else f"提醒文件无法写入（{exc}），下次处理时重试。")
            return []
        for alert in written:
            self.on_alert(alert)
        return written

    def alert_pass(self, as_of: date | None = None) -> list[Alert]:
        """Raise an alert for each 重大隐患 overdue on *as_of* (default: the processor's, else today by its clock)
        in the enterprises' latest submissions, once; then write the pending alert files."""
        day = as_of or self.as_of or self.clock().date()
        with self.archive.transaction() as tx:
            alerts.raise_overdue(tx, as_of=day, now=self.clock())
        return self.write_alerts()

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
            if target.exists() or target.is_symlink():  # a crash after a rename into place is the only way here
                target = unique_path(folder, final_name, self.clock())
            os.rename(processing, target)
        self.archive.set_job(job, self.clock(), state="done")

    def _inside_inbox(self, path: Path) -> bool:
        try:  # the folder resolved, not the file: a symlink in the inbox is the inbox's to return
            (path.parent.resolve() / path.name).relative_to(self.layout.inbox.resolve())
        except ValueError:
            return False
        return True


def feedback_folder(data: WorkbookData) -> str:
    """企业名称_代码: the name cut by bytes so that the credit code always survives (two
    enterprises whose long names agree must never share a folder)."""
    ent = data.enterprise
    uscc = safe_name(str(ent["uscc"] or ""), fallback="") if ent else ""
    name = safe_name(str(ent["name"]), fallback="", limit=NAME_BYTES - len(uscc.encode()) - 1) if ent and ent["name"] else ""
    return f"{name}_{uscc}" if name and uscc else (name or uscc or "未知企业")

