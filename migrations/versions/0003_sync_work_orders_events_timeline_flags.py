"""sync: raw item versions, work orders and their events, case timeline, flags, frozen requests, review

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("raw_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
    op.create_table(
        "raw_item_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("raw_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["raw_id"], ["raw_items.id"], name=op.f("fk_raw_item_versions_raw_id_raw_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_item_versions")),
        sa.UniqueConstraint("raw_id", "digest", name=op.f("uq_raw_item_versions_raw_id_digest")),
    )
    with op.batch_alter_table("raw_item_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_item_versions_raw_id"), ["raw_id"], unique=False)
    op.create_table(
        "platform_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("work_order_no", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_platform_events_event_id")),
    )
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_events_state_work_order_no_seq", ["state", "work_order_no", "seq"], unique=False
        )

    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ref", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
        sa.UniqueConstraint("ref", name=op.f("uq_case_events_ref")),
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_events_case_id"), ["case_id"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("flag_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_flags_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        sa.UniqueConstraint("case_id", "kind", "reason", name=op.f("uq_flags_case_id_kind_reason")),
        sa.UniqueConstraint("flag_id", name=op.f("uq_flags_flag_id")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_order_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("record_no", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("platform_status", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("last_event_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("unit_name", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("returns", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("due_state", sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_reply_due_at"), ["reply_due_at"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_cases_work_order_no"), ["work_order_no"])
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("last_event_seq", server_default=None)
        batch_op.alter_column("returns", server_default=None)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=80), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_event_id"), ["event_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("event_id", server_default=None)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_case_id")
        batch_op.create_index("ix_outbox_case_id_id", ["case_id", "id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_appeal_id")
        batch_op.create_index("ix_deliveries_appeal_id_id", ["appeal_id", "id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("response", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_appeal_id_id")
        batch_op.create_index("ix_deliveries_appeal_id", ["appeal_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_case_id_id")
        batch_op.create_index("ix_outbox_case_id", ["case_id"], unique=False)
    with op.batch_alter_table("raw_item_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_item_versions_raw_id"))
    op.drop_table("raw_item_versions")
    with op.batch_alter_table("raw_items", schema=None) as batch_op:
        batch_op.drop_column("digest")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("response")
        batch_op.drop_column("request")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_event_id"))
        batch_op.drop_column("review_comment")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("event_id")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cases_work_order_no"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_cases_reply_due_at"))
        batch_op.drop_column("due_state")
        batch_op.drop_column("replied_at")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("reply_due_at")
        batch_op.drop_column("accept_due_at")
        batch_op.drop_column("returns")
        batch_op.drop_column("unit_name")
        batch_op.drop_column("last_event_seq")
        batch_op.drop_column("platform_status")
        batch_op.drop_column("record_no")
        batch_op.drop_column("work_order_no")

    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flags_case_id"))

    op.drop_table("flags")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_events_case_id"))

    op.drop_table("case_events")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("platform_events", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_events_state_work_order_no_seq")

    op.drop_table("platform_events")
