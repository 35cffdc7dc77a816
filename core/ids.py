"""Gateway ids: UUIDv7, time-ordered so that new rows land at the end of every index."""

from __future__ import annotations

import uuid

from uuid6 import uuid7


def new_id() -> uuid.UUID:
    """A new time-ordered gateway id."""
    return uuid.UUID(int=uuid7().int)


def parse_id(text: str) -> uuid.UUID | None:
    """The id in this text, or None if it is not one."""
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None
