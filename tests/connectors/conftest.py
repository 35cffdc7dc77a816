"""The connector contract harness: a real simulator on loopback and a channel of its kind pointing at it."""

from __future__ import annotations

import aiohttp
import pytest

from connectors.registry import connector_class
from core.config import Config, load_config
from core.db import make_engine
from core.http import HttpClient
from core.ingest import Pipeline
from core.runner import ChannelRunner
from simulators.national.engine import SIMULATOR, Simulator
from simulators.national.run import build_simulator, running
from tests.helpers import ENV, NATIONAL_SECRET, write_config

POLLING_KINDS = ["12315", "12333", "12328"]
APP_KEY = "huiju-test"
APP_SECRET = NATIONAL_SECRET


def channel_block(
    channel_id: str,
    kind: str,
    base_url: str,
    secret_env: str = "HUIJU_TEST_NATIONAL_SECRET",
    interval: float = 1.0,
    lookback: float = 120.0,
    page_size: int = 10,
) -> str:
    """A [[channels]] block for a polling channel of this kind at base_url."""
    return f"""
[[channels]]
id = "{channel_id}"
kind = "{kind}"
mode = "interconnect"
[channels.schedule]
interval_seconds = {interval}
lookback_seconds = {lookback}
[channels.settings]
base_url = "{base_url}"
app_key = "{APP_KEY}"
app_secret = "${{{secret_env}}}"
page_size = {page_size}
"""


class Harness:
    """One simulated platform and a runner for a channel polling it, on the test database."""

    def __init__(self, kind: str, app, base_url: str, config: Config, engine, session) -> None:
        self.kind = kind
        self.app = app
        self.base_url = base_url
        self.config = config
        self.engine = engine
        self.pipeline = Pipeline(config, config.tier_rules())
        self.http = HttpClient(session, attempts=2)

    @property
    def sim(self) -> Simulator:
        """The simulated platform's state."""
        return self.app[SIMULATOR]

    def runner(self, channel_id: str = "hotline", owner: str = "test-instance") -> ChannelRunner:
        """A runner for a configured channel."""
        ch = self.config.channel(channel_id)
        return ChannelRunner(self.engine, self.pipeline, connector_class(ch.kind)(ch, self.http), owner)

    def connector(self, channel_id: str = "hotline"):
        """The channel's connector, with the shared HTTP client."""
        ch = self.config.channel(channel_id)
        return connector_class(ch.kind)(ch, self.http)


@pytest.fixture(params=POLLING_KINDS)
async def harness(request, tmp_path, db_url):
    """A simulator of each national platform, and a channel "hotline" polling it (page size 10)."""
    kind = request.param
    app = build_simulator(kind, app_key=APP_KEY, app_secret=APP_SECRET, seed=7)
    async with running(app) as base_url, aiohttp.ClientSession() as session:
        env = {**ENV, "HUIJU_TEST_NATIONAL_SECRET": APP_SECRET, "HUIJU_TEST_WRONG_SECRET": "not-the-secret-000000"}
        extra = channel_block("hotline", kind, base_url) + channel_block(
            "hotline-badkey", kind, base_url, secret_env="HUIJU_TEST_WRONG_SECRET"
        )
        config = load_config(write_config(tmp_path, db_url, extra=extra), environ=env).config
        engine = make_engine(db_url)
        try:
            yield Harness(kind, app, base_url, config, engine, session)
        finally:
            await engine.dispose()
