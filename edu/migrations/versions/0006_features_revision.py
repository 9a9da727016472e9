"""Households keep a revision of their devices' features

Bumped (by edu.revisions) whenever a device's capabilities change, so a household's state
keeps the capabilities it read (the biggest part of it) across the frequent changes of polls,
people and usage. Existing households start at 0.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like the baseline, only what is missing: a database the models created has it already.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("household")}
    if "features_revision" not in columns:
        with op.batch_alter_table("household", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("features_revision", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+, PostgreSQL): rebuilding a table that others point
    # at would fail their foreign keys.
    op.drop_column("household", "features_revision")
