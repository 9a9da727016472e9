"""Device ids hold any unsigned 32-bit miIO id: BIGINT where they were INTEGER

Databases created on PostgreSQL before this fix store ``device.did``,
``tipdelivery.device_did`` and ``inboxitem.device_did`` as signed 32-bit INTEGER, which
refuses device ids from 2**31 on (real ones are that large). SQLite's INTEGER is 64-bit
already, and newer databases have BIGINT: for them this does nothing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = (("device", "did"), ("tipdelivery", "device_did"), ("inboxitem", "device_did"))


def _narrow() -> list[tuple[str, str, bool]]:
    """(table, column, nullable) of each device id column that is still 32-bit."""
    inspector = sa.inspect(op.get_bind())
    return [
        (table, column, bool(found["nullable"]))
        for table, column in COLUMNS
        for found in inspector.get_columns(table)
        if found["name"] == column and not isinstance(found["type"], sa.BigInteger)
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable in _narrow():
        op.alter_column(
            table,
            column,
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    pass  # a narrower column would refuse the device ids it holds
