"""the foundation schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:58:34.192637
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("time_tier", sa.String(length=8), nullable=False),
        sa.Column("emergency", sa.String(length=8), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("enterprise", sa.Boolean(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=True),
        sa.Column("appeal_count", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "channel_state",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.Column("items_per_minute", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_state")),
    )
    op.create_table(
        "counters",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "name", name=op.f("pk_counters")),
    )
    op.create_table(
        "raw_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_items")),
        sa.UniqueConstraint("channel_id", "source_id", name=op.f("uq_raw_items_channel_id_source_id")),
    )
    with op.batch_alter_table("raw_items", schema=None) as batch_op:
        batch_op.create_index("ix_raw_items_status_received_at", ["status", "received_at"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("citizen_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("enterprise", sa.Boolean(), nullable=False),
        sa.Column("enterprise_name", sa.Text(), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("division_code", sa.String(length=6), nullable=True),
        sa.Column("township", sa.String(length=100), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("channel_category", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("time_tier", sa.String(length=8), nullable=False),
        sa.Column("tier_reason", sa.Text(), nullable=False),
        sa.Column("emergency", sa.String(length=8), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("match_title", sa.Text(), nullable=False),
        sa.Column("match_content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appeals_case_id_cases")),
        sa.ForeignKeyConstraint(["id"], ["raw_items.id"], name=op.f("fk_appeals_id_raw_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_received_at"), ["received_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outbox_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_deliveries_appeal_id_appeals")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_deliveries_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_appeal_id"), ["appeal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_deliveries_state_next_attempt_at", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "merge_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("rule_version", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_merge_log_appeal_id_appeals")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_merge_log_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merge_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_merge_log_hash")),
    )
    with op.batch_alter_table("merge_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_merge_log_appeal_id"), ["appeal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_merge_log_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("merge_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_merge_log_case_id"))
        batch_op.drop_index(batch_op.f("ix_merge_log_appeal_id"))

    op.drop_table("merge_log")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_deliveries_case_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_appeal_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_case_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_received_at"))
        batch_op.drop_index(batch_op.f("ix_appeals_case_id"))

    op.drop_table("appeals")
    with op.batch_alter_table("raw_items", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_items_status_received_at")

    op.drop_table("raw_items")
    op.drop_table("counters")
    op.drop_table("channel_state")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_cluster_id"))

    op.drop_table("cases")
