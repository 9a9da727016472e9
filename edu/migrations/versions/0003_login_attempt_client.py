"""Sign-in attempts remember the client (remote address) they came from

The PIN limit slows the client that guesses, per profile, instead of locking the profile for
everyone. Attempts stored before this revision have an empty client.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Like the baseline, only what is missing: a database the models created has it already.
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("loginattempt")}
    indexes = {i["name"] for i in inspector.get_indexes("loginattempt")}
    with op.batch_alter_table("loginattempt", schema=None) as batch_op:
        if "client" not in columns:
            batch_op.add_column(
                sa.Column("client", sa.String(length=64), nullable=False, server_default="")
            )
        if "ix_login_attempt_person_client_at" not in indexes:
            batch_op.create_index(
                "ix_login_attempt_person_client_at", ["person_id", "client", "at"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("loginattempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_person_client_at")
        batch_op.drop_column("client")
