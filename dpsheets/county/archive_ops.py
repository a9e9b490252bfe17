"""Operations on whole archives: pushing a county's archive up into the province database, and checking one.

:func:`push` copies every submission (with all its rows) of one archive into another, typically
a county's SQLite file into the province's PostgreSQL database. It is idempotent: a submission
is identified by its content hash, which the destination's unique constraint guards, so pushing
twice (or two counties pushing the same file) adds nothing. It is exact: the county's roll-up
from either store is the same. The major-hazard alerts go along (each once: the destination's UNIQUE
constraint; their submission found by its content hash), so the province's 新增重大隐患 is the
counties'. The processing journal stays with its folder and is not copied.

:func:`check` runs the database's own integrity checks (SQLite ``integrity_check`` and
``foreign_key_check``; on PostgreSQL the constraints are enforced on every write and the
catalogue is checked for invalid indexes) and the archive's own consistency rules in SQL, and
counts the rows of every table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from dpsheets.county import schema as t
from dpsheets.county.archive import Archive, _insert, insert_ignoring_duplicates
from dpsheets.county.compat import AnyConnection
from dpsheets.county.database import head_revision

BATCH = 200  # submissions copied per transaction


@dataclass
class PushResult:
    source: str
    destination: str
    added: int = 0  # submissions copied
    present: int = 0  # submissions the destination already had (same content)
    rows: dict[str, int] = field(default_factory=dict)  # rows copied per table


def _upsert_enterprise(conn: AnyConnection, values: dict) -> None:
    """The enterprise as the newest of its sightings says, first seen at the earliest."""
    e = t.enterprises
    stmt = _insert(conn)(e).values(**values)
    newer = stmt.excluded.last_seen > e.c.last_seen
    update = {c: sa.case((newer, stmt.excluded[c]), else_=e.c[c]) for c in ("name", "county", "township", "industry",
                                                                           "city", "last_seen")}
    update["first_seen"] = sa.case((stmt.excluded.first_seen < e.c.first_seen, stmt.excluded.first_seen),
                                   else_=e.c.first_seen)
    conn.execute(stmt.on_conflict_do_update(index_elements=["uscc"], set_=update))


def push(source: str | Path, destination: str | Path, *,
         progress: Callable[[int, int], None] = lambda done, total: None) -> PushResult:
    """Copy every submission of *source* that *destination* does not have yet (by content hash)."""
    with Archive(source) as src, Archive(destination) as dst:
        result = PushResult(src.shown, dst.shown, rows={table.name: 0 for table in t.SUBMISSION_TABLES})
        s = t.submissions
        with src.connect() as read:
            ids = [r[0] for r in read.execute(sa.select(s.c.id).order_by(s.c.id))]
            enterprises = {r["uscc"]: dict(r) for r in read.execute(sa.select(t.enterprises)).mappings()}
            for start in range(0, len(ids), BATCH):
                batch = ids[start:start + BATCH]
                subs = list(read.execute(sa.select(s).where(s.c.id.in_(batch)).order_by(s.c.id)).mappings())
                children = {table.name: list(read.execute(sa.select(table).where(table.c.submission_id.in_(batch)))
                                             .mappings()) for table in t.SUBMISSION_TABLES}
                with dst.transaction() as write:
                    new_ids: dict[int, int] = {}
                    for sub in subs:
                        _upsert_enterprise(write, enterprises[sub["uscc"]])
                        values = {k: v for k, v in sub.items() if k != "id"}
                        new = insert_ignoring_duplicates(write, s, values, ["sha256"], returning=s.c.id)
                        if new is None:
                            result.present += 1
                        else:
                            new_ids[sub["id"]] = new
                            result.added += 1
                    for table in t.SUBMISSION_TABLES:
                        rows = [dict(r, submission_id=new_ids[r["submission_id"]]) for r in children[table.name]
                                if r["submission_id"] in new_ids]
                        if rows:
                            write.execute(table.insert(), rows)
                            result.rows[table.name] += len(rows)
                progress(min(start + BATCH, len(ids)), len(ids))
            result.rows["alerts"] = _push_alerts(read, dst)
    return result


def _push_alerts(read: AnyConnection, dst: Archive) -> int:
    """Copy the source's alerts the destination lacks; their submission ids become the destination's."""
    a, s = t.alerts, t.submissions
    rows = list(read.execute(sa.select(a, s.c.sha256).select_from(a.outerjoin(s, s.c.id == a.c.submission_id))
                             .order_by(a.c.id)).mappings())
    added = 0
    with dst.transaction() as write:
        shas = sorted({r["sha256"] for r in rows if r["sha256"]})
        ids = dict(write.execute(sa.select(s.c.sha256, s.c.id).where(s.c.sha256.in_(shas))).all()) if shas else {}
        for r in rows:
            values = {k: v for k, v in r.items() if k not in ("id", "sha256")}
            values["submission_id"] = ids.get(r["sha256"])
            added += insert_ignoring_duplicates(write, a, values, ["uscc", "kind", "hazard_key"], returning=a.c.id) is not None
    return added


@dataclass
class CheckResult:
    archive: str
    revision: str | None
    counts: dict[str, int]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


# The archive's own rules, each a query counting the rows that break it (0 = fine), with its Chinese name.
_RULES: list[tuple[str, str]] = [
    ("报送记录的企业不在企业表中", "SELECT COUNT(*) FROM submissions s LEFT JOIN enterprises e ON e.uscc = s.uscc "
                       "WHERE e.uscc IS NULL"),
    *((f"{table.name} 中有不属于任何报送的行",
       f"SELECT COUNT(*) FROM {table.name} x LEFT JOIN submissions s ON s.id = x.submission_id WHERE s.id IS NULL")
      for table in t.SUBMISSION_TABLES),
    ("报送的隐患数与隐患行数不符",
     "SELECT COUNT(*) FROM submissions s WHERE s.hazards <> (SELECT COUNT(*) FROM hazards h WHERE h.submission_id = s.id)"),
    ("报送的岗位数与岗位行数不符",
     "SELECT COUNT(*) FROM submissions s WHERE s.posts <> (SELECT COUNT(*) FROM posts p WHERE p.submission_id = s.id)"),
    ("报送的人员数与人员行数不符", "SELECT COUNT(*) FROM submissions s WHERE s.employees <> "
                        "(SELECT COUNT(*) FROM employees p WHERE p.submission_id = s.id)"),
    ("同一内容指纹有多条报送", "SELECT COUNT(*) FROM (SELECT sha256 FROM submissions GROUP BY sha256 HAVING COUNT(*) > 1) d"),
]


def check(target: str | Path) -> CheckResult:
    """Integrity of the archive at *target*: the database's checks, the archive's rules, rows per table."""
    problems: list[str] = []
    with Archive(target) as archive, archive.connect() as conn:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if revision != head_revision():
            problems.append(f"结构版本 {revision} 不是最新的 {head_revision()}")
        if archive.is_sqlite:
            found = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if found != ["ok"]:
                problems += [f"SQLite 完整性检查：{x}" for x in found[:20]]
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                problems.append(f"SQLite 外键检查：{len(broken)} 行引用了不存在的记录")
        else:
            invalid = conn.execute(sa.text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                "AND NOT (i.indisvalid AND i.indisready)")).scalars().all()
            problems += [f"PostgreSQL 索引 {name} 无效，需要 REINDEX" for name in invalid]
            constraints = conn.execute(sa.text(
                "SELECT COUNT(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = current_schema() AND NOT c.convalidated")).scalar()
            if constraints:
                problems.append(f"PostgreSQL 有 {constraints} 个约束未经验证（NOT VALID）")
        for name, sql in _RULES:
            n = conn.execute(sa.text(sql)).scalar()
            if n:
                problems.append(f"{name}：{n} 处")
        counts = {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                  for name, table in t.metadata.tables.items()}
        return CheckResult(archive.shown, revision, counts, problems)
