"""The archive's tables (the schema at the newest migration), for SQLite and PostgreSQL alike.

The migrations in ``dpsheets/county/migrations/`` create and upgrade this schema; a test
compares the migrated database of both engines with these declarations. The typed record
tables (risks, posts, employees, trainings, drills, quizzes and the 三有五化 registers) are generated from the
register declarations in :mod:`dpsheets.workbook.registers`: one column per declared field.
Dates are ``DATE`` (ISO text on SQLite), whole numbers ``INTEGER``, other numbers ``FLOAT``,
everything else text; a multi-choice field is stored joined with 、.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from dpsheets.workbook.registers import BY_KEY, FieldType, Register

metadata = MetaData()

enterprises = Table(
    "enterprises", metadata,
    Column("uscc", Text, primary_key=True), Column("name", Text, nullable=False), Column("county", Text),
    Column("township", Text), Column("industry", Text), Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False), Column("city", Text),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("uscc", Text, ForeignKey("enterprises.uscc"), nullable=False),
    Column("received_at", Text, nullable=False), Column("file_name", Text, nullable=False), Column("stored_name", Text),
    Column("sha256", Text, nullable=False), Column("template_version", Text), Column("filled_on", Text),
    Column("valid", Integer, nullable=False), Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False), Column("findings", Integer, nullable=False), Column("name", Text),
    Column("county", Text), Column("township", Text), Column("industry", Text),
    Column("risks_major", Integer, nullable=False), Column("risks_significant", Integer, nullable=False),
    Column("risks_general", Integer, nullable=False), Column("risks_low", Integer, nullable=False),
    Column("risks_unrated", Integer, nullable=False), Column("posts", Integer, nullable=False),
    Column("employees", Integer, nullable=False), Column("hazards", Integer, nullable=False),
    Column("city", Text),
    UniqueConstraint("sha256", name="submissions_sha256_key"),
    Index("submissions_by_enterprise", "uscc", "received_at"),
    Index("submissions_by_area", "city", "county"),
)


def _owned(name: str, *columns: Column, index: tuple[str, ...] = ("submission_id",)) -> Table:
    return Table(name, metadata,
                 Column("submission_id", Integer, ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
                 *columns, Index(f"{name}_by_submission", *index))


records = _owned("records", Column("register", Text, nullable=False), Column("row", Integer, nullable=False),
                 Column("data", Text, nullable=False), index=("submission_id", "register"))
problems = _owned("problems", Column("code", Text, nullable=False), Column("severity", Text, nullable=False),
                  Column("sheet", Text), Column("row", Integer), Column("column_name", Text), Column("cell", Text),
                  Column("message", Text, nullable=False), Column("seq", Integer))
hazards = _owned("hazards", Column("row", Integer, nullable=False), Column("number", Text), Column("name", Text),
                 Column("location", Text), Column("level", Text), Column("status", Text), Column("found_on", Date),
                 Column("deadline", Date), Column("completed_on", Date), Column("unit", Text), Column("owner", Text),
                 Column("has_plan", Integer, nullable=False), Column("reported_on", Date))
ledger_dates = _owned("ledger_dates", Column("kind", Text, nullable=False), Column("day", Date, nullable=False),
                      index=("submission_id", "kind"))

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True), Column("source", Text, nullable=False),
    Column("original_name", Text, nullable=False), Column("processing_name", Text, nullable=False),
    Column("state", Text, nullable=False), Column("destination", Text), Column("final_name", Text), Column("reason", Text),
    Column("submission_id", Integer), Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
    Column("folder", Text),
    Index("jobs_by_state", "state"),
)

# The web service (一码 and 一题): secrets, QR tokens, phone confirmations, county users, audit log.
settings = Table("settings", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))
qr_tokens = Table(
    "qr_tokens", metadata,
    Column("token", Text, primary_key=True), Column("kind", Text, nullable=False), Column("uscc", Text, nullable=False),
    Column("workshop", Text, nullable=False, server_default=""), Column("post", Text, nullable=False, server_default=""),
    Index("qr_tokens_by_enterprise", "uscc", "kind"),
)
confirmations = Table(
    "confirmations", metadata,
    Column("id", Integer, primary_key=True), Column("uscc", Text, nullable=False), Column("day", Text, nullable=False),
    Column("at", Text, nullable=False), Column("name", Text, nullable=False),
    Column("workshop", Text, nullable=False, server_default=""), Column("post", Text, nullable=False),
    Column("result", Text, nullable=False), Column("via", Text, nullable=False), Column("address", Text),
    Index("confirmations_by_enterprise", "uscc", "day"),
)
users = Table(
    "users", metadata,
    Column("username", Text, primary_key=True), Column("password_hash", Text, nullable=False), Column("county", Text),
    Column("created_at", Text, nullable=False), Column("updated_at", Text, nullable=False),
)
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True), Column("at", Text, nullable=False), Column("who", Text, nullable=False),
    Column("action", Text, nullable=False), Column("target", Text), Column("detail", Text), Column("address", Text),
    Index("audit_by_time", "at"), Index("audit_by_address", "address", "at"),  # the throttles count by address (0006)
)
# The one-time form tokens that were used (revision 0006, dpsheets.web.security.FormTokens): the primary key
# refuses a replay in every server process on the archive; rows older than a form's validity are purged.
used_forms = Table(
    "used_forms", metadata,
    Column("token", Text, primary_key=True), Column("used_at", Text, nullable=False),
    Index("used_forms_by_time", "used_at"),
)

# Major-hazard alerts (revision 0005, dpsheets.county.alerts): one row per new or newly overdue 重大隐患 of an
# enterprise, ever; the UNIQUE constraint makes "exactly once" the database's to enforce. file_name: the alert's
# file in 提醒/ (NULL: not written yet; "": told inside the 新增 alert of the same hazard, no file of its own).
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True), Column("uscc", Text, nullable=False), Column("kind", Text, nullable=False),
    Column("hazard_key", Text, nullable=False), Column("enterprise", Text), Column("county", Text),
    Column("township", Text), Column("number", Text), Column("name", Text), Column("location", Text),
    Column("status", Text), Column("plan", Text), Column("reported_on", Date), Column("deadline", Date),
    Column("days_overdue", Integer), Column("submission_id", Integer), Column("received_at", Text),
    Column("raised_on", Text, nullable=False), Column("created_at", Text, nullable=False), Column("folder", Text),
    Column("file_name", Text),
    UniqueConstraint("uscc", "kind", "hazard_key", name="alerts_once"),
    Index("alerts_by_day", "raised_on"),
)

# register key → table name of its typed rows (hazards have their own table above, from the first schema)
RECORD_TABLES: dict[str, str] = {"risk": "risks", "post": "posts", "employee": "employees", "training": "trainings",
                                 "drill": "drills", "quiz": "quizzes",
                                 # 三有五化 (revision 0004)
                                 "inspection_plan": "inspection_plans", "reward": "rewards", "procedure": "procedures",
                                 "unit_duty": "unit_duties", "sign": "signs"}
SQL_TYPES = {FieldType.DATE: Date, FieldType.INT: Integer, FieldType.NUMBER: Float}


def record_columns(register: Register) -> list[tuple[str, type]]:
    """(column, SQLAlchemy type) of each declared field of *register*."""
    return [(f.key, SQL_TYPES.get(f.type, Text)) for f in register.fields]


def _record_table(key: str, name: str) -> Table:
    return _owned(name, Column("row", Integer, nullable=False),
                  *(Column(column, kind) for column, kind in record_columns(BY_KEY[key])))


record_tables: dict[str, Table] = {key: _record_table(key, name) for key, name in RECORD_TABLES.items()}

# Tables that belong to one submission (deleted with it), in the order a copy writes them.
SUBMISSION_TABLES: tuple[Table, ...] = (records, problems, hazards, ledger_dates, *record_tables.values())
