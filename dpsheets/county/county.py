"""The county side of dpsheets, one way in: a county's shared folder and its archive.

Like sqlite-utils' ``Database``, a :class:`County` is opened on a folder and offers everything the
county does with it::

    county = County("watch_folders/舞阳县")
    county.ingest(as_of=date(2026, 11, 28))          # the inbox, once (or county.watch() for ever)
    summary = county.rollup(date(2026, 11, 28), roster="企业名单.xlsx")
    county.write_summary(summary, "汇总")              # 汇总/汇总_县级_2026-11-28.xlsx
    county.write_report(summary, "汇总")               # 汇总/汇总报告_县级_2026-11-28.docx

It owns the folder layout (收件箱/处理中/已处理/退回/反馈 and 档案.sqlite, see
:mod:`dpsheets.county.inbox`), finds the archive of a folder, reads rosters and names outputs. Roll-ups
over several archives, or of county summaries into a city's, are :func:`rollup`; the ``dpsheets``
command and the watcher are thin shells over this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dpsheets.config import Config, OfficialForm
from dpsheets.county.alerts import Alert
from dpsheets.county.archive import Archive, Submission
from dpsheets.county.database import is_url, resolve_target
from dpsheets.county.inbox import ARCHIVE_FILE, Layout, Outcome, Processor
from dpsheets.county.rollup import MissingRow, Rollup
from dpsheets.errors import DpsheetsError
from dpsheets.workbook.normalize import normalize_uscc

PathLike = str | Path
Roster = PathLike | list[MissingRow] | None
Report = Callable[[Outcome], None]
Progress = Callable[[int, int, Path], None]
AlertReport = Callable[[Alert], None]


def archive_path(path: PathLike) -> Path | str:
    """The archive *path* names: a database URL as it is; the file itself, or 档案.sqlite in a watch folder,
    which must exist."""
    if is_url(path):
        return str(path)
    p = Path(path)
    if p.is_dir():
        p = p / ARCHIVE_FILE
    if not p.is_file():
        raise DpsheetsError("archive.missing", f"找不到档案库 {p}。请用 --archive 指定档案库文件、watch 文件夹"
                            "或 postgresql:// 数据库地址。")
    return p


class County:
    """A county's shared folder (*root*) and its archive: *archive* (a file or a postgresql:// URL), else
    $DPSHEETS_ARCHIVE, else ``archive`` in the configuration, else *root*/档案.sqlite.

    Nothing is created until files are ingested or watched; :meth:`open` opens an existing archive.
    """

    def __init__(self, root: PathLike, *, config: Config | None = None, archive: PathLike | None = None) -> None:
        self.root = Path(root)
        self.layout = Layout(self.root)
        self.config = config or Config()
        target = resolve_target(str(archive) if archive else None, self.config.archive, self.root / ARCHIVE_FILE)
        self.archive_path: Path | str = target if target is not None else self.root / ARCHIVE_FILE
        self._archive: Archive | None = None

    @classmethod
    def open(cls, path: PathLike | None = None, *, config: Config | None = None) -> County:
        """The county whose archive *path* is (an archive file, a watch folder or a database URL; default
        $DPSHEETS_ARCHIVE, ``archive`` in the configuration, ./档案.sqlite); a file must exist."""
        config = config or Config()
        found = archive_path(resolve_target(str(path) if path else None, config.archive, Path(ARCHIVE_FILE)) or ARCHIVE_FILE)
        return cls(found.parent if isinstance(found, Path) else Path.cwd(), config=config, archive=found)

    # --- the archive -----------------------------------------------------------------------

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(self.archive_path)
        return self._archive

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def __enter__(self) -> County:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enterprises(self) -> list[dict[str, Any]]:
        """Every enterprise in the archive with its number of submissions and the last one's time."""
        return [dict(r) for r in self.archive.enterprises()]

    def history(self, uscc: str) -> list[Submission]:
        """Every submission of one enterprise, oldest first; ``archive.unknown`` if it has none."""
        rows = self.archive.history(normalize_uscc(uscc))
        if not rows:
            raise DpsheetsError("archive.unknown", f"档案中没有统一社会信用代码为 {uscc} 的企业。"
                                "用 `dpsheets archive list` 查看全部企业。")
        return rows

    def latest(self, uscc: str, as_of: date | None = None) -> Submission:
        """The enterprise's latest submission (on or before *as_of*); ``archive.unknown`` if none."""
        sub = self.archive.latest(normalize_uscc(uscc), as_of)
        if sub is None:
            when = f"在 {as_of.isoformat()} 或之前" if as_of else ""
            raise DpsheetsError("archive.unknown", f"档案中没有 {uscc} {when}的报送。用 `dpsheets archive list` 查看全部企业。")
        return sub

    def records(self, submission: Submission, register: str | None = None) -> list[dict[str, Any]]:
        return self.archive.records(submission.id, register)

    def alerts(self, as_of: date, *, now: datetime, alert: AlertReport | None = None) -> list[Alert]:
        """Raise the alerts of major hazards overdue on *as_of* (once each, ever) and write every pending alert of
        this folder to 提醒/ (``dpsheets archive alerts``); the alerts written now. *now*: when (the clock is
        the caller's)."""
        from dpsheets.county import alerts

        with self.archive.transaction() as tx:
            alerts.raise_overdue(tx, as_of=as_of, now=now)
        written = alerts.write_pending(self.archive, self.root, str(self.root.resolve()))
        for a in written:
            (alert or (lambda x: None))(a)
        return written

    def export(self, path: PathLike) -> Path:
        """The enterprises and every submission as an Excel workbook."""
        from dpsheets.county.archive_export import export

        return export(self.archive, Path(path))

    # --- the inbox ---------------------------------------------------------------------------

    def processor(self, *, as_of: date | None = None, documents: bool = True,
                  clock: Callable[[], datetime] = datetime.now, alert: AlertReport | None = None) -> Processor:
        """The per-file journal processor of this folder (creates the folder layout)."""
        return Processor(self.root, as_of=as_of, config=self.config, documents=documents, archive_path=self.archive_path,
                         clock=clock, on_alert=alert)

    def ingest(self, *, as_of: date | None = None, documents: bool = True, progress: Progress | None = None,
               report: Report | None = None, alert: AlertReport | None = None) -> list[Outcome]:
        """Process every file now in the inbox (after finishing what a crash interrupted) and return the outcomes.

        *as_of* None: each file is checked on the day it is processed. *progress* is called with
        (done, total, path) before each file, *report* with each outcome, *alert* with each major-hazard
        alert written to 提醒/ (:mod:`dpsheets.county.alerts`; default: the log).
        """
        from dpsheets.county.watch import ingest

        processor = self.processor(as_of=as_of, documents=documents, alert=alert)
        try:
            return ingest(processor, progress=progress or (lambda i, n, p: None), report=report or (lambda o: None))
        finally:
            processor.close()

    def watch(self, *, as_of: date | None = None, documents: bool = True, poll: float | None = None,
              settle: float = 0.5, stop: threading.Event | None = None, report: Report | None = None,
              started: Callable[[], None] | None = None, trouble: Callable[[DpsheetsError], None] | None = None,
              alert: AlertReport | None = None) -> None:
        """Process files as they arrive in the inbox until *stop* is set (or Ctrl-C).

        *poll*: seconds between scans, for network shares where file system events do not arrive.
        *trouble* gets the machine's faults (disk full, a folder not writable), each naming the path; the
        watcher goes on and the file waits in 处理中. Once a day it raises the alerts of major hazards that
        became overdue (*alert* is told of each, as with :meth:`ingest`).
        """
        from dpsheets.county.watch import watch

        processor = self.processor(as_of=as_of, documents=documents, alert=alert)
        options: dict[str, Any] = {"trouble": trouble} if trouble else {}
        try:
            watch(processor, poll=poll, settle=settle, stop=stop, report=report or (lambda o: None),
                  started=started or (lambda: None), **options)
        finally:
            processor.close()

    # --- roll-up -----------------------------------------------------------------------------

    def rollup(self, as_of: date, roster: Roster = None, *, level: str = "县", county: str | None = None,
               alerts_since: date | None = None, lists_only: bool = False) -> Rollup:
        """This county's roll-up on *as_of*; *roster* (a roster workbook or rows) adds who has not submitted.

        *county* limits it to the enterprises of one county (an archive shared by several counties, or a county
        account of the web service); the roster's enterprises of other counties are then left out too.
        *alerts_since*: the 新增重大隐患 sheet lists the alerts raised after this day (default: 30 days before).
        *lists_only*: the enterprises with their breaches, the hazard lists and the non-submitters only (no trend,
        报送情况 or alerts), for the web service's staff pages.
        """
        from dpsheets.county.rollup import Area, rollup_archives

        members, warnings = read_roster(roster)
        if county is not None and members is not None:
            members = [m for m in members if m.county == county]
        result = rollup_archives([archive_path(self.archive_path)], as_of=as_of, config=self.config, roster=members,
                                 level=level, area=Area(county=county), alerts_since=alerts_since, lists_only=lists_only)
        result.notes.extend(warnings)
        return result

    def write_summary(self, summary: Rollup, folder: PathLike, title: str | None = None) -> Path:
        return write_summary(summary, folder, title)

    def write_report(self, summary: Rollup, folder: PathLike, title: str | None = None) -> Path:
        return write_report(summary, folder, title, official=self.config.official)


