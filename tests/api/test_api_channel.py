"""POST /api/v1/channels/{id}/appeals: signed JSON in, a gateway id out once the appeal is committed."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import func, select

from core.models import Appeal, Counter, RawItem
from core.signing import sign_body
from simulators.api_sender import signed_request
from tests.helpers import API_SECRET, load_test_config
from web.app import create_app
from web.context import CTX

APPEAL = {"source_id": "W-1", "type": "求助", "title": "楼道灯坏了", "content": "3栋2单元楼道灯坏了一个月。"}


@pytest.fixture
async def client(aiohttp_client, tmp_path, db_url):
    config = load_test_config(tmp_path, db_url).config
    return await aiohttp_client(create_app(config))


async def post(client, appeal, channel="web", secret=API_SECRET, headers=None):
    body, signed = signed_request(secret, appeal)
    return await client.post(
        f"/api/v1/channels/{channel}/appeals", data=body, headers={**signed, **(headers or {})}
    )


async def stored(client, model=RawItem) -> int:
    async with client.app[CTX].engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(model))).scalar_one()


async def counter(client, name: str) -> int:
    await client.app[CTX].rejections.flush()
    async with client.app[CTX].engine.connect() as conn:
        value = (await conn.execute(select(func.sum(Counter.value)).where(Counter.name == name))).scalar()
    return value or 0


async def test_a_signed_appeal_is_accepted_with_its_gateway_id_once_committed(client):
    resp = await post(client, APPEAL)
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "accepted"
    async with client.app[CTX].engine.connect() as conn:
        ids = (await conn.execute(select(Appeal.id))).scalars().all()
    assert [str(i) for i in ids] == [body["id"]]


async def test_the_same_source_id_again_answers_200_with_the_same_gateway_id(client):
    first = await (await post(client, APPEAL)).json()
    resp = await post(client, APPEAL)
    assert resp.status == 200
    assert await resp.json() == {"id": first["id"], "status": "duplicate"}
    assert await stored(client, Appeal) == 1


async def test_concurrent_appeals_are_each_stored_once(client):
    appeals = [{**APPEAL, "source_id": f"W-{i}"} for i in range(40)]
    responses = await asyncio.gather(*(post(client, a) for a in appeals + appeals[:10]))
    assert sorted(r.status for r in responses) == [200] * 10 + [202] * 40
    assert await stored(client, Appeal) == 40


async def test_an_appeal_that_cannot_be_normalized_is_kept_in_quarantine_and_says_why(client):
    resp = await post(client, {"source_id": "W-q", "title": " ", "content": ""})
    assert resp.status == 202
    body = await resp.json()
    assert body["status"] == "quarantined" and body["reason"]
    assert await stored(client, RawItem) == 1 and await stored(client, Appeal) == 0


async def test_a_wrong_signature_is_refused_with_401_and_nothing_stored(client):
    resp = await post(client, APPEAL, secret="not-the-channel-secret")
    assert resp.status == 401
    assert (await resp.json())["error"] == "bad_signature"
    assert await stored(client) == 0
    assert await counter(client, "rejected_bad_signature") == 1


async def test_a_stale_timestamp_is_refused_with_401(client):
    body = json.dumps(APPEAL).encode()
    ts, sig = sign_body(API_SECRET, body, int(time.time()) - 301)
    resp = await client.post(
        "/api/v1/channels/web/appeals",
        data=body,
        headers={"Content-Type": "application/json", "X-Huiju-Timestamp": ts, "X-Huiju-Signature": sig},
    )
    assert resp.status == 401
    assert "window" in (await resp.json())["reason"]


async def test_missing_signature_headers_are_refused_with_401(client):
    resp = await client.post("/api/v1/channels/web/appeals", json=APPEAL)
    assert resp.status == 401


async def test_a_body_that_is_not_json_is_refused_with_400(client):
    resp = await post(client, b"{not json")
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_json"
    assert await stored(client) == 0


async def test_a_body_without_a_source_id_is_refused_with_400(client):
    resp = await post(client, {"title": "x", "content": "y"})
    assert resp.status == 400
    assert "source_id" in (await resp.json())["reason"]


async def test_an_unknown_channel_is_404(client):
    resp = await post(client, APPEAL, channel="nope")
    assert resp.status == 404
    assert (await resp.json())["error"] == "unknown_channel"


async def test_a_disabled_channel_is_404(client):
    resp = await post(client, APPEAL, channel="off")
    assert resp.status == 404
    assert (await resp.json())["error"] == "channel_disabled"
    assert await stored(client) == 0


async def test_a_body_over_one_mebibyte_is_refused_with_413(client):
    big = {**APPEAL, "content": "长" * 400_000}
    resp = await post(client, big)
    assert resp.status == 413
    assert (await resp.json())["error"] == "payload_too_large"
    assert await stored(client) == 0


async def test_a_wrong_content_type_is_refused_with_415(client):
    body, headers = signed_request(API_SECRET, APPEAL)
    resp = await client.post(
        "/api/v1/channels/web/appeals", data=body, headers={**headers, "Content-Type": "text/plain"}
    )
    assert resp.status == 415
    assert await counter(client, "rejected_wrong_content_type") == 1


async def test_healthz_answers_while_the_process_is_up(client):
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_readyz_answers_ready_on_a_migrated_database(client):
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"


async def test_readyz_is_503_on_a_database_that_is_not_migrated(aiohttp_client, tmp_path):
    config = load_test_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/empty.db").config
    client = await aiohttp_client(create_app(config))
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert "migrate" in (await resp.json())["reason"]


async def test_appeal_content_never_reaches_the_log_at_info_level(client, caplog):
    caplog.set_level(logging.INFO)
    secret_text = "我家楼下独特的噪音源头编号九五二七"
    resp = await post(client, {**APPEAL, "source_id": "W-log", "content": secret_text})
    assert resp.status == 202
    assert any(r.getMessage() == "appeal received" for r in caplog.records)
    assert secret_text not in caplog.text and APPEAL["title"] not in caplog.text
