"""channel control: health, pause reason, back-off, poll requests and the admin action log

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("health", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("poll_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("items_total", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("channel_state", schema=None) as batch_op:
        batch_op.alter_column("items_total", server_default=None)

    op.create_table(
        "admin_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_actions_channel_id"), ["channel_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_actions_channel_id"))
    op.drop_table("admin_actions")
    with op.batch_alter_table("channel_state", schema=None) as batch_op:
        for column in ("items_total", "poll_requested_at", "backoff_until", "paused_reason", "health"):
            batch_op.drop_column(column)
