"""Sending a case to an Open311 server on loopback: one request per case, however often it is sent."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import AuthError, PermanentError, TransientError
from sync.targets.base import FrozenRequest
from sync.targets.open311 import marker_case_id
from tests.sync.open311.support import API_KEY, CASE_ID, appeal, context, report


def rendered(target, row=None) -> FrozenRequest:
    request = target.render(context(row))
    assert isinstance(request, FrozenRequest)
    return request


async def test_send_creates_the_request_and_answers_its_id_as_the_work_order(open311, target):
    server = await open311()
    client = target(server)
    answer = await client.send(rendered(client), resent=False)
    [held] = await server.held()
    assert answer == {"work_order_no": held["service_request_id"]}
    assert client.answer_effects("create_work_order", answer) == {"work_order_no": held["service_request_id"]}


async def test_the_server_receives_the_form_with_the_api_key(open311, target):
    server = await open311()
    client = target(server)
    await client.send(rendered(client), resent=False)
    [held] = await server.held()
    assert held["service_code"] == "009" and held["address"] == "章贡区红旗大道88号阳光小区"
    assert (held["lat"], held["long"]) == (25.8311, 114.9332)
    assert held["form"]["first_name"] == "明" and held["form"]["phone"] == "13807970042"
    assert marker_case_id(held["description"]) == str(CASE_ID)
    [post] = [w for w in await server.wire() if w["method"] == "POST"]
    assert post["form"]["api_key"] == ["***"]  # it was sent (the log masks it)
    assert post["content_type"].startswith("application/x-www-form-urlencoded")


async def test_a_confidential_report_reaches_the_server_without_the_reporter(open311, target):
    server = await open311()
    client = target(server)
    await client.send(rendered(client, report()), resent=False)
    [held] = await server.held()
    assert not {"first_name", "last_name", "phone", "email"} & held["form"].keys()
    assert "李建国" not in held["description"] and "13912345678" not in held["description"]


async def test_the_same_frozen_request_is_sent_identically_on_every_attempt(open311, target):
    server = await open311(lost_answer_rate=1.0)
    client = target(server)
    request = rendered(client)
    for _ in range(2):
        with pytest.raises(TransientError):
            await client.send(request, resent=False)
    posts = [w["form"] for w in await server.wire() if w["method"] == "POST"]
    assert len(posts) == 2 and posts[0] == posts[1]


async def test_a_post_whose_answer_was_lost_is_not_retried_inside_the_call(open311, target):
    server = await open311(lost_answer_rate=1.0)
    client = target(server)
    with pytest.raises(TransientError, match="500"):
        await client.send(rendered(client), resent=False)
    assert len(await server.held()) == 1  # the HTTP client's own retries leave a POST alone


async def test_a_resend_finds_the_request_the_lost_answer_created_instead_of_making_a_second(open311, target):
    server = await open311(lost_answer_rate=1.0)
    client = target(server)
    request = rendered(client)
    with pytest.raises(TransientError):
        await client.send(request, resent=False)
    await server.knobs(lost_answer_rate=0.0)
    answer = await client.send(request, resent=True)
    held = await server.held()
    assert len(held) == 1
    assert answer == {"work_order_no": held[0]["service_request_id"]}


async def test_a_resend_looks_by_service_code_in_a_window_of_at_most_90_days(open311, target):
    server = await open311()
    client = target(server)
    await client.send(rendered(client), resent=True)
    lookups = [w["query"] for w in await server.wire() if w["method"] == "GET" and w["path"] == "/requests.json"]
    assert lookups and all(q["service_code"] == "009" for q in lookups)
    assert all(q["jurisdiction_id"] == "ganzhou.gov.cn" for q in lookups)
    assert len(await server.held()) == 1  # found nothing, so it created the request


async def test_a_resend_does_not_take_another_cases_request(open311, target):
    server = await open311()
    client = target(server)
    other = appeal(case_id="0193605e-0000-7000-8000-00000000beef")
    await client.send(rendered(client, other), resent=False)
    await client.send(rendered(client), resent=True)
    assert len(await server.held()) == 2


async def test_the_lookup_splits_a_full_answer_until_it_has_seen_every_request(open311, target):
    # Business time runs 10^5 times as fast: requests made 50 ms apart are about 1.4 hours apart.
    server = await open311(clock_scale=1e-5, max_results=2)
    client = target(server, max_results=2)
    mine = rendered(client)
    first = await client.send(mine, resent=False)
    for n in range(4):
        await asyncio.sleep(0.05)
        await client.send(rendered(client, appeal(case_id=f"0193605e-0000-7000-8000-{n:012d}")), resent=False)
    found = await client.find_request(str(CASE_ID), "009", now=server.city.clock.now())
    assert found == first["work_order_no"]
    lookups = [w for w in await server.wire() if w["method"] == "GET"]
    assert len(lookups) > 1


async def test_a_lookup_that_cannot_be_completed_refuses_to_guess(open311, target):
    server = await open311(max_results=2)
    client = target(server, max_results=2)
    for n in range(3):
        await client.send(rendered(client, appeal(case_id=f"0193605e-0000-7000-8000-{n:012d}")), resent=False)
    with pytest.raises(PermanentError, match="cannot rule out"):
        await client.find_request(str(CASE_ID), "009")


async def test_a_token_is_resolved_to_the_request_id(open311, target):
    server = await open311(clock_scale=1e-3, async_tokens=True, token_delay_s=300.0)  # 0.3 s
    client = target(server)
    answer = await client.send(rendered(client), resent=False)
    [held] = await server.held()
    assert answer == {"work_order_no": held["service_request_id"]}
    assert any(w["path"].startswith("/tokens/") for w in await server.wire())


def impatient(client):
    """A client that reads a token twice in 10 ms before it gives up for this attempt."""
    client.token_waits = (0.0, 0.01)
    return client


async def test_a_token_still_pending_is_a_transient_error(open311, target):
    server = await open311(async_tokens=True, token_delay_s=3_600.0)
    client = impatient(target(server))
    with pytest.raises(TransientError, match="token"):
        await client.send(rendered(client), resent=False)
    assert len([w for w in await server.wire() if w["path"].startswith("/tokens/")]) == 2


async def test_a_resend_after_a_pending_token_asks_for_the_token_again_and_posts_nothing(open311, target):
    server = await open311(clock_scale=1e-3, async_tokens=True, token_delay_s=300.0)  # 0.3 s
    client = impatient(target(server))
    request = rendered(client)
    with pytest.raises(TransientError):
        await client.send(request, resent=False)
    await asyncio.sleep(0.4)  # the back office catches up
    answer = await client.send(request, resent=True)
    held = await server.held()
    assert len(held) == 1 and answer == {"work_order_no": held[0]["service_request_id"]}
    assert len([w for w in await server.wire() if w["method"] == "POST"]) == 1


async def test_after_a_restart_a_resend_finds_the_tokens_request_by_its_marker(open311, target):
    server = await open311(clock_scale=1e-3, async_tokens=True, token_delay_s=300.0)
    request = rendered(target(server))
    with pytest.raises(TransientError):
        await impatient(target(server)).send(request, resent=False)
    await asyncio.sleep(0.4)
    answer = await impatient(target(server)).send(request, resent=True)  # a new process: no memory of the token
    held = await server.held()
    assert len(held) == 1 and answer == {"work_order_no": held[0]["service_request_id"]}
    assert len([w for w in await server.wire() if w["method"] == "POST"]) == 1


async def test_a_blackbox_service_is_followed_by_the_marker(open311, target):
    server = await open311(blackbox=True)
    client = target(server)
    answer = await client.send(rendered(client), resent=False)
    [held] = await server.held()
    assert answer == {"work_order_no": held["service_request_id"]}


async def test_a_wrong_api_key_is_an_auth_error_saying_what_the_server_said(open311, target):
    server = await open311()
    client = target(server, api_key="not-the-key")
    with pytest.raises(AuthError, match="Invalid api_key received") as e:
        await client.send(rendered(client), resent=False)
    assert e.value.status == 403
    assert await server.held() == []


async def test_an_unknown_service_code_is_permanent_and_names_the_code(open311, target):
    server = await open311()
    client = target(server, default_service_code="999", service_codes={})
    with pytest.raises(PermanentError, match="service_code '999' was not found") as e:
        await client.send(rendered(client), resent=False)
    assert e.value.status == 404


async def test_a_refused_form_is_permanent_with_every_description(open311, target):
    server = await open311()
    client = target(server, default_service_code="007", service_codes={})  # 违章停车 needs attribute[plate]
    with pytest.raises(PermanentError, match=r"HTTP 400: attribute\[plate\] is required"):
        await client.send(rendered(client), resent=False)


async def test_an_outage_is_transient(open311, target):
    server = await open311(outage=True)
    client = target(server)
    with pytest.raises(TransientError, match="not available") as e:
        await client.send(rendered(client), resent=False)
    assert e.value.retry_after == 1.0


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_injected_errors_are_transient(open311, target, status):
    server = await open311(error_rate=1.0, error_statuses=[status])
    client = target(server)
    with pytest.raises(TransientError, match=f"HTTP {status}: Simulated error"):
        await client.send(rendered(client), resent=False)


async def test_an_unreachable_server_is_transient(target, open311):
    server = await open311()
    server.url = "http://127.0.0.1:9"  # discard: nothing listens
    with pytest.raises(TransientError):
        await target(server).send(rendered(target(server)), resent=False)


async def test_api_key_is_not_sent_on_reads(open311, target):
    server = await open311()
    client = target(server)
    no = (await client.send(rendered(client), resent=True))["work_order_no"]
    await client.work_order_events(no)
    gets = [w for w in await server.wire() if w["method"] == "GET"]
    assert gets and all("api_key" not in w["query"] and API_KEY not in str(w) for w in gets)
