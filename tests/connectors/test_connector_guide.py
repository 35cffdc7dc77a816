"""docs/connectors.md is the guide to writing a connector: its worked example must work as the guide says.

The example's marked code blocks are taken from the guide and run as the module `huiju_leaderboard`, registered
through the guide's own `pyproject.toml` entry point the way an installed package would be, configured with the
guide's config block, and polled against a small leaders' message board on loopback
(tests/connectors/guide/board.py). The shared connector contract suite (test_contract.py) runs against it too.
Each storage test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import tomllib
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from connectors import registry
from connectors.base import Position
from core import channels
from core.config import ConfigError, load_config
from core.db import make_engine
from core.http import HttpClient
from core.ingest import Pipeline
from core.models import Appeal, ChannelState, Counter, RawItem
from core.runner import ChannelRunner
from normalizer import NormalizeContext, normalize, parse_datetime
from normalizer.record import IntegrationMode
from simulators.corpus import board_messages
from tests.connectors import test_contract as contract
from tests.connectors.guide.board import Board, create_app
from tests.helpers import ENV, write_config

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "connectors.md"
MODULE = "huiju_leaderboard"
TOKEN = "board-token-0123456789abcdef"
ENVIRON = {**ENV, "HUIJU_LEADERBOARD_TOKEN": TOKEN, "HUIJU_WRONG_TOKEN": "not-the-board-token-00000"}
MARKED = re.compile(
    r"<!-- worked-example: (?P<file>[^,>]+?)(?:, part \d+ of \d+)? -->\n\s*```\w+\n(?P<code>.*?)\n\s*```", re.S
)


def worked_example(file: str) -> str:
    """The guide's code for one file of the worked example: its marked blocks, in order, joined."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = [m["code"] for m in MARKED.finditer(text) if m["file"] == file]
    assert parts, f"docs/connectors.md has no worked-example block for {file}"
    return "\n\n\n".join(parts)


