"""The web service (一码 and 一题): archive secrets, QR tokens, phone confirmations, county users, audit log.

Released as SQLite ``PRAGMA user_version = 2``: such an archive is stamped with this revision when
first opened and then upgraded.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("settings", sa.Column("key", sa.Text, primary_key=True), sa.Column("value", sa.Text, nullable=False))
    op.create_table(
        "qr_tokens",
        sa.Column("token", sa.Text, primary_key=True), sa.Column("kind", sa.Text, nullable=False),
        sa.Column("uscc", sa.Text, nullable=False), sa.Column("workshop", sa.Text, nullable=False, server_default=""),
        sa.Column("post", sa.Text, nullable=False, server_default=""))
    op.create_index("qr_tokens_by_enterprise", "qr_tokens", ["uscc", "kind"])
    op.create_table(
        "confirmations",
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("uscc", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False), sa.Column("at", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False), sa.Column("workshop", sa.Text, nullable=False, server_default=""),
        sa.Column("post", sa.Text, nullable=False), sa.Column("result", sa.Text, nullable=False),
        sa.Column("via", sa.Text, nullable=False), sa.Column("address", sa.Text))
    op.create_index("confirmations_by_enterprise", "confirmations", ["uscc", "day"])
    op.create_table(
        "users",
        sa.Column("username", sa.Text, primary_key=True), sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("county", sa.Text), sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False))
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Text, nullable=False),
        sa.Column("who", sa.Text, nullable=False), sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text), sa.Column("detail", sa.Text), sa.Column("address", sa.Text))
    op.create_index("audit_by_time", "audit", ["at"])
