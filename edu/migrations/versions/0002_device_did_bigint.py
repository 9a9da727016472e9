"""device.did holds any unsigned 32-bit miIO device id: BIGINT where it was INTEGER

Databases created on PostgreSQL before this fix store ``device.did`` as a signed 32-bit
INTEGER, which refuses device ids from 2**31 on (real ones are that large). SQLite's
INTEGER is 64-bit already, and newer databases have BIGINT: for them this does nothing.

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


def _did_type() -> sa.types.TypeEngine[int]:
    columns = sa.inspect(op.get_bind()).get_columns("device")
    return next(column["type"] for column in columns if column["name"] == "did")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite" or isinstance(_did_type(), sa.BigInteger):
        return
    with op.batch_alter_table("device") as batch_op:
        batch_op.alter_column(
            "did", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )


def downgrade() -> None:
    pass  # a narrower column would refuse the device ids it holds