def run_as_module(name: str, file: str) -> types.ModuleType:
    """Run one file of the worked example as a module registered under `name`."""
    module = types.ModuleType(name)
    module.__file__ = f"{GUIDE}#{file}"
    sys.modules[name] = module  # before running it, so that pydantic finds the module's names
    exec(compile(worked_example(file), module.__file__, "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def example() -> Iterator[types.ModuleType]:
    """The worked example's connector module, as written in the guide."""
    try:
        yield run_as_module(MODULE, f"{MODULE}/__init__.py")
    finally:
        sys.modules.pop(MODULE, None)


@pytest.fixture(autouse=True)
def registered(monkeypatch, example) -> Iterator[None]:
    """The guide's entry point, found by connectors.registry as if its package were installed."""
    declared = tomllib.loads(worked_example("pyproject.toml"))["project"]["entry-points"]
    group = registry.ENTRY_POINT_GROUP
    ours = [EntryPoint(name, value, group) for name, value in declared[group].items()]
    installed = registry.entry_points
    monkeypatch.setattr(registry, "entry_points", lambda group: [*ours, *installed(group=group)])
    registry.connector_class.cache_clear()
    yield
    registry.connector_class.cache_clear()


def guide_channel(channel_id: str, base_url: str, token_env: str = "HUIJU_LEADERBOARD_TOKEN") -> str:
    """The guide's [[channels]] block, named channel_id, pointed at a board on loopback, pages of 10."""
    block = worked_example("config.toml")
    for key, value in (("id", f'"{channel_id}"'), ("base_url", f'"{base_url}"'),
                       ("token", f'"${{{token_env}}}"'), ("page_size", "10")):
        block, found = re.subn(rf"(?m)^{key} = \S+", f"{key} = {value}", block, count=1)
        assert found, f"the guide's config block has no {key}"
    return f"\n{block}\n"


def config_with(tmp_path: Path, block: str, environ: dict[str, str] = ENVIRON):
    """Load a test config.toml with this channel block added (the database is not touched)."""
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/huiju.db", extra=block)
    return load_config(path, environ=environ)


class BoardHarness:
    """A board on loopback and two channels of the guide's config polling it: "hotline" and "hotline-badkey"."""

    def __init__(self, sim: Board, config, engine, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.config = config
        self.engine = engine
        self.pipeline = Pipeline(config, config.tier_rules())
        self.http = HttpClient(session, attempts=2)

    def connector(self, channel_id: str = "hotline"):
        """The channel's connector, with the shared HTTP client."""
        ch = self.config.channel(channel_id)
        return registry.connector_class(ch.kind)(ch, self.http)

    def runner(self, channel_id: str = "hotline", owner: str = "test-instance") -> ChannelRunner:
        """A runner for one of the channels."""
        return ChannelRunner(self.engine, self.pipeline, self.connector(channel_id), owner)


@pytest.fixture
async def harness(tmp_path, db_url, aiohttp_server):
    """The contract suite's harness, for the worked example: its board, its config, the test database."""
    board = Board(TOKEN)
    server = await aiohttp_server(create_app(board))
    base_url = str(server.make_url("")).rstrip("/")
    extra = guide_channel("hotline", base_url) + guide_channel("hotline-badkey", base_url, "HUIJU_WRONG_TOKEN")
    config = load_config(write_config(tmp_path, db_url, extra=extra), environ=ENVIRON).config
    engine = make_engine(db_url)
    async with aiohttp.ClientSession() as session:
        try:
            yield BoardHarness(board, config, engine, session)
        finally:
            await engine.dispose()


# The connector contract suite, every test of it, against the worked example, but for what the example cannot
# do: it does not deliver, and its simulator cannot forge an item under an over-long id.
NOT_FOR_THE_EXAMPLE = {
    "test_deliver_reaches_the_platform_and_is_idempotent",
    "test_an_item_whose_id_cannot_be_stored_is_quarantined_and_the_page_goes_on",
}
for _name in dir(contract):
    if _name.startswith("test_") and _name not in NOT_FOR_THE_EXAMPLE:
        globals()[_name] = getattr(contract, _name)


async def count(harness: BoardHarness, model, *where) -> int:
    """How many rows of a table match."""
    async with harness.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def redeliveries(harness: BoardHarness) -> int:
    """How many items were handed over again after they were stored."""
    async with harness.engine.connect() as conn:
        return (await conn.execute(select(Counter.value).where(Counter.name == "redeliveries"))).scalar() or 0


# -- registering and configuring ---------------------------------------------------------------------------------


def test_the_guides_entry_point_finds_the_example_under_its_kind(example):
    cls = registry.connector_class("leaderboard")
    assert cls is example.LeaderBoardConnector and cls.kind == "leaderboard" and cls.polls


def test_the_guides_config_block_loads_as_written(tmp_path, example):
    config = config_with(tmp_path, worked_example("config.toml")).config
    [channel] = [c for c in config.channels if c.kind == "leaderboard"]
    connector = registry.connector_class(channel.kind)(channel)
    assert isinstance(connector.settings, example.BoardSettings)
    assert connector.settings.token == TOKEN  # from the environment, never from the file
    assert channel.schedule is not None


@pytest.mark.parametrize(
    ("edit", "environ", "line"),
    [
        (("page_size = 50", "page_size = 0"), ENVIRON, 0),
        (("page_size = 50", "page_size = 50\npagesize = 10"), ENVIRON, 1),
        (("", ""), ENV, 2),
    ],
    ids=["bad-value", "unknown-key", "missing-secret"],
)
def test_a_settings_mistake_stops_the_config_with_the_message_the_guide_shows(tmp_path, edit, environ, line):
    shown = re.search(r"<!-- config-errors -->\n```text\n(.*?)\n```", GUIDE.read_text(encoding="utf-8"), re.S)
    message = shown[1].splitlines()[line].removeprefix("config.toml: ")
    block = worked_example("config.toml").replace(*edit)
    with pytest.raises(ConfigError) as refused:
        config_with(tmp_path, block, environ)
    assert str(refused.value).endswith(message)


# -- map ---------------------------------------------------------------------------------------------------------


def test_every_real_board_message_maps_to_a_draft_the_normalizer_accepts(example):
    board = Board(TOKEN, first_id=1)
    corpus = board_messages()
    board.generate(len(corpus))
    messages, _ = board.page(None, -1, len(corpus))
    ctx = NormalizeContext("a1", "leaderboard-ganzhou", IntegrationMode.MERGED, datetime.now(UTC), "r1")
    for msg in messages:
        record = normalize(example.map_message(json.dumps(msg, ensure_ascii=False), "360700"), ctx)
        assert record.source_id == str(msg["msgId"])
        assert record.title == msg["title"].strip() and record.content == msg["content"].strip()
        assert record.occurred_at == parse_datetime(msg["postTime"])
        assert (record.citizen.user_id, record.channel_category) == (msg["userId"], msg["category"])
        assert record.location.division_code == "360700"
        assert record.sources["user_id"] == "payload.userId" and not record.warnings


def test_the_guides_property_test_for_map_passes(example):
    namespace: dict = {}
    exec(compile(worked_example("tests/test_leaderboard_map.py"), f"{GUIDE}#property-test", "exec"), namespace)
    namespace["test_map_gives_a_draft_or_refuses_with_a_reason"]()


# -- poll --------------------------------------------------------------------------------------------------------


async def test_poll_pages_through_the_board_with_keyset_positions(aiohttp_server, tmp_path, example):
    board = Board(TOKEN, first_id=90)
    ids = board.generate(25)  # msgId 90 ... 114: the second page starts after 99
    server = await aiohttp_server(create_app(board))
    config = config_with(tmp_path, guide_channel("board", str(server.make_url("")).rstrip("/"))).config
    async with aiohttp.ClientSession() as session:
        connector = registry.connector_class("leaderboard")(config.channel("board"), HttpClient(session))
        pages, position = [], None
        while True:
            page = await connector.poll(position, 10)
            pages.append(page)
            if page.next is None:
                break
            position = page.next
    polled = [p for page in pages for p in page.items]
    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert [p.item.source_id for p in polled] == ids
    assert all(a.position < b.position for a, b in itertools.pairwise(polled))
    assert pages[0].next == polled[9].position and pages[1].next == polled[19].position
    assert "updatedSince" not in board.queries[0]
    assert board.queries[1]["afterId"] == "99"
    assert all(page.server_time is not None and page.server_time.tzinfo is not None for page in pages)


async def test_polling_from_the_last_position_finds_nothing_new(harness):
    harness.sim.generate(3)
    page = await harness.connector().poll(None, 10)
    again = await harness.connector().poll(page.items[-1].position, 10)
    assert again.items == [] and again.next is None


# -- the runner --------------------------------------------------------------------------------------------------


async def test_a_runner_stores_every_message_once_even_when_it_polls_them_twice(harness):
    harness.sim.generate(25)
    runner = harness.runner()
    assert await runner.tick() == 25
    assert await runner.tick() == 25  # the look-back window reads them all again
    await channels.apply(harness.engine, harness.config, "hotline", "reset-cursor", "test")
    assert await runner.tick() == 25  # and so does a reset cursor
    assert await count(harness, Appeal) == 25
    assert await count(harness, RawItem) == 25
    assert await redeliveries(harness) == 50


async def test_a_message_changed_at_the_board_is_read_again_but_keeps_its_first_version(harness):
    [msg_id] = harness.sim.generate(1)
    runner = harness.runner()
    await runner.tick()
    harness.sim.touch(msg_id, title="（已回复）" + harness.sim.message(msg_id)["title"])
    assert await runner.tick() == 1
    async with harness.engine.connect() as conn:
        title = (await conn.execute(select(Appeal.title).where(Appeal.source_id == msg_id))).scalar_one()
    assert not title.startswith("（已回复）")
    assert await redeliveries(harness) == 1


async def test_the_cursor_is_the_place_of_the_newest_message_stored(harness, example):
    ids = harness.sim.generate(12, age_seconds=60)  # msgId 90 ... 101, all in one second
    await harness.runner().tick()
    async with harness.engine.connect() as conn:
        query = select(ChannelState.cursor).where(ChannelState.channel_id == "hotline")
        stored = (await conn.execute(query)).scalar()
    assert Position.from_json(stored) == example.place(harness.sim.message(ids[-1]), ids[-1])
