"""Reading untrusted workbooks in a worker process with a memory cap and a timeout.

The reader measures every sheet from its XML before a dense read (:mod:`dpsheets.workbook.bounds`)
and turns calamine's panics into messages, but a county process that runs for months must not
depend on that having foreseen every input: an abort inside a native library, a pathological
shared-strings table or a bomb in a part nobody measures would take the watcher down with it.
So the county (``watch``, ``ingest`` and ``recover`` through :class:`~dpsheets.county.inbox.Processor`)
reads, checks and marks each file in a :class:`Worker`:

- one long-lived child process (``python -m dpsheets.isolation``), reused from file to file: its
  imports are paid once, when the first file arrives, and again only after it died. Requests and
  answers are pickles over its stdin and stdout. A plain subprocess rather than ``multiprocessing``:
  it never imports the parent's ``__main__`` (a script without a ``__main__`` guard stays safe) and
  behaves the same on every platform.
- its address space is capped (``RLIMIT_AS``, ``[limits] memory_mb``) and every request has a wall-clock
  limit (``[limits] timeout_s``); past it the child is killed. Windows has no ``RLIMIT_AS``: there only
  the timeout applies (and a child that dies is still only that file's failure).
- a child that dies — a signal, an abort (exit 134), ``MemoryError``, the timeout — is that file's
  :class:`DpsheetsError` (``file.timeout``, ``file.memory``, ``file.crashed``), whose Chinese message says
  what happened; the county returns the file with it and goes on with the next one.

The child is the county's own code and runs as the same user: it isolates failures, not privileges.
``dpsheets check`` on a clerk's own files reads in-process (see :func:`dpsheets.pipeline.pipeline`):
one command on one file needs no second process, and the XML pre-scan keeps it alive.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, Any

from dpsheets.config import Config, Limits
from dpsheets.errors import FATAL, DpsheetsError
from dpsheets.rules.problems import Report
from dpsheets.workbook.model import WorkbookData

log = logging.getLogger(__name__)

PRELOAD = ("dpsheets.pipeline", "dpsheets.feedback.highlight")  # imported before the worker says it is ready
START_SECONDS = 120.0  # a worker importing everything on a loaded machine
GRACE_SECONDS = 5  # the child's own alarm, after the parent's timeout, in case the parent is gone
LOG_TAIL = 65536
# what a process that ran out of address space leaves on stderr: Rust (calamine), Python, C++, C
_MEMORY_WORDS = ("memory allocation of", "MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")
TOO_BIG = ("文件可能含有大量无关内容（多余的行、列、文字或图片）。请删除后用 Excel“另存为”新的 .xlsx 文件再提交；"
           "如仍如此，请联系县应急管理局。")
RESAVE = "请用 Excel 打开后“另存为”新的 .xlsx 文件再提交；如仍如此，请联系县应急管理局。"


# --- the child -----------------------------------------------------------------------------------

def _check(path: Path, as_of: date, config: Config) -> tuple[WorkbookData, Report]:
    from dpsheets.pipeline import check

    return check(path, as_of, config)


def _mark(original: Path, report: Report, out: Path, name: str) -> None:
    from dpsheets.feedback.highlight import save_highlighted

    save_highlighted(original, report, out, name)


TASKS: dict[str, Callable[..., Any]] = {"check": _check, "mark": _mark}


def _cap_memory(memory_mb: int) -> bool:
    """Cap this process's address space; False where the platform cannot (Windows has no RLIMIT_AS)."""
    try:
        import resource
    except ImportError:  # Windows: the timeout is the only limit there
        return False
    limit = memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return True


