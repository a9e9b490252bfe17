"""Used form tokens, shared by every server process, and an index for the login throttle.

Adds ``used_forms``: the nonce of each one-time form token that was submitted (primary key), with the time it
was used. A submission inserts its nonce; the primary key decides (insert-or-refuse), so a form replayed to
another ``dpsheets serve`` process on the same archive is refused too. Rows older than a form's validity are
purged by time (an expired form is refused by its signature anyway).

Adds the index ``audit_by_address`` on audit (address, at), which the throttles count by.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_forms",
        sa.Column("token", sa.Text, primary_key=True), sa.Column("used_at", sa.Text, nullable=False),
    )
    op.create_index("used_forms_by_time", "used_forms", ["used_at"])
    op.create_index("audit_by_address", "audit", ["address", "at"])
