"""The outbox dispatcher's guarantees, against the 12345 platform simulator on loopback: a refused request is
dead at once, a failing platform is tried again later and later (never beyond the cap) until the last attempt,
refused credentials never dead-letter, the messages of a case go in order, every attempt sends the request
frozen at the first, and two dispatchers on one PostgreSQL database send each message exactly once.

The tests drive `Dispatcher.round()` themselves (no background loop), with one HTTP try per attempt, so that
every attempt of the dispatcher is one request at the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import InboundItem
from core.config import SyncSettings
from core.db import make_engine
from core.http import HttpClient
from core.ingest import Pipeline, Submission
from core.models import Appeal, Case, CaseEvent, OutboxMessage, utcnow
from simulators.hotline import build_platform, running
from sync import control, outbox
from sync.dispatcher import Dispatcher
from sync.queue import backoff
from sync.targets import make_target
from sync.targets.base import CREATE_WORK_ORDER, RAISE_FLAG, Target
from tests.helpers import PLATFORM_SECRET, load_test_config
from tests.sync.support import APP_KEY, FAST, complaint, eventually, platform_table

CREATE_PATH = "/api/v1/work-orders"
QUICK = SyncSettings(backoff_initial_seconds=0.02, backoff_max_seconds=0.1, claim_seconds=30)


@dataclass
class Bench:
    """A dispatcher's surroundings: the database, a pipeline that stores appeals, and the platform simulator."""

    engine: AsyncEngine
    pipeline: Pipeline
    target: Target
    platform: str  # the simulator's own URL, for its control API
    http: aiohttp.ClientSession
    proxy: AnswerLosingProxy

    def dispatcher(
        self, owner: str = "dispatcher-a", settings: SyncSettings = QUICK, engine: AsyncEngine | None = None
    ) -> Dispatcher:
        """A dispatcher sending this bench's outbox to the simulator."""
        return Dispatcher(engine or self.engine, self.target, settings, owner)

    async def case(self, source_id: str, **fields: Any) -> uuid.UUID:
        """Store a complaint from the generic API channel; the id of its new case, which owes a work order."""
        item = InboundItem(source_id, json.dumps(complaint(source_id, **fields), ensure_ascii=False))
        async with self.engine.begin() as conn:
            [result] = await self.pipeline.ingest(conn, [Submission("web", item, utcnow())])
            return (await conn.execute(select(Appeal.case_id).where(Appeal.id == result.id))).scalar_one()

    async def flag(self, case_id: uuid.UUID, flag_id: str, **fields: Any) -> None:
        """Write a supervision flag (督办) of the case into the outbox, as the escalation scan does."""
        fields.setdefault("reason", "overdue")
        async with self.engine.begin() as conn:
            await outbox.enqueue(conn, [outbox.flag(case_id, flag_id, "supervision", utcnow(), **fields)])

    async def sim(self, path: str, method: str = "GET", **kw: Any) -> Any:
        """A call to the simulator's control API."""
        async with self.http.request(method, f"{self.platform}{path}", **kw) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def knobs(self, **knobs: Any) -> None:
        """Change the simulator's knobs."""
        await self.sim("/_sim/knobs", "PUT", json=knobs)

    async def requests(self, path: str = CREATE_PATH) -> list[dict[str, Any]]:
        """The POSTs the platform received on this path (or, with a trailing '/', below it), oldest first."""
        received = await self.sim("/_sim/requests")
        below = path.endswith("/")
        return [
            r
            for r in received
            if r["method"] == "POST" and (r["path"].startswith(path) if below else r["path"] == path)
        ]

    async def message(self, case_id: uuid.UUID, kind: str = CREATE_WORK_ORDER) -> Any:
        """The case's outbox message of this kind."""
        async with self.engine.connect() as conn:
            query = select(OutboxMessage).where(OutboxMessage.case_id == case_id, OutboxMessage.kind == kind)
            return (await conn.execute(query)).one()

    async def timeline(self, case_id: uuid.UUID) -> list[Any]:
        """The case's timeline lines, in order."""
        async with self.engine.connect() as conn:
            query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
            return list((await conn.execute(query)).all())


