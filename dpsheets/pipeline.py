"""The per-file work, in one place: read → check → report → highlighted copy (→ text report, documents).

``dpsheets check``, ``docs``, ``demo`` and the folder watcher all call :func:`pipeline`; it writes every
output of one file and returns what it wrote. It never raises for a bad file: an unreadable file (or,
for the archive, one without a valid enterprise) comes back as a result with its :class:`DpsheetsError`.

The two steps that parse the file itself (read+check, and the highlighted copy) go through a
:class:`Reader`. ``check``, ``docs`` and ``demo`` read in this process (:data:`COMMAND`; the library's
default is :data:`IN_PROCESS`): a clerk checking a file on their own machine needs no second process, and
the XML pre-scan of the reader keeps the command alive on every poison file known. The county's ``watch`` and ``ingest``, which run unattended on
whatever arrives, use a :class:`dpsheets.isolation.Worker`: a process with a memory cap and a timeout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

from dpsheets.config import Config
from dpsheets.errors import EXIT_DATA_ERRORS, EXIT_FATAL, EXIT_OK, NOTICES, DpsheetsError
from dpsheets.fsutil import atomic_path, environment_error
from dpsheets.rules.checks import check_workbook
from dpsheets.rules.findings import find
from dpsheets.rules.problems import Report
from dpsheets.workbook.model import WorkbookData
from dpsheets.workbook.reader import read_workbook


def _log():  # noqa: ANN202 - logging is imported only when something goes wrong
    import logging

    return logging.getLogger(__name__)

EXIT_UNREADABLE = EXIT_FATAL  # a file that cannot be read (see dpsheets.errors.EXIT_CODES)


@dataclass
class FileResult:
    """What :func:`pipeline` did with one file: its data and report, or its error, and what it wrote."""

    path: Path
    data: WorkbookData | None = None
    report: Report | None = None
    error: DpsheetsError | None = None
    highlighted: Path | None = None
    documents: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # outputs that could not be written, in Chinese
    environment: DpsheetsError | None = None  # an output failed for the machine's fault (disk full, folder not writable)
    info: list[str] = field(default_factory=list)  # e.g. document kinds with nothing to print
    notices: list[str] = field(default_factory=list)  # codes of dpsheets.errors.NOTICES: the machine, not the file
    display_name: str | None = None  # the name the file is known by (the watcher's copy has another)
    text_report: Path | None = None  # 检查报告.txt, when asked for

    @property
    def name(self) -> str:
        """The file's name as the user knows it."""
        return self.display_name or str(self.path)

    @property
    def valid(self) -> bool:
        return self.error is None and self.report is not None and self.report.valid

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_UNREADABLE
        return EXIT_OK if self.valid else EXIT_DATA_ERRORS

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": str(self.path), "valid": self.valid}
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message}
            out["problems"] = []
            return out
        assert self.report is not None
        out["counts"] = self.report.counts()
        out["problems"] = [p.to_dict() for p in self.report.sorted()]
        ent = self.data.enterprise if self.data else None
        if ent is not None:
            out["enterprise"] = {"name": ent["name"], "uscc": ent["uscc"], "county": ent["county"]}
        if self.data is not None:
            out["template_version"] = self.data.template_version
            out["records"] = self.data.counts()
        out["highlighted"] = str(self.highlighted) if self.highlighted else None
        out["documents"] = [str(p) for p in self.documents]
        if self.notes:
            out["notes"] = self.notes
        if self.notices:
            out["notices"] = [{"code": code, "message": NOTICES[code].message} for code in self.notices]
        return out


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def workbook_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expanded to the workbooks inside them (lock files and our own copies skipped).

    Raises ``input.none`` when that leaves nothing to check.
    """
    from dpsheets.workbook.sniff import is_temp_or_lock

    given = [Path(p) for p in paths]
    out: list[Path] = []
    for p in given:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in WORKBOOK_SUFFIXES
                              and not is_temp_or_lock(f) and not f.stem.endswith("_检查结果")))
        else:
            out.append(p)
    if not out:
        raise DpsheetsError("input.none", f"在 {'、'.join(map(str, given))} 中没有找到 .xlsx 台账文件。")
    return out


def check(path: str | Path, as_of: date, config: Config | None = None) -> tuple[WorkbookData, Report]:
    """Read and check one workbook. Raises :class:`DpsheetsError` when it cannot be read."""
    config = config or Config()
    data = read_workbook(path, config)
    report = Report(list(data.problems))
    report.extend(check_workbook(data, as_of, config))
    report.extend(find(data, as_of, config))
    return data, report


class Reader(Protocol):
    """Where a file is parsed: in this process (:class:`InProcess`) or in a worker (:mod:`dpsheets.isolation`)."""

    def check(self, path: Path, as_of: date, config: Config) -> tuple[WorkbookData, Report]:
        """:func:`check`; raises :class:`DpsheetsError` when the file cannot be read."""

    def mark(self, original: Path, report: Report, out: Path, name: str) -> str | None:
        """Save the highlighted copy of *original* as *out*; a note in Chinese when it is not the whole copy."""


class InProcess:
    """The file is parsed in this process. *hold_stderr*: for a command, whose one thread's stderr is the
    user's (see :func:`native_stderr_held`); never in a server, whose other threads write there too."""

    def __init__(self, *, hold_stderr: bool = False) -> None:
        self.hold_stderr = hold_stderr

    def check(self, path: Path, as_of: date, config: Config) -> tuple[WorkbookData, Report]:
        if self.hold_stderr:
            return native_stderr_held(lambda: check(path, as_of, config))
        return check(path, as_of, config)

    def mark(self, original: Path, report: Report, out: Path, name: str) -> str | None:
        from dpsheets.feedback.highlight import save_highlighted  # openpyxl only when a copy is written

        save_highlighted(original, report, out, name)
        return None


