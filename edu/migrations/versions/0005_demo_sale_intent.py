"""Sale intent: a demo that ended with the customer wanting to buy

Staff end a demo with "the customer wants to buy"; the shop's community report counts which
features those demos showed. Demos stored before this revision did not end in a sale intent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like the baseline, only what is missing: a database the models created has it already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("demo_session")}
    if "sale_intent" not in columns:
        with op.batch_alter_table("demo_session", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("sale_intent", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+, PostgreSQL): rebuilding a table that others point
    # at would fail their foreign keys.
    op.drop_column("demo_session", "sale_intent")
