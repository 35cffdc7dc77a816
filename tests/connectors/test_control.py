"""Runtime control: admins switch channels from the CLI or the admin API, without a restart, on the record."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select

import gateway
from core.models import AdminAction, Appeal, ChannelState
from tests.connectors.conftest import APP_SECRET, channel_block
from tests.helpers import ENV, load_test_config, write_config
from web.app import create_app

ADMIN_TOKEN = "admin-token-0123456789abcdef"
AUDITOR_TOKEN = "auditor-token-0123456789abcd"
TOKENS = f"""
[[tokens]]
name = "ops"
role = "admin"
sha256 = "{hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}"

[[tokens]]
name = "inspector"
role = "auditor"
token = "{AUDITOR_TOKEN}"
"""


@pytest.fixture
async def sim():
    from simulators.national.run import build_simulator, running

    app = build_simulator("12315", app_key="huiju-test", app_secret=APP_SECRET, seed=3)
    async with running(app) as url:
        yield app, url


@pytest.fixture
async def client(aiohttp_client, tmp_path, db_url, sim, monkeypatch):
    """A gateway whose "hotline" channel polls a 12315 simulator every second."""
    monkeypatch.setenv("HUIJU_TEST_NATIONAL_SECRET", APP_SECRET)
    bad = channel_block("hotline-badkey", "12315", sim[1], secret_env="HUIJU_TEST_WRONG_SECRET").replace(
        'mode = "interconnect"', 'mode = "interconnect"\nenabled = false'
    )
    env_extra = channel_block("hotline", "12315", sim[1]) + bad + TOKENS
    config = load_test_config(
        tmp_path, db_url, extra=env_extra, environ={**ENV, "HUIJU_TEST_WRONG_SECRET": "wrong-secret-0123456789"}
    ).config
    return await aiohttp_client(create_app(config))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored(client) -> int:
    from web.context import CTX

    async with client.app[CTX].engine.connect() as conn:
        return len((await conn.execute(select(Appeal.id))).all())


async def eventually(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_the_admin_api_refuses_requests_without_a_token(client):
    resp = await client.get("/admin/v1/channels")
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"


async def test_the_admin_api_refuses_an_unknown_token(client):
    resp = await client.get("/admin/v1/channels", headers=bearer("not-a-token"))
    assert resp.status == 401


async def test_the_admin_api_refuses_a_token_without_the_admin_role(client):
    resp = await client.get("/admin/v1/channels", headers=bearer(AUDITOR_TOKEN))
    assert resp.status == 403


async def test_an_admin_sees_every_channel_with_its_health(client):
    resp = await client.get("/admin/v1/channels", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200
    ids = {c["id"]: c for c in (await resp.json())["channels"]}
    assert set(ids) == {"web", "off", "hotline", "hotline-badkey"}
    assert ids["off"]["health"] == "disabled" and ids["web"]["health"] == "push"


async def test_disabling_a_channel_stops_its_polling_at_once_and_is_recorded(client, sim):
    app, _ = sim
    await eventually(lambda: _health(client, "hotline", "ok"))
    resp = await client.post("/admin/v1/channels/hotline/disable", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200 and (await resp.json())["channel"]["health"] == "disabled"
    from simulators.national.engine import SIMULATOR

    app[SIMULATOR].generate(5)
    before = await stored(client)
    await asyncio.sleep(2.5)
    assert await stored(client) == before

    from web.context import CTX

    async with client.app[CTX].engine.connect() as conn:
        action = (await conn.execute(select(AdminAction))).one()
    assert (action.actor, action.action, action.channel_id) == ("token:ops", "disable", "hotline")


async def test_poll_now_fetches_new_items_without_waiting_for_the_schedule(client, sim):
    app, _ = sim
    from simulators.national.engine import SIMULATOR

    await eventually(lambda: _health(client, "hotline", "ok"))
    app[SIMULATOR].generate(3)
    resp = await client.post("/admin/v1/channels/hotline/poll", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 200
    await eventually(lambda: _at_least(client, 3), timeout=3)


async def test_an_unknown_action_or_channel_is_a_clear_error(client):
    assert (await client.post("/admin/v1/channels/hotline/explode", headers=bearer(ADMIN_TOKEN))).status == 400
    assert (await client.post("/admin/v1/channels/nope/pause", headers=bearer(ADMIN_TOKEN))).status == 404


async def test_a_change_made_from_the_cli_reaches_the_running_gateway(client, tmp_path, db_url, monkeypatch):
    await eventually(lambda: _health(client, "hotline", "ok"))
    for name, value in {**ENV, "HUIJU_TEST_NATIONAL_SECRET": APP_SECRET}.items():
        monkeypatch.setenv(name, value)
    from web.context import CTX

    path = write_config(tmp_path / "cli", db_url, extra=channel_block("hotline", "12315", "http://127.0.0.1:9"))
    code = await asyncio.to_thread(
        gateway.main, ["channels", "pause", "hotline", "--reason", "maintenance", "--config", str(path)]
    )
    assert code == 0
    supervisor = client.app[CTX].channels
    await eventually(lambda: _no_job(supervisor, "hotline"), timeout=6)
    async with client.app[CTX].engine.connect() as conn:
        st = (await conn.execute(select(ChannelState).where(ChannelState.channel_id == "hotline"))).one()
        action = (await conn.execute(select(AdminAction))).one()
    assert st.paused and st.paused_reason == "maintenance"
    assert action.actor.startswith("cli:")


async def _health(client, channel_id: str, health: str) -> bool:
    from core import channels
    from web.context import CTX

    ctx = client.app[CTX]
    views = {v.id: v for v in await channels.list_channels(ctx.engine, ctx.config)}
    return views[channel_id].health == health


async def _at_least(client, n: int) -> bool:
    return await stored(client) >= n


async def _no_job(supervisor, channel_id: str) -> bool:
    return supervisor.scheduler.get_job(f"poll:{channel_id}") is None


async def test_check_makes_one_real_call_and_says_whether_it_worked(client):
    good = await client.post("/admin/v1/channels/hotline/check", headers=bearer(ADMIN_TOKEN))
    bad = await client.post("/admin/v1/channels/hotline-badkey/check", headers=bearer(ADMIN_TOKEN))
    assert (await good.json())["ok"] is True
    refused = await bad.json()
    assert refused["ok"] is False and refused["kind"] == "auth"


async def test_enabling_a_channel_whose_credentials_are_refused_changes_nothing(client):
    resp = await client.post("/admin/v1/channels/hotline-badkey/enable", headers=bearer(ADMIN_TOKEN))
    assert resp.status == 400 and (await resp.json())["error"] == "check_failed"
    listing = await (await client.get("/admin/v1/channels", headers=bearer(ADMIN_TOKEN))).json()
    assert {c["id"]: c["enabled"] for c in listing["channels"]}["hotline-badkey"] is False