IN_PROCESS = InProcess()
COMMAND = InProcess(hold_stderr=True)  # `dpsheets check`, `docs`, `demo`

T = TypeVar("T")


def native_stderr_held(work: Callable[[], T]) -> T:
    """*work* (a parse by python-calamine) with what is written to file descriptor 2 meanwhile held back, and
    passed on afterwards unless *work* raised. A calamine panic becomes the file's Chinese message; Rust's
    own panic message (and with RUST_BACKTRACE, pages of frames) goes straight to descriptor 2 first and
    must not come before it. Where there is no in-memory file (not Linux) or no descriptor 2, *work* runs as
    it is. Descriptor 2 is the whole process's: only for a single thread (:data:`COMMAND`); the county's
    worker reads without it too (its descriptor 2 is the log its parent reads)."""
    import os
    import sys

    try:
        held = os.memfd_create("dpsheets-stderr")
    except (AttributeError, OSError):
        return work()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):
        os.close(held)
        return work()
    os.dup2(held, 2)
    failed = True
    try:
        result = work()
        failed = False
        return result
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()  # Python's own writes meanwhile are held too
        os.dup2(saved, 2)
        os.close(saved)
        if not failed:
            os.lseek(held, 0, os.SEEK_SET)
            while chunk := os.read(held, 1 << 16):
                while chunk:
                    chunk = chunk[os.write(2, chunk):]
        os.close(held)


@dataclass(frozen=True)
class DocOptions:
    """Which documents to print and how (see :func:`dpsheets.documents.render.render_all`)."""

    kinds: tuple[str, ...] | None = None  # None: every kind
    split: bool = False
    pdf: bool = False
    quarter: tuple[int, int] | None = None  # (year, quarter); default: the last complete quarter


OutputDir = Path | Callable[[WorkbookData | None], "Path | None"]


def _folder(where: OutputDir, data: WorkbookData | None) -> Path | None:
    return where(data) if callable(where) else where


