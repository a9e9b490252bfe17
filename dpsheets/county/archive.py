"""一企一档: the archive of every submission of every enterprise, on SQLite or PostgreSQL.

Enterprises are keyed by 统一社会信用代码. Every submission is kept (time, file name,
content hash, template version, validity, counts) with its parsed records, both as JSON
(history, exactly as read) and as typed rows per register (risks, hazards, posts,
employees, trainings, drills, confirmations), so that county and province questions are SQL.
The same content submitted twice is recognised by its hash, and the database itself
enforces it (a unique constraint; an insert that meets it adds nothing), so several
processes may write at once. The processing journal of the folder watcher lives in the same
database, so that archiving a submission and recording that fact are one transaction.

The archive is opened from a path (SQLite, the default) or a URL (PostgreSQL); see
:mod:`dpsheets.county.database` for engines, migrations and messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dpsheets.config import Config
from dpsheets.county import schema as t
from dpsheets.county.compat import AnyConnection, Compat
from dpsheets.county.database import create_engine, database_url, display, explain, head_revision, writing
from dpsheets.county.database import migrate as migrate_engine
from dpsheets.county.regions import city_of
from dpsheets.errors import DpsheetsError
from dpsheets.rules.grading import risk_level
from dpsheets.rules.problems import Report
from dpsheets.workbook.model import Record, WorkbookData
from dpsheets.workbook.registers import BY_KEY, FieldType

SCHEMA_VERSION = head_revision()


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


class DuplicateSubmission(Exception):
    """The content is already archived (possibly by another process a moment ago)."""

    def __init__(self, submission_id: int | None) -> None:
        super().__init__(submission_id)
        self.submission_id = submission_id


def _iso(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _typed(value: Any, kind: FieldType) -> Any:
    """A record value as its column stores it."""
    if value is None:
        return None
    if kind is FieldType.DATE:
        return value if isinstance(value, date) else None
    if kind is FieldType.INT:
        return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else None
    if kind is FieldType.NUMBER:
        return float(value) if isinstance(value, (int, float)) else None
    if isinstance(value, (tuple, list)):
        return "、".join(map(str, value))
    return str(value)


def migrate(archive_or_engine: Archive | sa.Engine) -> str | None:
    """Bring the schema to the newest revision; the revision found before."""
    engine = archive_or_engine.engine if isinstance(archive_or_engine, Archive) else archive_or_engine
    return migrate_engine(engine)


def _insert(conn: AnyConnection) -> Any:
    """The dialect's INSERT (with ON CONFLICT) for *conn*."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _upsert(conn: AnyConnection, table: sa.Table, values: dict[str, Any], keys: list[str], update: list[str]) -> None:
    stmt = _insert(conn)(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update}))


