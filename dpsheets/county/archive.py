"""一企一档: the SQLite archive of every submission of every enterprise.

Enterprises are keyed by 统一社会信用代码. Every submission is kept (time, file name,
content hash, template version, validity, counts) with its parsed records as JSON, so
history is queryable; hazards, risks and ledger dates are also kept in typed tables for
the county roll-up. The same content submitted twice is recognised by its hash. The
schema is versioned (``PRAGMA user_version``) and upgraded by the migrations below.
The processing journal of the folder watcher lives in the same file, so that archiving a
submission and recording that fact are one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dpsheets.config import Config
from dpsheets.errors import DpsheetsError
from dpsheets.rules.grading import risk_level
from dpsheets.rules.problems import Report
from dpsheets.workbook.model import Record, WorkbookData

MIGRATIONS: list[str] = [
    # 1: enterprises, submissions, records, problems, hazards, ledgers, jobs
    """
    CREATE TABLE enterprises (
        uscc TEXT PRIMARY KEY, name TEXT NOT NULL, county TEXT, township TEXT, industry TEXT,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY, uscc TEXT NOT NULL REFERENCES enterprises(uscc), received_at TEXT NOT NULL,
        file_name TEXT NOT NULL, stored_name TEXT, sha256 TEXT NOT NULL UNIQUE, template_version TEXT,
        filled_on TEXT, valid INTEGER NOT NULL, errors INTEGER NOT NULL, warnings INTEGER NOT NULL,
        findings INTEGER NOT NULL, name TEXT, county TEXT, township TEXT, industry TEXT,
        risks_major INTEGER NOT NULL, risks_significant INTEGER NOT NULL, risks_general INTEGER NOT NULL,
        risks_low INTEGER NOT NULL, risks_unrated INTEGER NOT NULL, posts INTEGER NOT NULL,
        employees INTEGER NOT NULL, hazards INTEGER NOT NULL
    );
    CREATE INDEX submissions_by_enterprise ON submissions(uscc, received_at);
    CREATE TABLE records (
        submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
        register TEXT NOT NULL, row INTEGER NOT NULL, data TEXT NOT NULL
    );
    CREATE INDEX records_by_submission ON records(submission_id, register);
    CREATE TABLE problems (
        submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
        code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, row INTEGER, column_name TEXT, cell TEXT,
        message TEXT NOT NULL
    );
    CREATE INDEX problems_by_submission ON problems(submission_id);
    CREATE TABLE hazards (
        submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
        row INTEGER NOT NULL, number TEXT, name TEXT, location TEXT, level TEXT, status TEXT,
        found_on TEXT, deadline TEXT, completed_on TEXT, unit TEXT, owner TEXT, has_plan INTEGER NOT NULL
    );
    CREATE INDEX hazards_by_submission ON hazards(submission_id);
    CREATE TABLE ledger_dates (
        submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
        kind TEXT NOT NULL, day TEXT NOT NULL
    );
    CREATE INDEX ledger_dates_by_submission ON ledger_dates(submission_id, kind);
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY, source TEXT NOT NULL, original_name TEXT NOT NULL, processing_name TEXT NOT NULL,
        state TEXT NOT NULL, destination TEXT, final_name TEXT, reason TEXT, submission_id INTEGER,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX jobs_by_state ON jobs(state);
    """,
    # 2: the web service (一码 and 一题): archive secrets, QR tokens, phone confirmations, county users, audit log
    """
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE qr_tokens (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, uscc TEXT NOT NULL, workshop TEXT NOT NULL DEFAULT '',
        post TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX qr_tokens_by_enterprise ON qr_tokens(uscc, kind);
    CREATE TABLE confirmations (
        id INTEGER PRIMARY KEY, uscc TEXT NOT NULL, day TEXT NOT NULL, at TEXT NOT NULL, name TEXT NOT NULL,
        workshop TEXT NOT NULL DEFAULT '', post TEXT NOT NULL, result TEXT NOT NULL, via TEXT NOT NULL,
        address TEXT
    );
    CREATE INDEX confirmations_by_enterprise ON confirmations(uscc, day);
    CREATE TABLE users (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, county TEXT, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, target TEXT,
        detail TEXT, address TEXT
    );
    CREATE INDEX audit_by_time ON audit(at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Submission:
    id: int
    uscc: str
    name: str
    received_at: str
    file_name: str
    sha256: str
    template_version: str | None
    valid: bool
    errors: int
    warnings: int
    findings: int


def _iso(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def connect(path: str | Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA foreign_keys = ON")
    _retry_locked(lambda: db.execute("PRAGMA journal_mode = WAL"))  # ignores the busy timeout: two first opens collide
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _retry_locked(step: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found before."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise DpsheetsError("archive.newer", f"档案库是新版 dpsheets 创建的（结构版本 {found}），请升级 dpsheets 后再使用。")
    for version in range(found, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        if db.execute("PRAGMA user_version").fetchone()[0] > version:  # another process migrated meanwhile
            db.execute("COMMIT")
            continue
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return found


def require_enterprise(data: WorkbookData) -> Record:
    """The archive's invariant: a submission belongs to an enterprise, named by a valid credit code.

    Returns the 企业信息 record; raises a :class:`DpsheetsError` (``archive.no-enterprise``, ``archive.no-uscc``,
    ``archive.invalid-uscc``) whose Chinese message says what to fill in. The watcher returns such a file.
    """
    from dpsheets.workbook.normalize import uscc_problem

    ent = data.enterprise
    if ent is None or ent.is_blank():
        raise DpsheetsError("archive.no-enterprise", "“企业信息”表是空的：无法确定是哪家企业的台账。"
                            "请填写企业名称和统一社会信用代码后重新提交。", path=str(data.path))
    code = ent["uscc"]
    if not code:
        raise DpsheetsError("archive.no-uscc", "“企业信息”表没有填写统一社会信用代码，无法建档。"
                            "请按营业执照填写 18 位代码后重新提交。", path=str(data.path))
    reason = uscc_problem(code)
    if reason:
        raise DpsheetsError("archive.invalid-uscc", f"统一社会信用代码“{code}”{reason}（{ent.sheet}!{ent.cell('uscc')}），"
                            "无法建档。请改正后重新提交。", path=str(data.path))
    return ent


class Archive:
    """The archive database at *path* (created and migrated on open)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = connect(self.path)
            migrate(self.db)
        except (OSError, sqlite3.Error) as exc:
            from dpsheets.fsutil import environment_error

            raise (environment_error(exc, archive=self.path) or _unreachable(self.path, exc)) from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if self.db.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- submissions ----------------------------------------------------------------------

    def find_by_hash(self, sha256: str) -> int | None:
        row = self.db.execute("SELECT id FROM submissions WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def add_submission(self, data: WorkbookData, report: Report, *, file_name: str, sha256: str, received_at: datetime,
                       stored_name: str | None = None, config: Config | None = None,
                       db: sqlite3.Connection | None = None) -> int:
        """Archive one checked workbook. Call inside :meth:`transaction` (or it opens its own)."""
        if db is None:
            with self.transaction() as tx:
                return self.add_submission(data, report, file_name=file_name, sha256=sha256, received_at=received_at,
                                           stored_name=stored_name, config=config, db=tx)
        config = config or Config()
        ent = require_enterprise(data)
        uscc = ent["uscc"]
        when = received_at.isoformat(timespec="seconds")
        db.execute(
            "INSERT INTO enterprises (uscc, name, county, township, industry, first_seen, last_seen) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(uscc) DO UPDATE SET name=excluded.name, county=excluded.county, township=excluded.township, "
            "industry=excluded.industry, last_seen=excluded.last_seen",
            (uscc, ent["name"] or uscc, ent["county"], ent["township"], ent["industry"], when, when))
        counts = report.counts()
        levels = _risk_levels(data, config)
        cur = db.execute(
            "INSERT INTO submissions (uscc, received_at, file_name, stored_name, sha256, template_version, filled_on, valid,"
            " errors, warnings, findings, name, county, township, industry, risks_major, risks_significant, risks_general,"
            " risks_low, risks_unrated, posts, employees, hazards) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (uscc, when, file_name, stored_name, sha256, data.template_version, _iso(ent["filled_on"]), int(report.valid),
             counts["error"], counts["warning"], counts["finding"], ent["name"], ent["county"], ent["township"],
             ent["industry"], levels["重大风险"], levels["较大风险"], levels["一般风险"], levels["低风险"], levels[None],
             len(data.records("post")), len(data.records("employee")), len(data.records("hazard"))))
        sid = cur.lastrowid
        db.executemany("INSERT INTO records (submission_id, register, row, data) VALUES (?,?,?,?)",
                       ((sid, key, r.row, json.dumps({k: _iso(v) for k, v in r.values.items() if v is not None},
                                                      ensure_ascii=False))
                        for key, sheet in data.sheets.items() for r in sheet.records))
        db.executemany("INSERT INTO problems VALUES (?,?,?,?,?,?,?,?)",
                       ((sid, p.code, p.severity, p.sheet, p.row, p.column, p.cell, p.message) for p in report.problems))
        db.executemany("INSERT INTO hazards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       ((sid, h.row, h["number"], h["name"], h["location"], h["level"], h["status"], _iso(h["found_on"]),
                         _iso(h["deadline"]), _iso(h["completed_on"]), h["unit"], h["owner"], int(bool(h["plan"])))
                        for h in data.records("hazard")))
        db.executemany("INSERT INTO ledger_dates VALUES (?,?,?)",
                       ((sid, kind, r["date"].isoformat()) for kind in ("training", "drill", "quiz")
                        for r in data.records(kind) if r["date"]))
        return sid

    def enterprises(self) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT e.uscc, e.name, e.county, e.township, e.industry, e.first_seen, e.last_seen, "
            "COUNT(s.id) AS submissions FROM enterprises e LEFT JOIN submissions s USING (uscc) "
            "GROUP BY e.uscc ORDER BY e.county, e.township, e.name").fetchall()

    def history(self, uscc: str) -> list[Submission]:
        rows = self.db.execute("SELECT * FROM submissions WHERE uscc = ? ORDER BY received_at, id", (uscc,)).fetchall()
        return [_submission(r) for r in rows]

    def latest(self, uscc: str, on_or_before: date | None = None) -> Submission | None:
        sql, args = "SELECT * FROM submissions WHERE uscc = ?", [uscc]
        if on_or_before is not None:
            sql += " AND substr(received_at, 1, 10) <= ?"
            args.append(on_or_before.isoformat())
        row = self.db.execute(sql + " ORDER BY received_at DESC, id DESC LIMIT 1", args).fetchone()
        return _submission(row) if row else None

    def records(self, submission_id: int, register: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT register, row, data FROM records WHERE submission_id = ?", [submission_id]
        if register:
            sql += " AND register = ?"
            args.append(register)
        return [dict(json.loads(r["data"]), _register=r["register"], _row=r["row"])
                for r in self.db.execute(sql + " ORDER BY rowid", args)]

    def problems(self, submission_id: int) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM problems WHERE submission_id = ? ORDER BY rowid", (submission_id,)).fetchall()

    # --- secrets and the audit log (the web service) ----------------------------------------

    def secret(self, name: str) -> str:
        """A random secret kept in the archive (created on first use): QR tokens, session cookies."""
        import secrets

        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()
        if row:
            return row[0]
        self.db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (name, secrets.token_urlsafe(32)))
        return self.db.execute("SELECT value FROM settings WHERE key = ?", (name,)).fetchone()[0]

    def audit(self, who: str, action: str, target: str = "", detail: str = "", address: str | None = None, *,
              now: datetime, db: sqlite3.Connection | None = None) -> None:
        """Record one write: who, when, what (every write of the web service and of user management)."""
        (db or self.db).execute("INSERT INTO audit (at, who, action, target, detail, address) VALUES (?,?,?,?,?,?)",
                                (now.isoformat(timespec="seconds"), who, action, target, detail, address))

    def audit_log(self, limit: int = 200) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

    # --- the processing journal of the folder watcher ------------------------------------------

    def begin_job(self, source: str, original_name: str, processing_name: str, now: datetime) -> int:
        when = now.isoformat(timespec="seconds")
        cur = self.db.execute("INSERT INTO jobs (source, original_name, processing_name, state, created_at, updated_at)"
                              " VALUES (?,?,?,?,?,?)", (source, original_name, processing_name, "claiming", when, when))
        return cur.lastrowid

    def set_job(self, job_id: int, now: datetime, db: sqlite3.Connection | None = None, **fields: Any) -> None:
        fields["updated_at"] = now.isoformat(timespec="seconds")
        assignments = ", ".join(f"{k} = ?" for k in fields)
        (db or self.db).execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def unfinished_jobs(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM jobs WHERE state != 'done' ORDER BY id").fetchall()

    def job_names(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT processing_name FROM jobs WHERE state != 'done'")}


def _unreachable(path: Path, exc: BaseException) -> Exception:
    from dpsheets.errors import DpsheetsError

    return DpsheetsError("env.archive-unreachable", f"档案库 {path} 无法打开（{exc}）。请确认文件所在的磁盘或网络共享可以访问、"
                         "有写入权限，且它是 dpsheets 的档案库文件。", path=str(path), exit_code=2)


def _risk_levels(data: WorkbookData, config: Config) -> dict[str | None, int]:
    counts: dict[str | None, int] = {"重大风险": 0, "较大风险": 0, "一般风险": 0, "低风险": 0, None: 0}
    for r in data.records("risk"):
        level = risk_level(r, config)
        counts[level if level in counts else None] += 1
    return counts


def _submission(row: sqlite3.Row) -> Submission:
    return Submission(row["id"], row["uscc"], row["name"], row["received_at"], row["file_name"], row["sha256"],
                      row["template_version"], bool(row["valid"]), row["errors"], row["warnings"], row["findings"])
