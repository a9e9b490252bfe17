"""The 上报日期 of each hazard; the 三有五化 registers as typed rows.

Adds ``reported_on`` (上报日期, the day a 重大隐患 was reported to the supervising department) to
``hazards`` and one table per 三有五化 register (inspection_plans, rewards, procedures,
unit_duties, signs) with one typed column per declared field. Both are filled for the
submissions already archived from their JSON records (where a submission had none, the
columns stay NULL and the tables empty), so the roll-up can count them in SQL.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The declarations of dpsheets.workbook.registers as they stood at this revision (frozen here).
TABLES: dict[str, tuple[Any, ...]] = {
    "inspection_plans": ("inspection_plan", ("content", sa.Text), ("location", sa.Text), ("check_type", sa.Text),
                         ("frequency", sa.Text), ("inspector", sa.Text), ("unit", sa.Text), ("standard", sa.Text),
                         ("last_done", sa.Date)),
    "rewards": ("reward", ("date", sa.Date), ("target", sa.Text), ("kind", sa.Text), ("reason", sa.Text),
                ("measure", sa.Text), ("amount", sa.Float), ("approver", sa.Text)),
    "procedures": ("procedure", ("post", sa.Text), ("title", sa.Text), ("steps", sa.Text), ("prohibitions", sa.Text),
                   ("revised_on", sa.Date)),
    "unit_duties": ("unit_duty", ("tier", sa.Text), ("workshop", sa.Text), ("team", sa.Text), ("head", sa.Text),
                    ("duties", sa.Text), ("risks", sa.Text), ("phone", sa.Text)),
    "signs": ("sign", ("location", sa.Text), ("name", sa.Text), ("kind", sa.Text), ("count", sa.Integer),
              ("state", sa.Text), ("checked_on", sa.Date)),
}
BATCH = 5000


def _convert(value, kind):  # noqa: ANN001, ANN202
    if value is None:
        return None
    if isinstance(value, list):
        value = "、".join(map(str, value))
    try:
        if kind is sa.Date:
            return date.fromisoformat(str(value)[:10])
        if kind is sa.Integer:
            return int(value) if float(value).is_integer() else None
        if kind is sa.Float:
            return float(value)
    except (TypeError, ValueError):
        return None
    return str(value)


def _records(bind: sa.Connection, register: str):  # noqa: ANN202
    records = sa.table("records", sa.column("submission_id"), sa.column("register"), sa.column("row"),
                       sa.column("data"))
    query = sa.select(records.c.submission_id, records.c.row, records.c.data).where(records.c.register == register)
    return bind.execute(query)


def _flush(bind: sa.Connection, statement: Any, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if batch:
        bind.execute(statement, batch)
    return []


def upgrade() -> None:
    with op.batch_alter_table("hazards") as t:
        t.add_column(sa.Column("reported_on", sa.Date))
    for name, (_, *columns) in TABLES.items():
        op.create_table(name, sa.Column("submission_id", sa.Integer,
                                        sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
                        sa.Column("row", sa.Integer, nullable=False), *(sa.Column(c, t) for c, t in columns))
        op.create_index(f"{name}_by_submission", name, ["submission_id"])

    bind = op.get_bind()
    hazards = sa.table("hazards", sa.column("submission_id"), sa.column("row"), sa.column("reported_on", sa.Date))
    update = (hazards.update().where(hazards.c.submission_id == sa.bindparam("sid"), hazards.c.row == sa.bindparam("r"))
              .values(reported_on=sa.bindparam("day")))
    batch: list[dict[str, Any]] = []
    for sid, row, data in list(_records(bind, "hazard")):
        day = _convert(json.loads(data).get("reported_on"), sa.Date)
        if day is not None:
            batch.append({"sid": sid, "r": row, "day": day})
    for start in range(0, len(batch), BATCH):
        bind.execute(update, batch[start:start + BATCH])
    for name, (register, *columns) in TABLES.items():
        target = sa.table(name, sa.column("submission_id"), sa.column("row"), *(sa.column(c, t) for c, t in columns))
        rows: list[dict[str, Any]] = []
        for sid, row, data in list(_records(bind, register)):
            values = json.loads(data)
            rows.append({"submission_id": sid, "row": row, **{c: _convert(values.get(c), t) for c, t in columns}})
            if len(rows) >= BATCH:
                rows = _flush(bind, target.insert(), rows)
        _flush(bind, target.insert(), rows)
