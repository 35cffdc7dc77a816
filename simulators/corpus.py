"""Real citizen language for the simulators: the shipped message-board sample."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


@cache
def board_messages() -> tuple[dict[str, str], ...]:
    """The 300 real message-board posts in simulators/data (id, user, title, time, content, category)."""
    with (DATA / "board_messages.jsonl").open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())
