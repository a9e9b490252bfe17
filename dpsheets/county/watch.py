"""Watching a county's shared folder: every dropped workbook processed once, nothing lost.

Events come from watchdog (inotify, or a polling observer for network shares, where
inotify misses changes). Events only nominate candidates; a candidate is taken when its
size and mtime have been stable for ``settle`` seconds *and* it opens as a zip (a stalled
copy can look stable), or after ``stall`` seconds of stability for a file that never will
(it is then returned with its reason). Office/WPS lock and temp files are ignored, a
rename into the inbox is seen through its destination, duplicate events are harmless and
the inbox is rescanned periodically. One watcher per folder (a lock file).
"""

from __future__ import annotations

import logging
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from dpsheets.county.inbox import Layout, Outcome, Processor
from dpsheets.errors import DpsheetsError
from dpsheets.fsutil import environment_error
from dpsheets.workbook.sniff import ZIP_MAGIC, is_temp_or_lock

log = logging.getLogger(__name__)


@dataclass
class _Seen:
    size: int
    mtime: int
    stable_since: float


@dataclass
class Tracker:
    """Candidate files and their stability; :meth:`ready` returns those safe to take."""

    settle: float = 0.5
    stall: float = 30.0
    clock: Callable[[], float] = time.monotonic
    seen: dict[Path, _Seen | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def see(self, path: Path) -> None:
        if is_temp_or_lock(path):
            return
        with self.lock:
            self.seen.setdefault(path, None)

    def ready(self) -> list[Path]:
        now = self.clock()
        out = []
        with self.lock:
            candidates = list(self.seen)
        for path in candidates:
            try:
                st = path.lstat()
            except FileNotFoundError:
                self._drop(path)
                continue
            if not path.is_file() and not path.is_symlink():
                self._drop(path)
                continue
            state = self.seen.get(path)
            if state is None or (state.size, state.mtime) != (st.st_size, st.st_mtime_ns):
                self.seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                continue
            stable_for = now - state.stable_since
            if stable_for >= self.settle and (_complete(path) or stable_for >= self.stall):
                out.append(path)
                self._drop(path)
        return out

    def _drop(self, path: Path) -> None:
        with self.lock:
            self.seen.pop(path, None)


def _complete(path: Path) -> bool:
    """A zip is complete when its central directory reads; other files cannot tell, so yes."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
        if head != ZIP_MAGIC:
            return bool(head)
        with zipfile.ZipFile(path) as z:
            z.infolist()
        return True
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


class _Handler(FileSystemEventHandler):
    def __init__(self, tracker: Tracker, rescan: threading.Event) -> None:
        self.tracker = tracker
        self.rescan = rescan

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write", "deleted"):
            return
        path = str(getattr(event, "dest_path", "") or event.src_path)
        if event.is_directory:
            self.rescan.set()  # a folder moved or copied in: look inside it
        elif path:
            self.tracker.see(Path(path))


def acquire_lock(layout: Layout) -> FileLock:
    lock = FileLock(str(layout.state / "watch.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise DpsheetsError("watch.locked", f"另一个 dpsheets 正在处理文件夹 {layout.root}（锁文件 {lock.lock_file}）。"
                                            "同一文件夹只能运行一个 watch/ingest；请先停止另一个。", exit_code=3) from exc
    return lock


def watch(processor: Processor, *, poll: float | None = None, settle: float = 0.5, stall: float = 30.0,
          rescan_every: float = 30.0, tick: float = 0.1, stop: threading.Event | None = None,
          report: Callable[[Outcome], None] = lambda o: None, started: Callable[[], None] = lambda: None,
          trouble: Callable[[DpsheetsError], None] = lambda e: log.error("%s", e)) -> None:
    """Process the inbox until *stop* is set (or Ctrl-C); *started* is called once the folder is locked.

    The machine's faults (disk full, a folder not writable) go to *trouble* and the watcher goes on:
    the file waits in 处理中 and is finished at the next start.
    """
    layout = processor.layout
    stop = stop or threading.Event()
    lock = acquire_lock(layout)
    tracker = Tracker(settle=settle, stall=stall)
    rescan = threading.Event()
    observer = PollingObserver(timeout=poll) if poll else Observer()
    observer.schedule(_Handler(tracker, rescan), str(layout.inbox), recursive=True)
    try:
        started()
        try:
            for recovered in processor.recover():
                report(recovered)
        except DpsheetsError as exc:
            trouble(exc)
        observer.start()
        last_scan = -rescan_every
        alerted_on = None  # the day of the last periodic pass of major-hazard alerts (once a day)
        while not stop.is_set():
            today = processor.as_of or processor.clock().date()
            if today != alerted_on:
                alerted_on = today  # a failure is not retried in a loop: tomorrow, or at the next start
                try:
                    processor.alert_pass(today)
                except Exception as exc:  # noqa: BLE001 - the watcher goes on; alerts stay in the archive
                    env = environment_error(exc, archive=processor.archive.where, path=layout.root)
                    if env is None:
                        log.exception("the periodic pass of major-hazard alerts failed")
                    else:
                        trouble(env)
            if rescan.is_set() or time.monotonic() - last_scan >= rescan_every:
                rescan.clear()
                last_scan = time.monotonic()
                for path in layout.inbox_files():
                    tracker.see(path)
            for path in tracker.ready():
                try:
                    outcome = _take(processor, path)
                except DpsheetsError as exc:
                    trouble(exc)
                    continue
                if outcome is not None:
                    report(outcome)
            stop.wait(tick)
    finally:
        if observer.is_alive():
            observer.stop()
            observer.join(timeout=5)
        lock.release()


def _take(processor: Processor, path: Path) -> Outcome | None:
    """Process one inbox file. A file's own failures end as 退回 inside :meth:`Processor.process`;
    the machine's (disk full, folder not writable) raise :class:`DpsheetsError` naming the path."""
    try:
        return processor.process(path)
    except DpsheetsError:
        raise
    except Exception as exc:  # noqa: BLE001 - the watcher must survive anything one file does
        env = environment_error(exc, archive=processor.archive.path, path=processor.layout.root)
        if env is not None:
            raise env from exc
        log.exception("processing %s failed; it stays where it is and is retried", path)
        return None


def ingest(processor: Processor, *, progress: Callable[[int, int, Path], None] = lambda i, n, p: None,
           report: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """One-off batch: recover, then process every file in the inbox now.

    Raises :class:`DpsheetsError` (naming the path) when the machine fails (disk full, a folder
    not writable, the archive unreachable); the outcomes so far have been reported by then.
    """
    lock = acquire_lock(processor.layout)
    try:
        outcomes = processor.recover()
        for o in outcomes:
            report(o)
        files = processor.layout.inbox_files()
        for i, path in enumerate(files):
            progress(i, len(files), path)
            outcome = _take(processor, path)
            if outcome is not None:
                outcomes.append(outcome)
                report(outcome)
        processor.alert_pass()  # major hazards that passed their deadline without a new submission
        return outcomes
    finally:
        lock.release()