class AnswerLosingProxy:
    """A loopback HTTP proxy in front of the platform that can lose answers: it forwards the request, the
    platform takes it, and then the proxy drops the connection, so huiju never hears the answer."""

    FORWARDED = ("Content-Type", "X-App-Key", "X-Timestamp", "X-Nonce", "X-Sign-Method", "X-Signature")

    def __init__(self, upstream: str, http: aiohttp.ClientSession) -> None:
        self.upstream = upstream
        self.http = http
        self.answers_to_lose = 0

    async def forward(self, request: web.Request) -> web.StreamResponse:
        """Pass the request on unchanged (its signature still holds), and its answer back unless it is lost."""
        body = await request.read()
        headers = {h: request.headers[h] for h in self.FORWARDED if h in request.headers}
        url = self.upstream + request.path_qs
        async with self.http.request(request.method, url, data=body or None, headers=headers) as r:
            kept = {h: r.headers[h] for h in ("Retry-After", "WWW-Authenticate") if h in r.headers}
            answer = web.Response(status=r.status, body=await r.read(), content_type=r.content_type, headers=kept)
        if self.answers_to_lose:
            self.answers_to_lose -= 1
            assert request.transport is not None
            request.transport.close()
        return answer

    def app(self) -> web.Application:
        """The proxy as an aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        return app


@contextlib.asynccontextmanager
async def bench(tmp_path: Path, engine: AsyncEngine, db_url: str, **knobs: Any) -> AsyncIterator[Bench]:
    """The simulator (work orders standing still unless knobs say otherwise), a proxy in front of it that
    forwards faithfully until told to lose answers, and a target sending through the proxy."""
    app = build_platform(
        APP_KEY, PLATFORM_SECRET, "hmac-sha256", seed=7, clock_scale=FAST, **{"auto_advance": False, **knobs}
    )
    async with running(app) as url, aiohttp.ClientSession() as http:
        proxy = AnswerLosingProxy(url, http)
        async with running(proxy.app()) as proxy_url:
            platform = platform_table(proxy_url, callbacks=False, feed_poll_seconds=60, sign_method="hmac-sha256")
            config = load_test_config(tmp_path, db_url, platform=platform).config
            target = make_target(config.platform, HttpClient(http, attempts=1))
            yield Bench(engine, Pipeline(config, config.tier_rules()), target, url, http, proxy)


async def drive(dispatcher: Dispatcher, done: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Run rounds until done() gives something truthy (a round finds nothing until a retry is due)."""

    async def round_then_check() -> Any:
        await dispatcher.round()
        return await done()

    return await eventually(round_then_check, timeout=timeout, every=0.01)


async def when_due(b: Bench, case_id: uuid.UUID, kind: str = CREATE_WORK_ORDER) -> None:
    """Sleep until the message's next attempt is due."""
    message = await b.message(case_id, kind)
    await asyncio.sleep(max(0.0, (message.next_attempt_at - utcnow()).total_seconds()) + 0.005)


def status_is(b: Bench, case_id: uuid.UUID, status: str, kind: str = CREATE_WORK_ORDER):
    """A check for drive(): the message, once it has this status."""

    async def check() -> Any:
        message = await b.message(case_id, kind)
        return message if message.status == status else None

    return check


async def test_a_message_is_sent_once_and_its_case_learns_the_work_order_number(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url) as b:
        case_id = await b.case("SENT-1")
        assert await b.dispatcher().round() == 1

        message = await b.message(case_id)
        [order] = await b.sim("/_sim/work-orders")
        assert message.status == "sent" and message.attempts == 1 and message.claimed_by is None
        assert message.response["work_order_no"] == order["work_order_no"]
        async with engine.connect() as conn:
            case = (await conn.execute(select(Case).where(Case.id == case_id))).one()
        assert case.work_order_no == order["work_order_no"] and case.status == "submitted"
        sent = [e for e in await b.timeline(case_id) if e.kind == "create_work_order_sent"]
        assert [e.detail["work_order_no"] for e in sent] == [order["work_order_no"]]


