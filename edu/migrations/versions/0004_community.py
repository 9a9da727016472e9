"""Community hub: the household's link to a hub, the cached adoption table and owners' tips

Created only where missing, like the baseline: a database made by ``create_all`` from
these models (before the revision was stamped) has them already.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import edu.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "community_adoption" not in existing:
        op.create_table(
            "community_adoption",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("homes", sa.Integer(), nullable=False),
            sa.Column("in_use", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("model", "capability"),
        )
        with op.batch_alter_table("community_adoption", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_community_adoption_model"), ["model"], unique=False
            )
    if "community_link" not in existing:
        op.create_table(
            "community_link",
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("hub_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("joined_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("last_sent_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("adoption_fetched_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["household_id"], ["household.id"]),
            sa.PrimaryKeyConstraint("household_id"),
        )
    if "community_tip" not in existing:
        op.create_table(
            "community_tip",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("hub_id", sa.Integer(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("community_tip", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_community_tip_hub_id"), ["hub_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_community_tip_model"), ["model"], unique=False)
    if "community_tip_draft" not in existing:
        op.create_table(
            "community_tip_draft",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("sent_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("hub_id", sa.Integer(), nullable=True),
            sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.ForeignKeyConstraint(["household_id"], ["household.id"]),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("community_tip_draft", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_community_tip_draft_household_id"), ["household_id"], unique=False
            )


def downgrade() -> None:
    op.drop_table("community_tip_draft")
    with op.batch_alter_table("community_tip", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_tip_model"))
        batch_op.drop_index(batch_op.f("ix_community_tip_hub_id"))
    op.drop_table("community_tip")
    op.drop_table("community_link")
    with op.batch_alter_table("community_adoption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_adoption_model"))
    op.drop_table("community_adoption")