# --- roll-ups of several archives, and of summaries -----------------------------------------

def read_roster(roster: Roster) -> tuple[list[MissingRow] | None, list[str]]:
    """The roster's enterprises (None: no roster) and Chinese warnings about rows that were skipped."""
    if roster is None:
        return None, []
    if isinstance(roster, list):
        return roster, []
    from dpsheets.county.roster import read_roster as read

    return read(Path(roster))


def rollup(*, as_of: date, archives: Sequence[PathLike] = (), summaries: Sequence[PathLike] = (),
           roster: Roster = None, level: str | None = None, where: str | None = None,
           config: Config | None = None, alerts_since: date | None = None) -> Rollup:
    """The roll-up of *archives* (files or watch folders; default ./档案.sqlite), or, given *summaries*,
    the combination of those summary workbooks into the next level up (县 → 市 → 省); summaries carry
    their own as-of date (they must share one), so *as_of* applies to archives only.

    An enterprise present in several archives or summaries counts once, from its latest submission.
    *where* (``城市/县区``, ``城市`` or ``县区``) limits an archive roll-up to that area (a city or province
    database holds many counties); the level then defaults to the area's (县 for a county, 市 for a city).
    *alerts_since*: the 新增重大隐患 sheet lists the alerts raised after this day (default: 30 days before as-of).
    """
    config = config or Config()
    if summaries:
        from dpsheets.county.summary_read import combine, read_summary

        if where:
            raise DpsheetsError("rollup.where-summaries", "--where 只用于档案库：汇总表（--from）已经是某一地区的汇总。")
        if archives or roster is not None or alerts_since is not None:
            raise DpsheetsError("rollup.mixed-inputs", "汇总表（--from）和档案库（--archive、--roster、--alerts-since）不能同时使用："
                                "市级汇总由各县汇总表合成，县级汇总由档案库生成。")
        return combine([read_summary(Path(p)) for p in summaries], level or "市")
    from dpsheets.county.regions import parse_where
    from dpsheets.county.rollup import Area, rollup_archives

    members, warnings = read_roster(roster)
    paths = [archive_path(a) for a in (archives or (resolve_target(None, config.archive, Path(ARCHIVE_FILE)) or ARCHIVE_FILE,))]
    city, county = parse_where(where)
    area = Area(city, county)
    level = level or ("县" if county else "市" if city else "县")
    result = rollup_archives(paths, as_of=as_of, config=config, roster=members, level=level, area=area,
                             alerts_since=alerts_since)
    result.notes.extend(warnings)
    return result


