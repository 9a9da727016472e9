"""Baseline: the schema as first released (before migrations existed)

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import edu.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database from before migrations has some of these tables already: create the rest.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "household" not in existing:
        op.create_table(
            "household",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("revision", sa.Integer(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "schedulerlease" not in existing:
        op.create_table(
            "schedulerlease",
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("acquired_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("expires_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if "schedulerrun" not in existing:
        op.create_table(
            "schedulerrun",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("job", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("started_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("finished_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("ok", sa.Boolean(), nullable=True),
            sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("schedulerrun", schema=None) as batch_op:
            batch_op.create_index(
                "ix_schedulerrun_job_started", ["job", "started_at"], unique=False
            )
    if "device" not in existing:
        op.create_table(
            "device",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("did", sa.BigInteger(), nullable=False),
            sa.Column("mac", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("ip", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("family", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("implementation", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("firmware", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("hardware", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("status_detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("token_ciphertext", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("token_source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("discovered_via", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("consecutive_failures", sa.Integer(), nullable=False),
            sa.Column("last_snapshot", sa.JSON(), nullable=True),
            sa.Column("first_seen", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_seen", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("last_polled", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("next_poll", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("household_id", "did"),
        )
        with op.batch_alter_table("device", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_device_did"), ["did"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_device_household_id"), ["household_id"], unique=False
            )
            batch_op.create_index(batch_op.f("ix_device_mac"), ["mac"], unique=False)
    if "person" not in existing:
        op.create_table(
            "person",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("pin_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("uses_all_devices", sa.Boolean(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("household_id", "name"),
        )
        with op.batch_alter_table("person", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_person_household_id"), ["household_id"], unique=False
            )
    if "apitoken" not in existing:
        op.create_table(
            "apitoken",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("hint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_used", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("apitoken", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_apitoken_digest"), ["digest"], unique=True)
            batch_op.create_index(batch_op.f("ix_apitoken_person_id"), ["person_id"], unique=False)
    if "demo_device" not in existing:
        op.create_table(
            "demo_device",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("snapshot", sa.JSON(), nullable=True),
            sa.Column("snapshot_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("session_id", sa.Integer(), nullable=True),
            sa.Column("last_reset", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("problems", sa.JSON(), nullable=True),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("device_id"),
        )
    if "demo_kiosk_view" not in existing:
        op.create_table(
            "demo_kiosk_view",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("viewed_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("demo_kiosk_view", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_demo_kiosk_view_device_id"), ["device_id"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_demo_kiosk_view_household_id"), ["household_id"], unique=False
            )
    if "demo_session" not in existing:
        op.create_table(
            "demo_session",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=True),
            sa.Column("started_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_activity", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("ended_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("restored", sa.Boolean(), nullable=True),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="SET NULL"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("demo_session", schema=None) as batch_op:
            batch_op.create_index(
                "ix_demo_session_device_started", ["device_id", "started_at"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_demo_session_household_id"), ["household_id"], unique=False
            )
    if "demo_staff_action" not in existing:
        op.create_table(
            "demo_staff_action",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=True),
            sa.Column("who", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=True),
            sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="SET NULL"),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="SET NULL"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("demo_staff_action", schema=None) as batch_op:
            batch_op.create_index(
                "ix_demo_staff_action_household_at", ["household_id", "at"], unique=False
            )
    if "devicecapability" not in existing:
        op.create_table(
            "devicecapability",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("mapped", sa.Boolean(), nullable=False),
            sa.Column("setting", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("method", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("details", sa.JSON(), nullable=True),
            sa.Column("in_use", sa.Boolean(), nullable=False),
            sa.Column("last_used", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("device_id", "capability"),
        )
        with op.batch_alter_table("devicecapability", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_devicecapability_device_id"), ["device_id"], unique=False
            )
    if "featureuse" not in existing:
        op.create_table(
            "featureuse",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("household_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("person_key", sa.Integer(), nullable=False),
            sa.Column("first_used", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_used", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("uses", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(
                ["household_id"],
                ["household.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("device_id", "capability", "person_key"),
        )
        with op.batch_alter_table("featureuse", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_featureuse_household_id"), ["household_id"], unique=False
            )
    if "inboxitem" not in existing:
        op.create_table(
            "inboxitem",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("device_did", sa.BigInteger(), nullable=True),
            sa.Column("device_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("link", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("read_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("person_id", "lesson", name="uq_inboxitem_person_lesson"),
        )
        with op.batch_alter_table("inboxitem", schema=None) as batch_op:
            batch_op.create_index(
                "ix_inboxitem_person_created", ["person_id", "created_at"], unique=False
            )
    if "lessonprogress" not in existing:
        op.create_table(
            "lessonprogress",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("until", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("updated_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("person_id", "lesson"),
        )
        with op.batch_alter_table("lessonprogress", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_lessonprogress_person_id"), ["person_id"], unique=False
            )
    if "loginattempt" not in existing:
        op.create_table(
            "loginattempt",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("ok", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("loginattempt", schema=None) as batch_op:
            batch_op.create_index("ix_login_attempt_person_at", ["person_id", "at"], unique=False)
    if "ownwrite" not in existing:
        op.create_table(
            "ownwrite",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("value", sa.JSON(), nullable=True),
            sa.Column("written_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("consumed", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("ownwrite", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_ownwrite_device_id"), ["device_id"], unique=False)
    if "pendingrevert" not in existing:
        op.create_table(
            "pendingrevert",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=True),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("value", sa.JSON(), nullable=True),
            sa.Column("due_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("done", sa.Boolean(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("pendingrevert", schema=None) as batch_op:
            batch_op.create_index("ix_pending_revert_due", ["done", "due_at"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_pendingrevert_device_id"), ["device_id"], unique=False
            )
    if "persondevice" not in existing:
        op.create_table(
            "persondevice",
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("person_id", "device_id"),
        )
    if "statussnapshot" not in existing:
        op.create_table(
            "statussnapshot",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("taken_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("data", sa.JSON(), nullable=True),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("statussnapshot", schema=None) as batch_op:
            batch_op.create_index(
                "ix_snapshot_device_taken", ["device_id", "taken_at"], unique=False
            )
    if "tipchannel" not in existing:
        op.create_table(
            "tipchannel",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("url_ciphertext", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("enabled", sa.Boolean(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("last_test_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("last_test_ok", sa.Boolean(), nullable=True),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("tipchannel", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_tipchannel_person_id"), ["person_id"], unique=False
            )
    if "tipmute" not in existing:
        op.create_table(
            "tipmute",
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("person_id", "device_id"),
        )
    if "tippolicy" not in existing:
        op.create_table(
            "tippolicy",
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("cadence", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("weekday", sa.Integer(), nullable=False),
            sa.Column("at", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("quiet_start", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("quiet_end", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("daily_cap", sa.Integer(), nullable=False),
            sa.Column("weekly_cap", sa.Integer(), nullable=False),
            sa.Column("snooze_until", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("unsubscribed_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("updated_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("person_id"),
        )
    if "usageevent" not in existing:
        op.create_table(
            "usageevent",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("how", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=True),
            sa.Column("detected_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("usageevent", schema=None) as batch_op:
            batch_op.create_index(
                "ix_usage_device_capability", ["device_id", "capability", "person_id"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_usageevent_person_id"), ["person_id"], unique=False
            )
    if "demo_step" not in existing:
        op.create_table(
            "demo_step",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("session_id", sa.Integer(), nullable=False),
            sa.Column("device_id", sa.Integer(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("capability", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("again", sa.Boolean(), nullable=False),
            sa.Column("shown_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["session_id"], ["demo_session.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("demo_step", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_demo_step_device_id"), ["device_id"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_demo_step_session_id"), ["session_id"], unique=False
            )
    if "tipdelivery" not in existing:
        op.create_table(
            "tipdelivery",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("lesson", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("channel_id", sa.Integer(), nullable=True),
            sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("device_did", sa.BigInteger(), nullable=True),
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("link", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("created_at", edu.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            sa.Column("claimed_until", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("next_attempt_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("sent_at", edu.db.UTCDateTime(timezone=True), nullable=True),
            sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.ForeignKeyConstraint(["channel_id"], ["tipchannel.id"], ondelete="SET NULL"),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("person_id", "lesson", "channel", name="uq_tipdelivery_key"),
        )
        with op.batch_alter_table("tipdelivery", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_tipdelivery_person_id"), ["person_id"], unique=False
            )
            batch_op.create_index(
                "ix_tipdelivery_status_next", ["status", "next_attempt_at"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("tipdelivery", schema=None) as batch_op:
        batch_op.drop_index("ix_tipdelivery_status_next")
        batch_op.drop_index(batch_op.f("ix_tipdelivery_person_id"))

    op.drop_table("tipdelivery")
    with op.batch_alter_table("demo_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_step_session_id"))
        batch_op.drop_index(batch_op.f("ix_demo_step_device_id"))

    op.drop_table("demo_step")
    with op.batch_alter_table("usageevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usageevent_person_id"))
        batch_op.drop_index("ix_usage_device_capability")

    op.drop_table("usageevent")
    op.drop_table("tippolicy")
    op.drop_table("tipmute")
    with op.batch_alter_table("tipchannel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tipchannel_person_id"))

    op.drop_table("tipchannel")
    with op.batch_alter_table("statussnapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshot_device_taken")

    op.drop_table("statussnapshot")
    op.drop_table("persondevice")
    with op.batch_alter_table("pendingrevert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pendingrevert_device_id"))
        batch_op.drop_index("ix_pending_revert_due")

    op.drop_table("pendingrevert")
    with op.batch_alter_table("ownwrite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ownwrite_device_id"))

    op.drop_table("ownwrite")
    with op.batch_alter_table("loginattempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_person_at")

    op.drop_table("loginattempt")
    with op.batch_alter_table("lessonprogress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lessonprogress_person_id"))

    op.drop_table("lessonprogress")
    with op.batch_alter_table("inboxitem", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxitem_person_created")

    op.drop_table("inboxitem")
    with op.batch_alter_table("featureuse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_featureuse_household_id"))

    op.drop_table("featureuse")
    with op.batch_alter_table("devicecapability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devicecapability_device_id"))

    op.drop_table("devicecapability")
    with op.batch_alter_table("demo_staff_action", schema=None) as batch_op:
        batch_op.drop_index("ix_demo_staff_action_household_at")

    op.drop_table("demo_staff_action")
    with op.batch_alter_table("demo_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_session_household_id"))
        batch_op.drop_index("ix_demo_session_device_started")

    op.drop_table("demo_session")
    with op.batch_alter_table("demo_kiosk_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demo_kiosk_view_household_id"))
        batch_op.drop_index(batch_op.f("ix_demo_kiosk_view_device_id"))

    op.drop_table("demo_kiosk_view")
    op.drop_table("demo_device")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apitoken_person_id"))
        batch_op.drop_index(batch_op.f("ix_apitoken_digest"))

    op.drop_table("apitoken")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_household_id"))

    op.drop_table("person")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_mac"))
        batch_op.drop_index(batch_op.f("ix_device_household_id"))
        batch_op.drop_index(batch_op.f("ix_device_did"))

    op.drop_table("device")
    with op.batch_alter_table("schedulerrun", schema=None) as batch_op:
        batch_op.drop_index("ix_schedulerrun_job_started")

    op.drop_table("schedulerrun")
    op.drop_table("schedulerlease")
    op.drop_table("household")