def _answer(task: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", TASKS[task](*args)
    except DpsheetsError as exc:
        return "error", (exc.code, exc.message, exc.path)
    except MemoryError:
        return "memory", None
    except OSError as exc:  # the parent tells the machine's faults (disk full) from the file's
        return "oserror", (exc.errno, exc.strerror, exc.filename)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure is this file's, reported to the parent
        return "failed", type(exc).__name__


def serve(requests: IO[bytes], answers: IO[bytes], memory_mb: int, timeout_s: float) -> None:
    """The worker's loop: answer ``(task, args)`` requests until the parent goes away (or sends None).

    Answers are ``("ok", value)``, ``("error", (code, message, path))`` for a :class:`DpsheetsError`,
    ``("oserror", (errno, strerror, filename))``, ``("failed", exception type name)`` or
    ``("memory", None)``, after which the worker exits: its heap is not to be trusted."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the worker, not the file
    for module in PRELOAD:
        __import__(module)
    _cap_memory(memory_mb)
    alarm = getattr(signal, "alarm", None)  # POSIX: an orphan (its parent killed) still ends on its own
    _send(answers, ("ready", os.getpid()))
    while True:
        try:
            request = pickle.load(requests)
        except (EOFError, OSError, pickle.UnpicklingError):
            return  # the parent is gone
        if request is None:
            return
        _send(answers, ("taken", None))  # from here on, a death is this request's
        if alarm is not None:
            alarm(int(timeout_s) + GRACE_SECONDS)
        answer = _answer(*request)
        if alarm is not None:
            alarm(0)
        try:
            _send(answers, answer)
        except MemoryError:
            _send(answers, ("memory", None))
            return
        except OSError:
            return  # the parent is gone
        if answer[0] == "memory":
            return


def _send(stream: IO[bytes], message: Any) -> None:
    pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


def main(argv: list[str]) -> None:
    """``python -m dpsheets.isolation MEMORY_MB TIMEOUT_S``: answers on the original stdout; anything
    else written to stdout or stderr (by native libraries too) goes to stderr, which the parent keeps."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, answers, int(argv[0]), float(argv[1]))


# --- the parent ----------------------------------------------------------------------------------

class Worker:
    """A worker process for one county processor: :meth:`check` and :meth:`mark` a file under *limits*.

    Satisfies :class:`dpsheets.pipeline.Reader`. One request at a time."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._process: subprocess.Popen[bytes] | None = None
        self._answers: queue.Queue[Any] = queue.Queue()
        self._log = Path(tempfile.mkdtemp(prefix="dpsheets-worker-")) / "stderr.log"
        self.starts = 0  # child processes started: the first, and one after each death
        self.current = Path()  # the file being worked on (for the messages)
        self.task = ""  # what is being done to it: "check" or "mark"
        self.busy = False  # the worker has taken a request and is working on it (tests watch it)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # --- the Reader protocol ----------------------------------------------------------------------

    def check(self, path: Path, as_of: date, config: Config) -> tuple[WorkbookData, Report]:
        """Read and check *path* in the worker; raises :class:`DpsheetsError` when it cannot be read,
        the worker died (``file.memory``, ``file.crashed``) or the time ran out (``file.timeout``)."""
        data, report = self._call("check", (Path(path), as_of, config))
        return data, report

    def mark(self, original: Path, report: Report, out: Path, name: str) -> str | None:
        """Save the highlighted copy of *original* as *out*. When the worker fails on it, the copy holds
        the 检查结果 sheet alone (written here, from the report, without reading the file) and the
        returned note says why."""
        try:
            self._call("mark", (Path(original), report, Path(out), name))
            return None
        except DpsheetsError as exc:
            from dpsheets.feedback.highlight import save_results_only

            what = FATAL[exc.code].title if exc.code in FATAL else exc.code
            save_results_only(report, out, name, why=f"复制原工作簿时{what}。")
            return f"复制原工作簿时{what}，标注副本只列出检查结果。"

    # --- the process ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker (it also stops by itself when this process ends)."""
        process, self._process = self._process, None
        if process is not None:
            try:
                assert process.stdin is not None
                _send(process.stdin, None)
                process.stdin.close()
                process.wait(5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        for leftover in (self._log, self._log.parent):
            with contextlib.suppress(OSError):
                leftover.unlink() if leftover.is_file() else leftover.rmdir()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        import dpsheets

        self._log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)  # the child imports the same dpsheets as this process
        home = str(Path(dpsheets.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (home, env.get("PYTHONPATH")) if p)
        env["RUST_BACKTRACE"] = "0"  # a panic's message, not pages of frames
        self._log.write_bytes(b"")
        try:
            with self._log.open("ab") as log_file:  # appending: the parent empties it before each request
                process = subprocess.Popen([sys.executable, "-m", "dpsheets.isolation", str(self.limits.memory_mb),
                                            repr(self.limits.timeout_s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=log_file, env=env)
        except OSError as exc:
            raise _not_started(exc.strerror or str(exc)) from exc
        self._process, self._answers = process, queue.Queue()
        self.starts += 1
        threading.Thread(target=_listen, args=(process.stdout, self._answers), name="dpsheets-worker-answers",
                         daemon=True).start()
        try:
            ready = self._answers.get(timeout=START_SECONDS)
        except queue.Empty:
            ready = None
        if ready is None or ready[0] != "ready":
            tail = self._tail()
            died = self._died(START_SECONDS if ready is None else None)
            log.error("the reading worker did not start (%s): %s", died.code, tail.strip()[-2000:])
            raise _not_started(FATAL[died.code].title)  # the machine's fault, never the file's
        return process

    def _call(self, task: str, args: tuple[Any, ...]) -> Any:
        self.current, self.task = Path(args[0]), task
        started = time.monotonic()
        for _attempt in range(2):
            process = self._process
            if process is None or process.poll() is not None:
                if process is not None:
                    self._died(None)  # died while idle (killed from outside): start afresh
                process = self._start()
            kind, value, taken = self._ask(process, (task, args))
            if kind != "dead" or taken:
                break
            self._died(None)  # it died before it took the request, so not because of it: once more
        log.debug("worker %s %s: %s in %.3f s", task, args[0], kind, time.monotonic() - started)
        if kind == "ok":
            return value
        if kind == "error":
            code, message, path = value
            raise DpsheetsError(code, message, path=path)
        if kind == "oserror":
            raise OSError(*value)
        if kind == "failed":
            raise DpsheetsError("file.unexpected", f"“{self.current.name}”读取时发生意外错误（{value}），无法检查这个文件。{RESAVE}",
                                path=str(self.current))
        if kind == "memory":
            self._died(None)
            raise self._memory_error()
        raise self._died(self.limits.timeout_s if kind == "timeout" else None)

    def _ask(self, process: subprocess.Popen[bytes], request: tuple[str, tuple[Any, ...]]) -> tuple[str, Any, bool]:
        """Send *request*; its answer (kind, value) and whether the worker took it before it ended."""
        assert process.stdin is not None
        deadline = time.monotonic() + self.limits.timeout_s
        taken = False
        try:
            with contextlib.suppress(OSError):  # what the worker writes from now on is about this request
                os.truncate(self._log, 0)
            with contextlib.suppress(OSError):  # a worker that is gone: its answers end too
                _send(process.stdin, request)
            while True:
                answer = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
                if answer is None:
                    return "dead", None, taken
                if answer[0] != "taken":
                    return answer[0], answer[1], True
                taken = self.busy = True
        except queue.Empty:
            return "timeout", None, taken
        finally:
            self.busy = False

    def _died(self, timeout: float | None) -> DpsheetsError:
        """Reap the child (killing it first when *timeout* ran out) and say what happened to it."""
        process, self._process = self._process, None
        assert process is not None
        if timeout is not None:
            process.kill()
        try:
            code = process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        tail = self._tail()
        if tail.strip():
            log.info("the reading worker (pid %s) left on stderr: %s", process.pid, tail.strip()[-500:])
        name, where = self.current.name, str(self.current)
        if timeout is not None:
            return DpsheetsError("file.timeout", f"“{name}”读取超时（{timeout:g} 秒），无法检查这个文件。{TOO_BIG}", path=where)
        if any(word in tail for word in _MEMORY_WORDS):
            return self._memory_error()
        how = f"信号 {-code}" if code < 0 else f"退出码 {code}"
        return DpsheetsError("file.crashed", f"“{name}”读取进程异常退出（{how}），无法检查这个文件。{RESAVE}", path=where)

    def _memory_error(self) -> DpsheetsError:
        return DpsheetsError("file.memory", f"“{self.current.name}”读取时内存超过 {self.limits.memory_mb} MB，无法检查这个文件。{TOO_BIG}",
                             path=str(self.current))

    def _tail(self) -> str:
        try:
            with self._log.open("rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - LOG_TAIL))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def _not_started(why: str) -> DpsheetsError:
    return DpsheetsError("env.worker", f"无法启动读取台账的子进程（{why}）。请检查本机的内存和进程数是否耗尽后重新运行；"
                                       "未处理完的文件仍在“处理中”，下次运行会继续处理。")


def _listen(stream: IO[bytes], answers: queue.Queue[Any]) -> None:
    """Put each answer of a worker on *answers*; None once its output ends (it exited or died)."""
    try:
        while True:
            answers.put(pickle.load(stream))
    except Exception:  # noqa: BLE001 - EOF, a cut pickle: the worker is gone either way
        answers.put(None)


def platform_note() -> str:
    """How the worker is limited here (for logs and the benchmark)."""
    return "timeout only (no RLIMIT_AS on Windows)" if sys.platform == "win32" else "RLIMIT_AS + timeout"


if __name__ == "__main__":
    main(sys.argv[1:])