async def test_a_request_the_platform_refuses_is_dead_at_once_with_the_error_kept(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[400]) as b:
        case_id = await b.case("REFUSED-1")
        d = b.dispatcher()
        await d.round()

        message = await b.message(case_id)
        assert message.status == "dead" and message.attempts == 1
        assert message.last_error.startswith("permanent") and "HTTP 400" in message.last_error
        [dead] = [e for e in await b.timeline(case_id) if e.kind == "message_dead"]
        assert dead.detail["error"] == message.last_error and dead.detail["attempts"] == 1
        await asyncio.sleep(2 * QUICK.backoff_max_seconds)
        assert await d.round() == 0
        assert len(await b.requests()) == 1


async def test_a_flag_the_platform_finds_invalid_is_dead_with_the_platforms_reason(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url) as b:
        case_id = await b.case("BADFLAG-1")
        d = b.dispatcher()
        await drive(d, status_is(b, case_id, "sent"))
        await b.flag(case_id, "flag-no-reason", reason=None)  # supervision needs a reason: the platform says 400
        await drive(d, status_is(b, case_id, "dead", RAISE_FLAG))

        flag = await b.message(case_id, RAISE_FLAG)
        assert flag.attempts == 1 and "validation_failed" in flag.last_error and "reason" in flag.last_error
        [request] = await b.requests("/api/v1/work-orders/")
        assert request["status"] == 400


async def test_a_failing_platform_is_tried_again_later_and_later_never_beyond_the_cap(tmp_path, engine, db_url):
    settings = SyncSettings(backoff_initial_seconds=0.02, backoff_max_seconds=0.16, max_attempts=50)
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[500]) as b:
        case_id = await b.case("FAILING-1")
        d = b.dispatcher(settings=settings)
        previous = None
        for attempt in range(1, 8):
            await when_due(b, case_id)
            before = utcnow()
            assert await d.round() == 1
            after = utcnow()
            message = await b.message(case_id)
            assert message.status == "pending" and message.attempts == attempt
            assert message.last_error.startswith("transient")
            # the wait chosen at recording time lies between these two; each bound fails if the wait is off
            base = min(settings.backoff_max_seconds, settings.backoff_initial_seconds * 2 ** (attempt - 1))
            assert (message.next_attempt_at - before).total_seconds() >= 0.5 * base
            assert (message.next_attempt_at - after).total_seconds() <= base <= settings.backoff_max_seconds
            assert previous is None or message.next_attempt_at > previous
            previous = message.next_attempt_at
        assert len(await b.requests()) == 7


async def test_a_busy_platform_is_not_asked_again_before_its_retry_after(tmp_path, engine, db_url):
    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=30)
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[503]) as b:  # Retry-After: 1
        case_id = await b.case("BUSY-1")
        before = utcnow()
        await b.dispatcher(settings=settings).round()
        message = await b.message(case_id)
        assert message.status == "pending"
        assert (message.next_attempt_at - before).total_seconds() >= 1.0


async def test_a_retry_after_longer_than_the_cap_waits_only_the_cap(tmp_path, engine, db_url):
    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=0.3)
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[503]) as b:  # Retry-After: 1
        case_id = await b.case("BUSY-2")
        await b.dispatcher(settings=settings).round()
        after = utcnow()
        message = await b.message(case_id)
        assert (message.next_attempt_at - after).total_seconds() <= settings.backoff_max_seconds


@given(
    attempts=st.integers(min_value=1, max_value=60),
    initial=st.floats(min_value=0.01, max_value=100),
    cap=st.floats(min_value=0.01, max_value=86400),
    retry_after=st.none() | st.floats(min_value=0.001, max_value=100_000),
)
def test_the_back_off_doubles_with_jitter_up_to_the_cap_and_never_before_retry_after(
    attempts, initial, cap, retry_after
):
    settings = SyncSettings(backoff_initial_seconds=initial, backoff_max_seconds=cap)
    base = min(cap, initial * 2 ** (attempts - 1))
    waits = {backoff(settings, attempts, retry_after).total_seconds() for _ in range(20)}
    floor = min(retry_after, cap) if retry_after else 0.0
    tolerance = 1e-6  # timedelta keeps microseconds
    assert all(max(0.5 * base, floor) - tolerance <= w <= max(base, floor) + tolerance for w in waits)
    assert all(w <= cap + tolerance for w in waits)
    if floor < 0.5 * base - tolerance:
        assert len(waits) > 1  # jitter: a backlog does not come back all at once


