"""Community link: whether the joined hub said its homes are simulated (`edu demo --hub`)

Links stored before this revision were made with real hubs only, so they read false.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like the baseline, only what is missing: a database the models created has it already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("community_link")}
    if "hub_simulated" not in columns:
        with op.batch_alter_table("community_link", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("hub_simulated", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    with op.batch_alter_table("community_link", schema=None) as batch_op:
        batch_op.drop_column("hub_simulated")
