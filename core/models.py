"""The database schema: SQLAlchemy 2.x typed models with one naming convention.

Alembic migrations under migrations/ must produce exactly this schema; tests/storage proves they agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused, values read back are aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: huiju stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The one declarative base: every table shares its naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar = {datetime: UTCDateTime(), uuid.UUID: Uuid(), dict[str, Any]: JSON()}


class RawItem(Base):
    """The raw inbox: every item a channel handed us, verbatim, stored before anything else happens.

    Unique on (channel_id, source_id): the same item again is a redelivery, never a second appeal. An item
    that cannot be normalized stays here with status "quarantined" and the error, until retried.
    """

    __tablename__ = "raw_items"
    __table_args__ = (
        UniqueConstraint("channel_id", "source_id"),
        Index("ix_raw_items_status_received_at", "status", "received_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the stable gateway id
    channel_id: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # normalized | quarantined
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the newest version's payload


class RawItemVersion(Base):
    """A later version of a raw item: the channel handed the same item again, changed (a status it moved on).

    The raw item keeps the first version (its appeal is never modified); every later one is kept here,
    verbatim, once.
    """

    __tablename__ = "raw_item_versions"
    __table_args__ = (UniqueConstraint("raw_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    raw_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("raw_items.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class Case(Base):
    """One matter (one work order at the 12345 platform); every appeal belongs to exactly one case."""

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    time_tier: Mapped[str] = mapped_column(String(8))
    emergency: Mapped[str | None] = mapped_column(String(8))
    confidential: Mapped[bool] = mapped_column(Boolean)
    enterprise: Mapped[bool] = mapped_column(Boolean)
    division_code: Mapped[str | None] = mapped_column(String(6))
    appeal_count: Mapped[int] = mapped_column(Integer)
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cases.id"))  # an auditor merged it there
    # Its life at the 12345 platform, as the applied events tell it (sync/intake.py).
    work_order_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    record_no: Mapped[str | None] = mapped_column(String(64))  # a shared record (first appeal interconnect)
    platform_status: Mapped[str | None] = mapped_column(String(24))
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    unit_name: Mapped[str | None] = mapped_column(Text)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    # Time limits (办理时限), from the time tier at creation and from the platform's deadlines after.
    accept_due_at: Mapped[datetime | None]
    reply_due_at: Mapped[datetime | None] = mapped_column(index=True)
    accepted_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    due_state: Mapped[str | None] = mapped_column(String(12))  # ok | near_due | overdue | met | late


class Appeal(Base):
    """A normalized appeal (see normalizer.record.AppealRecord); its id is its raw item's gateway id.

    (channel_id, source_id) is unique through the raw item; appeals are never modified once stored.
    """

    __tablename__ = "appeals"

    id: Mapped[uuid.UUID] = mapped_column(ForeignKey("raw_items.id"), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(index=True)
    occurred_at: Mapped[datetime | None]
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    citizen_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))
    openid: Mapped[str | None] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(128))
    confidential: Mapped[bool] = mapped_column(Boolean)
    enterprise: Mapped[bool] = mapped_column(Boolean)
    enterprise_name: Mapped[str | None] = mapped_column(Text)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(Text)
    division_code: Mapped[str | None] = mapped_column(String(6))
    township: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    channel_category: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    time_tier: Mapped[str] = mapped_column(String(8))
    tier_reason: Mapped[str] = mapped_column(Text)
    emergency: Mapped[str | None] = mapped_column(String(8))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sources: Mapped[dict[str, Any]]
    extra: Mapped[dict[str, Any]]
    warnings: Mapped[list[str]] = mapped_column(JSON)
    match_title: Mapped[str] = mapped_column(Text)
    match_content: Mapped[str] = mapped_column(Text)


class MergeEntry(Base):
    """The merge log: one append-only entry per case decision, hash-chained to the one before."""

    __tablename__ = "merge_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    decision: Mapped[str] = mapped_column(String(24))
    rule: Mapped[str] = mapped_column(String(64))
    rule_version: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class OutboxMessage(Base):
    """A message owed to the 12345 platform, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_case_id_id", "case_id", "id"),  # "an earlier message of this case?" in one probe
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | dead | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The request as rendered for the first attempt, sent byte for byte on every later one (never a 409).
    request: Mapped[dict[str, Any] | None]
    response: Mapped[dict[str, Any] | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    # Waits, besides for earlier messages of its case, while the message with this key is pending or dead
    # (a case opened by an unmerge is created only once the platform has detached the appeal elsewhere).
    after_key: Mapped[str | None] = mapped_column(String(160))


class ChannelState(Base):
    """What huiju knows about one channel at run time: admin overrides, cursor and health."""

    __tablename__ = "channel_state"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean)  # None: as config.toml says
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    cursor: Mapped[dict[str, Any] | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    lag_seconds: Mapped[float | None] = mapped_column(Float)
    items_per_minute: Mapped[float | None] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    health: Mapped[str | None] = mapped_column(String(16))  # ok | failing | paused
    paused_reason: Mapped[str | None] = mapped_column(Text)
    backoff_until: Mapped[datetime | None]
    poll_requested_at: Mapped[datetime | None]  # "poll now" asked from another process (the CLI)
    items_total: Mapped[int] = mapped_column(BigInteger, default=0)


class Counter(Base):
    """A named per-channel counter (redeliveries, rejected requests by reason)."""

    __tablename__ = "counters"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Delivery(Base):
    """A status or reply owed to the channel one appeal came from (one per appeal in the case)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_deliveries_appeal_id_id", "appeal_id", "id"),  # "an earlier delivery to this appeal?"
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"))
    channel_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # status | reply
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict[str, Any]]
    # pending | awaiting_review | delivered | rejected | superseded | dead
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    event_id: Mapped[str] = mapped_column(String(80), index=True)  # the case event it carries
    delivered_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)


class PlatformEvent(Base):
    """A status event of a work order, as the 12345 platform sent it (callback, feed or poll), kept verbatim.

    Stored before it is acknowledged; applied to its case at most once, in the work order's `seq` order.
    """

    __tablename__ = "platform_events"
    __table_args__ = (Index("ix_platform_events_state_work_order_no_seq", "state", "work_order_no", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    work_order_no: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None]
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    body: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))  # callback | feed | fetch | poll
    received_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # pending | applied | superseded | orphan
    applied_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class CaseEvent(Base):
    """One line of a case's timeline: every status, reply, delivery, review and escalation, with its source."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]  # when it happened, by its source's clock
    recorded_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))  # platform | gateway | channel | reviewer | auditor | admin
    kind: Mapped[str] = mapped_column(String(32))
    appeal_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]]
    ref: Mapped[str | None] = mapped_column(String(160), unique=True)  # makes recording it idempotent


class Flag(Base):
    """A flag raised on a case and sent to the platform: supervision (督办) or group appeal (群体诉求)."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("case_id", "kind", "reason"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    flag_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # supervision | group_appeal
    reason: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]]


class SyncCursor(Base):
    """Where a background reader of the platform stands (the event feed), held by one instance at a time."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]


class AdminAction(Base):
    """Every run-time change an admin made to a channel, with who made it."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]]
