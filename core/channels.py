"""Channels at run time: what admins switch (enable, disable, pause, resume, poll now, reset cursor), and
the state each channel is in (cursor, health, lease).

Every change is one transaction: the channel_state row and an admin_actions entry naming who made it. The
running gateway notices changes within seconds (it re-reads channel_state), or at once when the change came
through its own admin API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.base import Position
from core.config import ChannelSettings, Config
from core.http import HttpClient
from core.models import AdminAction, ChannelState, utcnow
from core.sql import upsert_insert

ACTIONS = ("enable", "disable", "pause", "resume", "poll", "reset-cursor")


class UnknownChannel(LookupError):
    """No channel with that id is configured."""


@dataclass(frozen=True)
class ChannelView:
    """A channel as admins see it: config plus run-time state."""

    id: str
    kind: str
    mode: str
    name: str
    enabled: bool
    paused: bool
    paused_reason: str | None
    health: str
    cursor: dict[str, Any] | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    lag_seconds: float | None
    items_per_minute: float | None
    items_total: int
    lease_owner: str | None
    lease_expires_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The view as JSON-ready values."""
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


def effective_enabled(channel: ChannelSettings, state: Any | None) -> bool:
    """Enabled as admins last set it, else as config.toml says."""
    if state is not None and state.enabled is not None:
        return bool(state.enabled)
    return channel.enabled


async def ensure_rows(conn: AsyncConnection, channel_ids: list[str]) -> None:
    """Create the channel_state rows that do not exist yet."""
    if not channel_ids:
        return
    now = utcnow()
    stmt = upsert_insert(conn, ChannelState).on_conflict_do_nothing(index_elements=[ChannelState.channel_id])
    await conn.execute(
        stmt,
        [
            {"channel_id": c, "paused": False, "consecutive_failures": 0, "items_total": 0, "updated_at": now}
            for c in channel_ids
        ],
    )


async def states(conn: AsyncConnection) -> dict[str, Any]:
    """Every channel_state row, by channel id."""
    return {row.channel_id: row for row in await conn.execute(select(ChannelState))}


async def list_channels(engine: AsyncEngine, config: Config) -> list[ChannelView]:
    """All configured channels with their run-time state."""
    async with engine.connect() as conn:
        by_id = await states(conn)
    return [view(ch, by_id.get(ch.id)) for ch in config.channels]


def view(ch: ChannelSettings, st: Any | None) -> ChannelView:
    """A channel's admin view from its config and its state row (if any)."""
    enabled = effective_enabled(ch, st)
    paused = bool(st and st.paused)
    if not enabled:
        health = "disabled"
    elif paused:
        health = "paused"
    elif ch.schedule is None:
        health = "push"  # the channel sends to us; there is nothing to poll
    else:
        health = st.health if st and st.health else "unknown"
    return ChannelView(
        id=ch.id,
        kind=ch.kind,
        mode=ch.mode.value,
        name=ch.name,
        enabled=enabled,
        paused=paused,
        paused_reason=st.paused_reason if st else None,
        health=health,
        cursor=st.cursor if st else None,
        last_success_at=st.last_success_at if st else None,
        last_error_at=st.last_error_at if st else None,
        last_error=st.last_error if st else None,
        consecutive_failures=st.consecutive_failures if st else 0,
        lag_seconds=st.lag_seconds if st else None,
        items_per_minute=st.items_per_minute if st else None,
        items_total=st.items_total if st else 0,
        lease_owner=st.lease_owner if st else None,
        lease_expires_at=st.lease_expires_at if st else None,
    )


async def apply(
    engine: AsyncEngine,
    config: Config,
    channel_id: str,
    action: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> ChannelView:
    """Carry out one admin action on a channel and record who did it; returns the channel's new view."""
    ch = config.channel(channel_id)
    if ch is None:
        raise UnknownChannel(channel_id)
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    detail = dict(detail or {})
    now = utcnow()
    values: dict[str, Any]
    if action == "enable":
        values = {"enabled": True}
    elif action == "disable":
        values = {"enabled": False}
    elif action == "pause":
        values = {"paused": True, "paused_reason": detail.get("reason") or f"paused by {actor}"}
    elif action == "resume":
        values = {"paused": False, "paused_reason": None, "backoff_until": None, "consecutive_failures": 0}
    elif action == "poll":
        values = {"poll_requested_at": now, "backoff_until": None}
    else:
        to = detail.get("to")
        position = Position.from_json(to) if to else None
        values = {"cursor": position.to_json() if position else None}
        detail["to"] = values["cursor"]
    async with engine.begin() as conn:
        await ensure_rows(conn, [channel_id])
        await conn.execute(
            update(ChannelState).where(ChannelState.channel_id == channel_id).values(**values, updated_at=now)
        )
        await conn.execute(
            insert(AdminAction).values(at=now, actor=actor, action=action, channel_id=channel_id, detail=detail)
        )
        st = (await conn.execute(select(ChannelState).where(ChannelState.channel_id == channel_id))).one()
    return view(ch, st)


async def actions(engine: AsyncEngine, channel_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest admin actions (for one channel or all)."""
    query = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
    if channel_id:
        query = query.where(AdminAction.channel_id == channel_id)
    async with engine.connect() as conn:
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "channel_id": r.channel_id,
                "detail": r.detail,
            }
            for r in await conn.execute(query)
        ]


async def check(config: Config, channel_id: str, http: HttpClient) -> None:
    """Make the channel's one cheap authenticated call; raises a core.errors class if it fails."""
    from connectors.registry import connector_class

    ch = config.channel(channel_id)
    if ch is None:
        raise UnknownChannel(channel_id)
    await connector_class(ch.kind)(ch, http).check()
