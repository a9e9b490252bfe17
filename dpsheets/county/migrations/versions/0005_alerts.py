"""Major-hazard alerts: one row per new or newly overdue 重大隐患 of an enterprise, written once.

Adds ``alerts`` (see :mod:`dpsheets.county.alerts`) with a UNIQUE constraint on (uscc, kind, hazard_key),
so that an alert is raised exactly once, also across restarts of the watcher and by several processes.
The table starts empty: what was archived before counts as known (a later submission raises an alert
only for a major hazard that no earlier submission of the enterprise had).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("uscc", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False), sa.Column("hazard_key", sa.Text, nullable=False),
        sa.Column("enterprise", sa.Text), sa.Column("county", sa.Text), sa.Column("township", sa.Text),
        sa.Column("number", sa.Text), sa.Column("name", sa.Text), sa.Column("location", sa.Text),
        sa.Column("status", sa.Text), sa.Column("plan", sa.Text), sa.Column("reported_on", sa.Date),
        sa.Column("deadline", sa.Date), sa.Column("days_overdue", sa.Integer), sa.Column("submission_id", sa.Integer),
        sa.Column("received_at", sa.Text), sa.Column("raised_on", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False), sa.Column("folder", sa.Text), sa.Column("file_name", sa.Text),
        sa.UniqueConstraint("uscc", "kind", "hazard_key", name="alerts_once"),
    )
    op.create_index("alerts_by_day", "alerts", ["raised_on"])
