"""The first archive schema (released as SQLite ``PRAGMA user_version = 1``).

An SQLite archive written by that release is stamped with this revision when first opened
and then upgraded; a new archive (SQLite or PostgreSQL) is created by it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _owned(name: str, *columns: sa.Column) -> None:
    op.create_table(name, sa.Column("submission_id", sa.Integer,
                                    sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False), *columns)


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("uscc", sa.Text, primary_key=True), sa.Column("name", sa.Text, nullable=False),
        sa.Column("county", sa.Text), sa.Column("township", sa.Text), sa.Column("industry", sa.Text),
        sa.Column("first_seen", sa.Text, nullable=False), sa.Column("last_seen", sa.Text, nullable=False))
    counts = ("valid", "errors", "warnings", "findings")
    risks = ("risks_major", "risks_significant", "risks_general", "risks_low", "risks_unrated", "posts", "employees",
             "hazards")
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uscc", sa.Text, sa.ForeignKey("enterprises.uscc"), nullable=False),
        sa.Column("received_at", sa.Text, nullable=False), sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("stored_name", sa.Text), sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("template_version", sa.Text), sa.Column("filled_on", sa.Text),
        *(sa.Column(c, sa.Integer, nullable=False) for c in counts),
        sa.Column("name", sa.Text), sa.Column("county", sa.Text), sa.Column("township", sa.Text),
        sa.Column("industry", sa.Text), *(sa.Column(c, sa.Integer, nullable=False) for c in risks),
        sa.UniqueConstraint("sha256", name="submissions_sha256_key"))
    op.create_index("submissions_by_enterprise", "submissions", ["uscc", "received_at"])
    _owned("records", sa.Column("register", sa.Text, nullable=False), sa.Column("row", sa.Integer, nullable=False),
           sa.Column("data", sa.Text, nullable=False))
    op.create_index("records_by_submission", "records", ["submission_id", "register"])
    _owned("problems", sa.Column("code", sa.Text, nullable=False), sa.Column("severity", sa.Text, nullable=False),
           sa.Column("sheet", sa.Text), sa.Column("row", sa.Integer), sa.Column("column_name", sa.Text),
           sa.Column("cell", sa.Text), sa.Column("message", sa.Text, nullable=False))
    op.create_index("problems_by_submission", "problems", ["submission_id"])
    _owned("hazards", sa.Column("row", sa.Integer, nullable=False), sa.Column("number", sa.Text),
           sa.Column("name", sa.Text), sa.Column("location", sa.Text), sa.Column("level", sa.Text),
           sa.Column("status", sa.Text), sa.Column("found_on", sa.Date), sa.Column("deadline", sa.Date),
           sa.Column("completed_on", sa.Date), sa.Column("unit", sa.Text), sa.Column("owner", sa.Text),
           sa.Column("has_plan", sa.Integer, nullable=False))
    op.create_index("hazards_by_submission", "hazards", ["submission_id"])
    _owned("ledger_dates", sa.Column("kind", sa.Text, nullable=False), sa.Column("day", sa.Date, nullable=False))
    op.create_index("ledger_dates_by_submission", "ledger_dates", ["submission_id", "kind"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("source", sa.Text, nullable=False),
        sa.Column("original_name", sa.Text, nullable=False), sa.Column("processing_name", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False), sa.Column("destination", sa.Text), sa.Column("final_name", sa.Text),
        sa.Column("reason", sa.Text), sa.Column("submission_id", sa.Integer),
        sa.Column("created_at", sa.Text, nullable=False), sa.Column("updated_at", sa.Text, nullable=False))
    op.create_index("jobs_by_state", "jobs", ["state"])
