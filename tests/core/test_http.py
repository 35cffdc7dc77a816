"""The shared outbound HTTP client: classified errors, bounded retries, size limit, same-host redirects."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from core.errors import AuthError, PermanentError, TransientError, kind_of_status
from core.http import HttpClient


@pytest.fixture
async def server(aiohttp_server):
    calls = {"flaky": 0}

    async def flaky(request):
        calls["flaky"] += 1
        if calls["flaky"] <= 2:
            return web.Response(status=503, text="busy")
        return web.json_response({"ok": True})

    async def status(request):
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def big(request):
        return web.Response(body=b"x" * 5000)

    async def refused(request):
        return web.json_response([{"code": 400, "description": "x" * 300 + " the end"}], status=400)

    async def same_host(request):
        raise web.HTTPFound("/ok")

    async def other_host(request):
        raise web.HTTPFound("http://example.invalid/steal")

    async def ok(request):
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/big", big)
    app.router.add_get("/refused", refused)
    app.router.add_get("/same-host", same_host)
    app.router.add_get("/other-host", other_host)
    app.router.add_get("/ok", ok)
    srv = await aiohttp_server(app)
    srv.calls = calls
    return srv


@pytest.fixture
async def client():
    async with aiohttp.ClientSession() as session:
        yield HttpClient(session, max_response_bytes=1000, attempts=3)


async def test_transient_failures_are_retried_inside_the_call(server, client):
    resp = await client.request("GET", str(server.make_url("/flaky")))
    assert resp.status == 200 and server.calls["flaky"] == 3


async def test_a_transient_failure_that_persists_is_raised_as_transient(server, client):
    with pytest.raises(TransientError) as e:
        await client.request("GET", str(server.make_url("/status/503")))
    assert e.value.status == 503


async def test_401_is_an_auth_error_and_is_not_retried(server, client):
    with pytest.raises(AuthError):
        await client.request("GET", str(server.make_url("/status/401")))


async def test_other_4xx_is_permanent(server, client):
    with pytest.raises(PermanentError):
        await client.request("GET", str(server.make_url("/status/422")))


async def test_an_error_quotes_the_start_of_the_answer_and_carries_all_of_it(server, client):
    with pytest.raises(PermanentError) as e:
        await client.request("GET", str(server.make_url("/refused")))
    assert "the end" not in str(e.value) and str(e.value).startswith("HTTP 400 from")
    assert e.value.body.endswith(b' the end"}]')


async def test_a_response_over_the_limit_is_cut_off_and_refused(server, client):
    with pytest.raises(PermanentError, match="limit"):
        await client.request("GET", str(server.make_url("/big")))


async def test_a_redirect_on_the_same_host_is_followed(server, client):
    resp = await client.request("GET", str(server.make_url("/same-host")))
    assert resp.status == 200


async def test_a_redirect_to_another_host_is_refused(server, client):
    with pytest.raises(PermanentError, match="refused"):
        await client.request("GET", str(server.make_url("/other-host")))


async def test_a_refused_connection_is_transient(client):
    with pytest.raises(TransientError):
        await client.request("GET", "http://127.0.0.1:9/nothing-listens-here")


def test_the_status_table_classifies_each_family():
    assert [kind_of_status(s) for s in (200, 401, 403, 404, 429, 500, 503)] == [
        None,
        "auth",
        "auth",
        "permanent",
        "transient",
        "transient",
        "transient",
    ]


async def test_a_per_call_limit_overrides_the_clients_own(server, client):
    resp = await client.request("GET", str(server.make_url("/big")), max_bytes=10_000)
    assert len(resp.body) == 5000