def pipeline(path: str | Path, *, as_of: date, config: Config | None = None, out_dir: OutputDir | None = None,
             highlight: bool = True, documents_dir: OutputDir | None = None,
             doc_options: DocOptions | None = None, display_name: str | None = None, text_report: bool = False,
             require_enterprise: bool = False, reader: Reader = IN_PROCESS) -> FileResult:
    """Do all the per-file work for *path*; never raises for a bad input file.

    *out_dir* (the highlighted copy; default: beside the original) and *documents_dir* are
    folders, or functions of the workbook's data that name one — or return None to skip that
    output (the watcher files feedback by enterprise). *display_name* is the file's name as the
    user knows it: the highlighted copy and the reports are named after it. *text_report* also
    writes 检查报告.txt beside the highlighted copy. *require_enterprise*: a workbook the archive
    cannot take (no valid credit code) is an error result, and nothing is written for it.
    *reader* parses the file (see the module's doc).
    """
    config = config or Config()
    result = FileResult(Path(path), display_name=display_name)
    try:
        data, result.report = reader.check(Path(path), as_of, config)
        result.data = data
        if require_enterprise:
            from dpsheets.county.archive import require_enterprise as archivable

            archivable(data)
    except DpsheetsError as exc:
        result.error = exc
        return result
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a file must never crash a batch or the watcher (panics included)
        _log().debug("unexpected failure reading %s", path, exc_info=True)  # the Chinese message says it
        result.error = DpsheetsError("file.unexpected", f"读取时发生意外错误（{type(exc).__name__}）。请用 Excel 打开后另存为新的 .xlsx 文件再提交。",
                                     path=str(path))
        return result
    folder = _folder(out_dir, result.data) if out_dir is not None else result.path.parent
    if highlight and folder is not None:
        _write_highlight(result, folder, reader)
    if text_report and folder is not None:
        _write_text_report(result, folder / TEXT_REPORT)
    docs_folder = _folder(documents_dir, result.data) if documents_dir is not None else None
    if docs_folder is not None:
        _write_documents(result, docs_folder, as_of, config, doc_options or DocOptions())
    return result


TEXT_REPORT = "检查报告.txt"


def _write_highlight(result: FileResult, out_dir: Path, reader: Reader) -> None:
    from dpsheets.feedback.highlight import highlighted_path

    assert result.report is not None
    target = highlighted_path(Path(result.name), out_dir)
    try:
        with atomic_path(target) as tmp:
            note = reader.mark(result.path, result.report, tmp, Path(result.name).name)
        result.highlighted = target
        if note:
            result.notes.append(note)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - the report stands even when the copy cannot be made
        _log().debug("highlighted copy of %s failed", result.path, exc_info=True)  # the note says it in Chinese
        env = environment_error(exc, path=target)
        result.environment = result.environment or env
        why = env.message if env is not None else f"{type(exc).__name__}"
        result.notes.append(f"无法生成标注副本（{why}）：检查结果仍然有效。")


def _write_text_report(result: FileResult, target: Path) -> None:
    from dpsheets.feedback.console import write_text_report

    try:
        result.text_report = write_text_report(result, target)
    except OSError as exc:
        _log().debug("text report of %s failed: %s", result.path, exc)  # the note says it in Chinese
        env = environment_error(exc, path=target)
        result.environment = result.environment or env
        result.notes.append(f"无法写入检查报告（{env.message if env else type(exc).__name__}）：检查结果仍然有效。")


def _write_documents(result: FileResult, folder: Path, as_of: date, config: Config, options: DocOptions) -> None:
    from dpsheets.documents.render import (  # documents are optional work; import only when asked
        KINDS,
        render_all,
    )
    from dpsheets.rules.stats import Period

    assert result.data is not None
    period = Period.quarter(*options.quarter) if options.quarter else None
    try:
        outcome = render_all(result.data, folder, as_of=as_of, config=config, kinds=options.kinds or KINDS,
                             split=options.split, pdf=options.pdf, period=period)
    except Exception as exc:  # noqa: BLE001 - documents must not lose the check result
        _log().debug("documents for %s failed", result.path, exc_info=True)
        result.notes.append(f"文书生成失败（{type(exc).__name__}: {exc}），检查结果仍然有效。")
        return
    result.documents.extend(outcome.files)
    result.notes.extend(outcome.errors)
    result.info.extend(outcome.skipped)
    result.notices.extend(outcome.notices)