def default_title(summary: Rollup) -> str:
    return f"{summary.level}级小微企业双重预防体系运行情况汇总"


@dataclass(frozen=True)
class OutputNames:
    """The file names of a roll-up's outputs: 汇总_县级_2026-11-28.xlsx and 汇总报告_县级_2026-11-28.docx."""

    summary: str
    report: str

    @classmethod
    def of(cls, summary: Rollup) -> OutputNames:
        stem = f"{summary.level}级_{summary.as_of.isoformat()}"
        return cls(f"汇总_{stem}.xlsx", f"汇总报告_{stem}.docx")


def write_summary(summary: Rollup, folder: PathLike, title: str | None = None) -> Path:
    """The summary workbook of *summary* in *folder*, named by :class:`OutputNames`."""
    from dpsheets.county.summary_book import write_summary as write

    return write(summary, Path(folder) / OutputNames.of(summary).summary, title or default_title(summary))


def write_report(summary: Rollup, folder: PathLike, title: str | None = None, *,
                 official: OfficialForm | None = None) -> Path:
    """The Word report of *summary* in *folder*, named by :class:`OutputNames`; *official*: its 文号 and 落款."""
    from dpsheets.county.summary_report import write_report as write

    return write(summary, Path(folder) / OutputNames.of(summary).report, title or default_title(summary), official)