async def test_after_the_last_allowed_attempt_a_failing_message_is_dead(tmp_path, engine, db_url):
    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=0.05, max_attempts=3)
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[500]) as b:
        case_id = await b.case("DYING-1")
        d = b.dispatcher(settings=settings)
        message = await drive(d, status_is(b, case_id, "dead"))

        assert message.attempts == 3 and message.last_error.startswith("transient")
        [dead] = [e for e in await b.timeline(case_id) if e.kind == "message_dead"]
        assert dead.detail["attempts"] == 3
        await asyncio.sleep(3 * settings.backoff_max_seconds)
        assert await d.round() == 0
        assert len(await b.requests()) == 3


async def test_refused_credentials_never_dead_letter_however_many_attempts(tmp_path, engine, db_url):
    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=0.05, max_attempts=2)
    async with bench(tmp_path, engine, db_url, reject_auth=True) as b:
        case_id = await b.case("AUTH-1")
        d = b.dispatcher(settings=settings)

        async def six_refusals() -> Any:
            refused = [r for r in await b.requests() if r["status"] == 401]
            return len(refused) >= 3 * settings.max_attempts

        await drive(d, six_refusals)
        message = await b.message(case_id)
        assert message.status == "pending" and message.last_error.startswith("auth")
        assert not [e for e in await b.timeline(case_id) if e.kind == "message_dead"]

        await b.knobs(reject_auth=False)  # an administrator fixed the credentials
        message = await drive(d, status_is(b, case_id, "sent"))
        assert message.response["work_order_no"]


async def test_refused_credentials_are_asked_again_only_at_the_capped_back_off(tmp_path, engine, db_url):
    # docs/sync.md § Retries: an auth failure is tried again at the capped back-off, not hammered every second.
    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=0.16, max_attempts=50)
    async with bench(tmp_path, engine, db_url, reject_auth=True) as b:
        case_id = await b.case("AUTH-2")
        d = b.dispatcher(settings=settings)
        for _ in range(6):  # doubling from 0.01 s has reached the cap by now
            await when_due(b, case_id)
            before = utcnow()
            assert await d.round() == 1
        message = await b.message(case_id)
        assert message.status == "pending" and message.last_error.startswith("auth")
        assert (message.next_attempt_at - before).total_seconds() >= 0.5 * settings.backoff_max_seconds


async def test_a_later_message_of_a_case_waits_while_its_create_is_pending(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[500]) as b:
        case_id = await b.case("ORDER-1")
        await b.flag(case_id, "flag-order-1")
        d = b.dispatcher()
        for _ in range(3):
            await when_due(b, case_id)
            await d.round()

        flag = await b.message(case_id, RAISE_FLAG)
        assert (await b.message(case_id)).attempts == 3
        assert flag.status == "pending" and flag.attempts == 0 and flag.request is None
        assert await b.requests("/api/v1/work-orders/") == []


async def test_a_later_message_of_a_case_waits_while_its_create_is_dead_and_goes_after_it(
    tmp_path, engine, db_url
):
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[400]) as b:
        case_id = await b.case("ORDER-2")
        await b.flag(case_id, "flag-order-2")
        d = b.dispatcher()
        await drive(d, status_is(b, case_id, "dead"))
        await asyncio.sleep(2 * QUICK.backoff_max_seconds)
        await d.round()
        flag = await b.message(case_id, RAISE_FLAG)
        assert flag.status == "pending" and flag.attempts == 0

        await b.knobs(error_rate=0)
        async with engine.begin() as conn:
            await control.retry_outbox(conn, [(await b.message(case_id)).id], "test")
        await drive(d, status_is(b, case_id, "sent", RAISE_FLAG))

        received = [(r["path"], r["status"]) for r in await b.sim("/_sim/requests")]
        [order] = await b.sim("/_sim/work-orders")
        flags_path = f"/api/v1/work-orders/{order['work_order_no']}/flags"
        assert received == [(CREATE_PATH, 400), (CREATE_PATH, 201), (flags_path, 201)]


