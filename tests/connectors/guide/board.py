"""A small leaders' message board (领导留言板) on aiohttp: the API that docs/connectors.md's worked example polls.

GET /api/messages?limit=N[&updatedSince=YYYY/MM/DD HH:MM:SS][&afterId=ID] with `Authorization: Bearer <token>`
answers `{"messages": [...], "hasMore": true|false}`: the messages changed after (updatedSince, afterId), in
(updateTime, msgId as a number) order, oldest first. Times are Beijing time in whole seconds, written the way the
board writes them ("2019/2/28 11:25:05"); the HTTP Date header is the board's clock.

Besides the endpoint, a `Board` offers what the connector contract suite (tests/connectors/test_contract.py)
drives a simulator with: `generate`, `add_raw`, `now`, `knobs.outage` and `events`. Messages are real ones from
the shipped corpus (simulators/data/board_messages.jsonl).
"""

from __future__ import annotations

import bisect
import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from simulators.corpus import board_messages

BEIJING = ZoneInfo("Asia/Shanghai")
QUERY_TIME = "%Y/%m/%d %H:%M:%S"
PAGE_SIZE_MAX = 200


def board_time(moment: datetime) -> str:
    """A time as the board writes it: Beijing time, no leading zeros in the date ("2019/2/28 11:25:05")."""
    local = moment.astimezone(BEIJING)
    return f"{local.year}/{local.month}/{local.day} {local:%H:%M:%S}"


@dataclass
class Knobs:
    """How the board misbehaves on purpose."""

    outage: bool = False  # every request 503
    page_size_max: int = PAGE_SIZE_MAX  # pages never hold more, whatever was asked


class Board:
    """The board's messages in feed order, and a log of the queries it answered."""

    def __init__(self, token: str, first_id: int = 90) -> None:
        self.token = token
        self.knobs = Knobs()
        self.events: dict[str, Any] = {}  # the board takes no status or replies back
        self.queries: list[dict[str, str]] = []
        self._messages: dict[int, tuple[datetime, Any]] = {}
        self._keys: list[tuple[datetime, int]] = []  # sorted (update time, msgId)
        self._next_id = first_id

    def now(self) -> datetime:
        """The board's clock, in whole seconds (its times have no fractions)."""
        return datetime.now(UTC).replace(microsecond=0)

    def _put(self, msg_id: int, moment: datetime, item: Any) -> None:
        old = self._messages.get(msg_id)
        if old is not None:
            self._keys.remove((old[0], msg_id))
        self._messages[msg_id] = (moment, item)
        bisect.insort(self._keys, (moment, msg_id))

    def generate(self, count: int = 1, age_seconds: float = 0.0) -> list[str]:
        """Post `count` new messages, updated `age_seconds` ago; their ids, oldest first."""
        moment = self.now() - timedelta(seconds=round(age_seconds))
        corpus = board_messages()
        ids = []
        for _ in range(count):
            msg_id, sample = self._next_id, corpus[self._next_id % len(corpus)]
            self._next_id += 1
            self._put(msg_id, moment, {
                "msgId": msg_id,
                "title": sample["title"],
                "content": sample["content"],
                "postTime": board_time(moment),
                "updateTime": board_time(moment),
                "userId": sample["user"],
                "category": sample["category"],
            })
            ids.append(str(msg_id))
        return ids

    def add_raw(self, item: Any) -> str:
        """Serve one item verbatim, as changed now (under its own msgId when it has a numeric one)."""
        own = item.get("msgId") if isinstance(item, dict) else None
        msg_id = own if isinstance(own, int) and not isinstance(own, bool) else self._next_id
        self._next_id = max(self._next_id, msg_id + 1)
        self._put(msg_id, self.now(), copy.deepcopy(item))
        return str(msg_id)

    def message(self, msg_id: str) -> Any:
        """A message as the board serves it now."""
        return copy.deepcopy(self._messages[int(msg_id)][1])

    def touch(self, msg_id: str, **changes: Any) -> None:
        """A change at the board (an edit, a reply, a new status): the message, changed, moves to now."""
        moment, item = self._messages[int(msg_id)]
        item = {**item, **changes, "updateTime": board_time(self.now())}
        self._put(int(msg_id), max(self.now(), moment), item)

    def page(self, since: datetime | None, after_id: int, limit: int) -> tuple[list[Any], bool]:
        """The messages after (since, after_id), oldest first, at most the smaller limit; and has-more."""
        limit = max(1, min(limit, self.knobs.page_size_max))
        start = 0 if since is None else bisect.bisect_right(self._keys, (since, after_id))
        keys = self._keys[start : start + limit]
        return [copy.deepcopy(self._messages[k[1]][1]) for k in keys], start + limit < len(self._keys)


BOARD = web.AppKey("board", Board)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def messages(request: web.Request) -> web.Response:
    """GET /api/messages: one keyset page of the feed."""
    board = request.app[BOARD]
    if board.knobs.outage:
        return _error(503, "service unavailable (simulated outage)")
    if request.headers.get("Authorization") != f"Bearer {board.token}":
        return _error(401, "token refused")
    query = dict(request.query)
    try:
        limit = int(query.get("limit", "20"))
        since = query.get("updatedSince")
        moment = datetime.strptime(since, QUERY_TIME).replace(tzinfo=BEIJING).astimezone(UTC) if since else None
        after_id = int(query["afterId"]) if query.get("afterId") else -1
    except ValueError as e:
        return _error(400, str(e))
    board.queries.append(query)
    items, has_more = board.page(moment, after_id, limit)
    return web.json_response(
        {"messages": items, "hasMore": has_more}, dumps=lambda v: json.dumps(v, ensure_ascii=False)
    )


def create_app(board: Board) -> web.Application:
    """The board as an aiohttp application."""
    app = web.Application()
    app[BOARD] = board
    app.router.add_get("/api/messages", messages)
    return app
