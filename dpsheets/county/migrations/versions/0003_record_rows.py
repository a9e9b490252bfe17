"""Records as typed rows; the city of each enterprise; the folder of each journal entry.

Adds one table per register (risks, posts, employees, trainings, drills, quizzes)
with one typed column per declared field, filled for the submissions already archived from
their JSON records, so nothing is lost and every question is SQL. Adds ``city`` (from the
credit code) to enterprises and submissions, ``seq`` to problems (their order) and
``folder`` to jobs (several watched folders may share one database).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from dpsheets.county.regions import CITIES

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES: dict[str, tuple[Any, ...]] = {
    "risks": ("risk", ("name", sa.Text), ("kind", sa.Text), ("source", sa.Text), ("accident", sa.Text),
              ("location", sa.Text), ("state", sa.Text), ("method", sa.Text), ("l", sa.Float), ("e", sa.Float),
              ("c", sa.Float), ("s", sa.Float), ("score", sa.Float), ("level", sa.Text), ("controls", sa.Text),
              ("emergency", sa.Text), ("tier", sa.Text), ("unit", sa.Text), ("owner", sa.Text), ("phone", sa.Text),
              ("identified_on", sa.Date)),
    "posts": ("post", ("workshop", sa.Text), ("team", sa.Text), ("post", sa.Text), ("duties", sa.Text),
              ("hazards", sa.Text), ("triggers", sa.Text), ("controls", sa.Text), ("emergency", sa.Text),
              ("level", sa.Text), ("procedure", sa.Text), ("emergency_phone", sa.Text)),
    "employees": ("employee", ("name", sa.Text), ("workshop", sa.Text), ("team", sa.Text), ("post", sa.Text),
                  ("mobile", sa.Text)),
    "trainings": ("training", ("date", sa.Date), ("topic", sa.Text), ("audience", sa.Text), ("attendees", sa.Integer),
                  ("hours", sa.Float), ("trainer", sa.Text), ("assessment", sa.Text)),
    "drills": ("drill", ("date", sa.Date), ("subject", sa.Text), ("form", sa.Text), ("attendees", sa.Integer),
               ("evaluation", sa.Text), ("improvements", sa.Text)),
    "quizzes": ("quiz", ("date", sa.Date), ("name", sa.Text), ("post", sa.Text), ("result", sa.Text),
                      ("via", sa.Text)),
}


def _convert(value, kind):  # noqa: ANN001, ANN202
    if value is None:
        return None
    if isinstance(value, list):
        value = "、".join(map(str, value))
    try:
        if kind is sa.Date:
            return date.fromisoformat(str(value)[:10])
        if kind is sa.Integer:
            return int(value)
        if kind is sa.Float:
            return float(value)
    except (TypeError, ValueError):
        return None
    return str(value)


def upgrade() -> None:
    for name, (_, *columns) in TABLES.items():
        op.create_table(name, sa.Column("submission_id", sa.Integer,
                                        sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
                        sa.Column("row", sa.Integer, nullable=False), *(sa.Column(c, t) for c, t in columns))
        op.create_index(f"{name}_by_submission", name, ["submission_id"])
    with op.batch_alter_table("enterprises") as t:
        t.add_column(sa.Column("city", sa.Text))
    with op.batch_alter_table("submissions") as t:
        t.add_column(sa.Column("city", sa.Text))
    op.create_index("submissions_by_area", "submissions", ["city", "county"])
    with op.batch_alter_table("problems") as t:
        t.add_column(sa.Column("seq", sa.Integer))
    with op.batch_alter_table("jobs") as t:
        t.add_column(sa.Column("folder", sa.Text))

    bind = op.get_bind()
    for code, city in CITIES.items():
        for table in ("enterprises", "submissions"):
            bind.execute(sa.text(f"UPDATE {table} SET city = :city WHERE substr(uscc, 3, 4) = :code"),
                         {"city": city, "code": code})
    if bind.dialect.name == "sqlite":
        bind.execute(sa.text("UPDATE problems SET seq = rowid"))
    records = sa.table("records", sa.column("submission_id"), sa.column("register"), sa.column("row"),
                       sa.column("data"))
    for name, (register, *columns) in TABLES.items():
        target = sa.table(name, sa.column("submission_id"), sa.column("row"),
                          *(sa.column(c, t) for c, t in columns))
        rows = bind.execute(sa.select(records.c.submission_id, records.c.row, records.c.data)
                            .where(records.c.register == register))
        batch = []
        for sid, row, data in rows:
            values = json.loads(data)
            batch.append({"submission_id": sid, "row": row, **{c: _convert(values.get(c), t) for c, t in columns}})
        if batch:
            bind.execute(target.insert(), batch)