async def test_a_dead_message_holds_back_only_its_own_case(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[400]) as b:
        stuck = await b.case("HELD-1")
        d = b.dispatcher()
        await drive(d, status_is(b, stuck, "dead"))
        await b.knobs(error_rate=0)
        other = await b.case("FREE-1")
        await b.flag(other, "flag-free-1")
        await drive(d, status_is(b, other, "sent", RAISE_FLAG))
        assert (await b.message(stuck)).status == "dead"


async def test_every_attempt_sends_the_request_frozen_at_the_first_even_after_the_appeal_changed(
    tmp_path, engine, db_url
):
    async with bench(tmp_path, engine, db_url, error_rate=1, error_statuses=[500]) as b:
        bodies: list[str] = []
        send = b.target.send

        async def recording_send(request, *, resent):
            bodies.append(request.body)
            return await send(request, resent=resent)

        b.target.send = recording_send  # type: ignore[method-assign]  # a spy: the real request still goes out
        case_id = await b.case("FROZEN-1")
        d = b.dispatcher()
        await d.round()
        async with engine.begin() as conn:  # the appeal is corrected after the first attempt
            await conn.execute(update(Appeal).where(Appeal.case_id == case_id).values(title="更正后的标题"))
        await when_due(b, case_id)
        await d.round()
        await b.knobs(error_rate=0)
        message = await drive(d, status_is(b, case_id, "sent"))

        creates = await b.requests()
        assert [r["status"] for r in creates] == [500, 500, 201]
        assert len(bodies) == 3 and len(set(bodies)) == 1
        assert bodies[0] == message.request["body"]
        assert all(r["body"] == json.loads(bodies[0]) for r in creates)
        assert creates[0]["body"]["appeal"]["title"] == "景蓉华苑物业乱收停车费"
        assert len({r["headers"]["X-Nonce"] for r in creates}) == 3  # signed anew every time


async def test_a_resend_after_a_lost_answer_is_answered_200_with_the_same_work_order(tmp_path, engine, db_url):
    async with bench(tmp_path, engine, db_url) as b:
        b.proxy.answers_to_lose = 1  # the platform takes the first request; its answer never reaches huiju
        case_id = await b.case("LOST-1")
        d = b.dispatcher()
        await d.round()
        message = await b.message(case_id)
        assert message.status == "pending" and message.last_error.startswith("transient")
        [order] = await b.sim("/_sim/work-orders")

        message = await drive(d, status_is(b, case_id, "sent"))
        creates = await b.requests()
        assert [r["status"] for r in creates] == [201, 200]
        assert creates[0]["body"] == creates[1]["body"]
        assert message.response["work_order_no"] == order["work_order_no"]
        assert len(await b.sim("/_sim/work-orders")) == 1


@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_two_dispatchers_on_one_database_send_each_message_exactly_once(tmp_path, pg_database):
    from tests.conftest import _truncate

    await _truncate(pg_database)
    settings = SyncSettings(batch_size=4, backoff_initial_seconds=0.02, backoff_max_seconds=0.1)
    engines = [make_engine(pg_database), make_engine(pg_database)]
    try:
        async with bench(tmp_path, engines[0], pg_database, latency_ms=30) as b:
            cases = {str(await b.case(f"PAIR-{i}")) for i in range(40)}
            dispatchers = [b.dispatcher(f"instance-{n}", settings, e) for n, e in enumerate(engines)]

            async def pending() -> int:
                async with engines[0].connect() as conn:
                    rows = await conn.execute(select(OutboxMessage.id).where(OutboxMessage.status != "sent"))
                    return len(rows.all())

            async def work(d: Dispatcher) -> int:
                handled = 0
                while await pending():
                    done = await d.round()
                    handled += done
                    if not done:
                        await asyncio.sleep(0.01)
                return handled

            handled = await asyncio.wait_for(asyncio.gather(*(work(d) for d in dispatchers)), 60)
            creates = Counter(r["body"]["case_id"] for r in await b.requests())
            orders = await b.sim("/_sim/work-orders")
    finally:
        for e in engines:
            await e.dispose()
    assert all(n > 0 for n in handled)  # both instances took part
    assert set(creates) == cases and set(creates.values()) == {1}
    assert sorted(o["case_id"] for o in orders) == sorted(cases)