def insert_ignoring_duplicates(conn: AnyConnection, table: sa.Table, values: dict[str, Any], keys: list[str],
                               returning: sa.Column | None = None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING; the *returning* value, or None when the row was already there."""
    stmt = _insert(conn)(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    if returning is None:
        return conn.execute(stmt).rowcount or None
    return conn.execute(stmt.returning(returning)).scalar()


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
    """The archive database at *target* (a path or a URL), created and migrated on open."""

    def __init__(self, target: str | Path) -> None:
        self.url = database_url(target)
        self.shown = display(self.url)
        self.path: Path | None = Path(self.url.database or "") if self.is_sqlite else None
        try:
            self.engine = create_engine(target)
            migrate_engine(self.engine)
        except (sa.exc.DBAPIError, OSError) as exc:
            raise explain(exc, str(target) if self.path is None else self.path) from exc

    @property
    def where(self) -> Path | str:
        """The archive for messages: its file, or its URL without the password."""
        return self.path if self.path is not None else self.shown

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({self.shown})"

    @contextmanager
    def transaction(self) -> Iterator[Compat]:
        """A writing transaction; its connection also takes plain SQL with ``?`` placeholders (see :mod:`compat`)."""
        with writing(self.engine) as conn:
            yield Compat(conn)

    @property
    def db(self) -> Compat:
        """Plain SQL with ``?`` placeholders, each statement on its own (autocommit), on either engine."""
        return Compat(None, self.engine)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # --- plain queries (named parameters) ---------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[Mapping[Any, Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).mappings())

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def count(self, table: str) -> int:
        """Rows in one of the archive's tables."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(t.metadata.tables[table])).scalar_one()

    # --- submissions ----------------------------------------------------------------------

    def find_by_hash(self, sha256: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.submissions.c.id).where(t.submissions.c.sha256 == sha256)).scalar()

    def submission_name(self, submission_id: int) -> str:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.submissions.c.name).where(t.submissions.c.id == submission_id)).scalar() or ""

    def add_submission(self, data: WorkbookData, report: Report, *, file_name: str, sha256: str, received_at: datetime,
                       stored_name: str | None = None, config: Config | None = None,
                       db: AnyConnection | None = None) -> int:
        """Archive one checked workbook. Call inside :meth:`transaction` (or it opens its own).

        Raises :class:`DuplicateSubmission` (and writes nothing) when the content is already archived.
        """
        if db is None:
            with self.transaction() as tx:
                return self.add_submission(data, report, file_name=file_name, sha256=sha256, received_at=received_at,
                                           stored_name=stored_name, config=config, db=tx)
        config = config or Config()
        ent = require_enterprise(data)
        uscc, when = ent["uscc"], received_at.isoformat(timespec="seconds")
        city = city_of(uscc)
        _upsert(db, t.enterprises, dict(uscc=uscc, name=ent["name"] or uscc, county=ent["county"],
                                        township=ent["township"], industry=ent["industry"], city=city,
                                        first_seen=when, last_seen=when),
                ["uscc"], ["name", "county", "township", "industry", "city", "last_seen"])
        counts = report.counts()
        levels = _risk_levels(data, config)
        sid = insert_ignoring_duplicates(db, t.submissions, dict(
            uscc=uscc, received_at=when, file_name=file_name, stored_name=stored_name, sha256=sha256,
            template_version=data.template_version, filled_on=_iso(ent["filled_on"]), valid=int(report.valid),
            errors=counts["error"], warnings=counts["warning"], findings=counts["finding"], name=ent["name"],
            county=ent["county"], township=ent["township"], industry=ent["industry"], city=city,
            risks_major=levels["重大风险"], risks_significant=levels["较大风险"], risks_general=levels["一般风险"],
            risks_low=levels["低风险"], risks_unrated=levels[None], posts=len(data.records("post")),
            employees=len(data.records("employee")), hazards=len(data.records("hazard"))),
            ["sha256"], returning=t.submissions.c.id)
        if sid is None:
            raise DuplicateSubmission(db.execute(sa.select(t.submissions.c.id)
                                                 .where(t.submissions.c.sha256 == sha256)).scalar())
        self._insert(db, t.records, [
            dict(submission_id=sid, register=key, row=r.row,
                 data=json.dumps({k: _iso(v) for k, v in r.values.items() if v is not None}, ensure_ascii=False))
            for key, sheet in data.sheets.items() for r in sheet.records])
        self._insert(db, t.problems, [
            dict(submission_id=sid, code=p.code, severity=p.severity, sheet=p.sheet, row=p.row, column_name=p.column,
                 cell=p.cell, message=p.message, seq=i) for i, p in enumerate(report.problems)])
        self._insert(db, t.hazards, [
            dict(submission_id=sid, row=h.row, number=_typed(h["number"], FieldType.TEXT), name=h["name"],
                 location=h["location"], level=h["level"], status=h["status"],
                 found_on=_typed(h["found_on"], FieldType.DATE), deadline=_typed(h["deadline"], FieldType.DATE),
                 completed_on=_typed(h["completed_on"], FieldType.DATE), unit=h["unit"], owner=h["owner"],
                 has_plan=int(bool(h["plan"])), reported_on=_typed(h["reported_on"], FieldType.DATE))
            for h in data.records("hazard")])
        self._insert(db, t.ledger_dates, [
            dict(submission_id=sid, kind=kind, day=r["date"]) for kind in ("training", "drill", "quiz")
            for r in data.records(kind) if isinstance(r["date"], date)])
        for key, table in t.record_tables.items():
            fields = BY_KEY[key].fields
            self._insert(db, table, [
                dict(submission_id=sid, row=r.row, **{f.key: _typed(r[f.key], f.type) for f in fields})
                for r in data.records(key)])
        return sid

    @staticmethod
    def _insert(db: AnyConnection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            db.execute(table.insert(), list(rows))

    def enterprises(self) -> list[Mapping[Any, Any]]:
        e, s = t.enterprises, t.submissions
        query = (sa.select(e.c.uscc, e.c.name, e.c.county, e.c.township, e.c.industry, e.c.city, e.c.first_seen,
                           e.c.last_seen, sa.func.count(s.c.id).label("submissions"))
                 .select_from(e.outerjoin(s, s.c.uscc == e.c.uscc)).group_by(e.c.uscc))
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        return sorted(rows, key=lambda r: (r["county"] or "", r["township"] or "", r["name"], r["uscc"]))

    def history(self, uscc: str) -> list[Submission]:
        s = t.submissions
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s).where(s.c.uscc == uscc).order_by(s.c.received_at, s.c.id)).mappings()
            return [_submission(r) for r in rows]

    def latest(self, uscc: str, on_or_before: date | None = None) -> Submission | None:
        s = t.submissions
        query = sa.select(s).where(s.c.uscc == uscc)
        if on_or_before is not None:
            query = query.where(sa.func.substr(s.c.received_at, 1, 10) <= on_or_before.isoformat())
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(s.c.received_at.desc(), s.c.id.desc()).limit(1)).mappings().first()
        return _submission(row) if row else None

    def records(self, submission_id: int, register: str | None = None) -> list[dict[str, Any]]:
        r = t.records
        query = sa.select(r.c.register, r.c.row, r.c.data).where(r.c.submission_id == submission_id)
        if register:
            query = query.where(r.c.register == register)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(r.c.register, r.c.row)).mappings()
            return [dict(json.loads(x["data"]), _register=x["register"], _row=x["row"]) for x in rows]

    def problems(self, submission_id: int) -> list[Mapping[Any, Any]]:
        p = t.problems
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(p).where(p.c.submission_id == submission_id).order_by(p.c.seq)).mappings())

    # --- secrets and the audit log (the web service) ----------------------------------------

    def secret(self, name: str) -> str:
        """A random secret kept in the archive (created on first use): QR tokens, session cookies."""
        import secrets

        with self.transaction() as tx:
            insert_ignoring_duplicates(tx, t.settings, {"key": name, "value": secrets.token_urlsafe(32)}, ["key"])
            return tx.execute(sa.select(t.settings.c.value).where(t.settings.c.key == name)).scalar_one()

    def audit(self, who: str, action: str, target: str = "", detail: str = "", address: str | None = None, *,
              now: datetime, db: Any = None) -> None:
        """Record one write: who, when, what (every write of the web service and of user management)."""
        stmt = t.audit.insert().values(at=now.isoformat(timespec="seconds"), who=who, action=action, target=target,
                                       detail=detail, address=address)
        if db is not None:
            db.execute(stmt)
            return
        with self.transaction() as tx:
            tx.execute(stmt)

    def audit_log(self, limit: int = 200) -> list[Mapping[Any, Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.audit).order_by(t.audit.c.id.desc()).limit(limit)).mappings())

    # --- the processing journal of the folder watcher ------------------------------------------

    def begin_job(self, source: str, original_name: str, processing_name: str, now: datetime,
                  folder: str | None = None) -> int:
        when = now.isoformat(timespec="seconds")
        with self.transaction() as conn:
            return conn.execute(t.jobs.insert().values(
                source=source, original_name=original_name, processing_name=processing_name, state="claiming",
                created_at=when, updated_at=when, folder=folder).returning(t.jobs.c.id)).scalar_one()

    def set_job(self, job_id: int, now: datetime, db: AnyConnection | None = None, **fields: Any) -> None:
        fields["updated_at"] = now.isoformat(timespec="seconds")
        stmt = t.jobs.update().where(t.jobs.c.id == job_id).values(**fields)
        if db is not None:
            db.execute(stmt)
            return
        with self.transaction() as conn:
            conn.execute(stmt)

    def _jobs(self, folder: str | None) -> sa.Select:
        j = t.jobs
        query = sa.select(j).where(j.c.state != "done")
        if folder is not None:  # NULL: written before folders were recorded (an SQLite archive of one folder)
            query = query.where(sa.or_(j.c.folder == folder, j.c.folder.is_(None)))
        return query

    def unfinished_jobs(self, folder: str | None = None) -> list[Mapping[Any, Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(self._jobs(folder).order_by(t.jobs.c.id)).mappings())

    def job_names(self, folder: str | None = None) -> set[str]:
        return {r["processing_name"] for r in self.unfinished_jobs(folder)}

    # --- operations -----------------------------------------------------------------------

    def table_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for name, table in t.metadata.tables.items()}


def _risk_levels(data: WorkbookData, config: Config) -> dict[str | None, int]:
    counts: dict[str | None, int] = {"重大风险": 0, "较大风险": 0, "一般风险": 0, "低风险": 0, None: 0}
    for r in data.records("risk"):
        level = risk_level(r, config)
        counts[level if level in counts else None] += 1
    return counts


def _submission(row: Mapping[Any, Any]) -> Submission:
    return Submission(row["id"], row["uscc"], row["name"], row["received_at"], row["file_name"], row["sha256"],
                      row["template_version"], bool(row["valid"]), row["errors"], row["warnings"], row["findings"])


__all__ = ["Archive", "DpsheetsError", "DuplicateSubmission", "SCHEMA_VERSION", "Submission", "migrate"]
