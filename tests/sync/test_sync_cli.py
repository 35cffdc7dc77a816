"""gateway.py outbox|deliveries|cases|review: the sync commands an operator runs at the server, against a database
a running gateway filled (a sent work order, a flag the platform refused, a merged-mode reply awaiting review)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import gateway
from core.config import load_config
from core.db import make_engine
from core.models import Appeal, CaseEvent, Delivery, OutboxMessage, utcnow
from sync import outbox
from sync.targets.base import RAISE_FLAG, RETURN_REPLY
from tests.helpers import ENV
from tests.sync.support import complaint, eventually, sync_world

UNKNOWN = "987654"


@dataclass(frozen=True)
class Stored:
    """What the gateway left in the database, and the config file that points at it."""

    config: Path
    case: uuid.UUID  # the web appeal's case: its work order was created, its supervision flag refused
    created: int  # that case's create_work_order, sent
    work_order_no: str
    refused: int  # that case's raise_flag, dead (the platform answered 400)
    national_case: uuid.UUID  # the 12315 appeal's case, replied
    reply: int  # its reply, awaiting review on gz-12315
    waiting: int  # its `closed` delivery, pending behind the reply


@pytest.fixture(autouse=True)
def logging_kept():
    """A command sets up logging for its process (on the stderr of the moment); give the test run its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def stored(tmp_path, db_url, monkeypatch) -> Stored:
    """Run a gateway with a 12315 merged-mode channel until the database holds what the commands work on."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    async with sync_world(tmp_path, db_url, national_mode="merged", national_orders=1) as w:
        appeal_id = await w.push(complaint("CLI-1"))

        async def created() -> Any:
            query = select(OutboxMessage).join(Appeal, Appeal.case_id == OutboxMessage.case_id)
            rows = await w.rows(query.where(Appeal.id == appeal_id, OutboxMessage.status == "sent"))
            return rows[0] if rows else None

        create = await eventually(created)
        async with w.ctx.engine.begin() as conn:  # a supervision flag without a reason: the platform says 400
            await outbox.enqueue(conn, [outbox.flag(create.case_id, "cli-flag-1", "supervision", utcnow())])

        async def refused() -> Any:
            rows = await w.rows(select(OutboxMessage).where(OutboxMessage.kind == RAISE_FLAG))
            return rows[0] if rows and rows[0].status == "dead" else None

        async def reviewable() -> Any:
            rows = await w.rows(select(Delivery).where(Delivery.channel_id == "gz-12315").order_by(Delivery.id))
            states = [(d.payload["status"], d.state) for d in rows]
            owed = {("replied", "awaiting_review"), ("closed", "pending"), ("revisited", "pending")}
            return rows if owed <= set(states) else None

        flag = await eventually(refused)
        deliveries = await eventually(reviewable)
    reply = next(d for d in deliveries if d.state == "awaiting_review")
    waiting = next(d for d in deliveries if d.payload["status"] == "closed")
    return Stored(
        tmp_path / "config.toml",
        create.case_id,
        create.id,
        create.response["work_order_no"],
        flag.id,
        reply.case_id,
        reply.id,
        waiting.id,
    )


def run(*args: str) -> int:
    """gateway.main off the event loop (the commands run their own)."""
    return gateway.main(list(args))


async def cli(stored: Stored, *args: str) -> int:
    """One command against the stored database; its exit status."""
    return await asyncio.to_thread(run, *args, "--config", str(stored.config))


@contextlib.asynccontextmanager
async def database(stored: Stored) -> AsyncIterator[AsyncEngine]:
    """An engine on the stored database."""
    engine = make_engine(load_config(stored.config).config.database.url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def row(stored: Stored, model: Any, row_id: int) -> Any:
    """One row of the stored database, read afresh."""
    async with database(stored) as engine, engine.connect() as conn:
        return (await conn.execute(select(model).where(model.id == row_id))).one()


async def lines_of(stored: Stored, case_id: uuid.UUID, kind: str) -> list[Any]:
    """The case's timeline lines of one kind."""
    async with database(stored) as engine, engine.connect() as conn:
        query = select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
        return list((await conn.execute(query)).all())


# -- outbox ------------------------------------------------------------------------------------------------------


async def test_outbox_list_prints_one_line_per_message_newest_first(stored, capsys):
    assert await cli(stored, "outbox", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    by_id = {int(line.split()[0]): line for line in lines}
    assert [int(line.split()[0]) for line in lines] == sorted(by_id, reverse=True)
    assert "dead" in by_id[stored.refused] and "raise_flag" in by_id[stored.refused]
    assert "validation_failed" in by_id[stored.refused]  # the platform's reason, for the operator to take on
    assert "sent" in by_id[stored.created] and stored.work_order_no in by_id[stored.created]


async def test_outbox_list_as_json_filters_by_status_and_never_shows_the_request(stored, capsys):
    assert await cli(stored, "outbox", "list", "--status", "dead", "--json") == 0
    [line] = capsys.readouterr().out.splitlines()
    message = json.loads(line)
    assert message["id"] == stored.refused and message["status"] == "dead" and message["frozen"] is True
    assert "request" not in message and "13800138000" not in line


async def test_outbox_list_filters_by_case(stored, capsys):
    assert await cli(stored, "outbox", "list", "--case", str(stored.case), "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m["id"] for m in listed] == [stored.refused, stored.created]
    assert {m["case_id"] for m in listed} == {str(stored.case)}


async def test_outbox_list_says_so_when_nothing_matches(stored, capsys):
    assert await cli(stored, "outbox", "list", "--case", str(uuid.uuid4())) == 0
    out = capsys.readouterr()
    assert out.out == "" and "empty" in out.err


async def test_outbox_retry_requeues_a_dead_message_from_zero_with_the_actor_on_the_timeline(stored, capsys):
    assert await cli(stored, "outbox", "retry", str(stored.refused), "--actor", "ops-zhang") == 0
    assert capsys.readouterr().out.strip() == f"requeued: {stored.refused}"
    message = await row(stored, OutboxMessage, stored.refused)
    assert message.status == "pending" and message.attempts == 0 and message.next_attempt_at <= utcnow()
    [line] = await lines_of(stored, stored.case, "outbox_retried")
    assert line.detail == {"message_id": stored.refused, "was": "dead", "by": "ops-zhang"}


async def test_outbox_retry_without_ids_requeues_every_dead_message_and_names_the_cli_user(stored, capsys):
    assert await cli(stored, "outbox", "retry") == 0
    assert capsys.readouterr().out.strip() == f"requeued: {stored.refused}"
    [line] = await lines_of(stored, stored.case, "outbox_retried")
    assert line.detail["by"] == f"cli:{getpass.getuser()}"


async def test_outbox_retry_of_an_unknown_message_exits_1(stored, capsys):
    assert await cli(stored, "outbox", "retry", UNKNOWN) == 1
    assert UNKNOWN in capsys.readouterr().err
    assert (await row(stored, OutboxMessage, stored.refused)).status == "dead"


async def test_outbox_replay_requeues_a_sent_message_keeping_its_request(stored, capsys):
    before = await row(stored, OutboxMessage, stored.created)
    assert await cli(stored, "outbox", "replay", str(stored.created), "--actor", "ops-zhang") == 0
    assert capsys.readouterr().out.strip() == f"requeued: {stored.created}"
    message = await row(stored, OutboxMessage, stored.created)
    assert message.status == "pending" and message.request == before.request
    [line] = await lines_of(stored, stored.case, "outbox_replayed")
    assert line.detail["by"] == "ops-zhang" and line.detail["was"] == "sent"


async def test_outbox_replay_of_an_unknown_message_exits_1(stored, capsys):
    assert await cli(stored, "outbox", "replay", UNKNOWN) == 1
    assert UNKNOWN in capsys.readouterr().err


# -- deliveries --------------------------------------------------------------------------------------------------


async def test_deliveries_list_filters_by_state_and_channel(stored, capsys):
    assert await cli(stored, "deliveries", "list", "--state", "awaiting_review", "--channel", "gz-12315") == 0
    [line] = capsys.readouterr().out.splitlines()
    assert int(line.split()[0]) == stored.reply
    assert "awaiting_review" in line and "replied" in line and f"case={stored.national_case}" in line


async def test_deliveries_list_as_json_shows_each_delivery_of_a_case(stored, capsys):
    assert await cli(stored, "deliveries", "list", "--case", str(stored.national_case), "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["status"] for d in reversed(listed)] == ["accepted", "dispatched", "replied", "closed", "revisited"]
    assert [d["state"] for d in reversed(listed)][:3] == ["delivered", "delivered", "awaiting_review"]


async def test_deliveries_retry_requeues_a_waiting_delivery(stored, capsys):
    assert await cli(stored, "deliveries", "retry", str(stored.waiting), "--actor", "ops-zhang") == 0
    assert capsys.readouterr().out.strip() == f"requeued: {stored.waiting}"
    [line] = await lines_of(stored, stored.national_case, "delivery_retried")
    assert line.detail == {"delivery_id": stored.waiting, "by": "ops-zhang"}


async def test_deliveries_retry_of_an_unknown_delivery_exits_1(stored, capsys):
    assert await cli(stored, "deliveries", "retry", UNKNOWN) == 1
    assert UNKNOWN in capsys.readouterr().err


# -- cases -------------------------------------------------------------------------------------------------------


async def test_cases_show_prints_the_case_with_its_timeline_and_the_phone_masked(stored, capsys):
    assert await cli(stored, "cases", "show", str(stored.case)) == 0
    out = capsys.readouterr().out
    case = json.loads(out)
    assert case["id"] == str(stored.case) and case["work_order_no"] == stored.work_order_no
    assert case["appeals"][0]["citizen"]["phone"] == "+86138****8000" and "13800138000" not in out
    kinds = [line["kind"] for line in case["timeline"]]
    assert kinds[0] == "appeal_received" and "create_work_order_sent" in kinds and "message_dead" in kinds
    assert {m["id"] for m in case["outbox"]} == {stored.created, stored.refused}


async def test_cases_show_of_an_unknown_case_exits_1(stored, capsys):
    missing = str(uuid.uuid4())
    assert await cli(stored, "cases", "show", missing) == 1
    assert missing in capsys.readouterr().err


async def test_cases_show_refuses_a_case_id_that_is_no_uuid(stored):
    with pytest.raises(SystemExit) as exit_:
        await cli(stored, "cases", "show", "not-a-case")
    assert "not a case id" in str(exit_.value.code)


# -- review ------------------------------------------------------------------------------------------------------


async def test_review_list_prints_the_replies_awaiting_review_on_the_channels_named(stored, capsys):
    assert await cli(stored, "review", "list", "gz-12315") == 0
    [line] = capsys.readouterr().out.splitlines()
    assert int(line.split()[0]) == stored.reply and "gz-12315" in line


async def test_review_list_of_a_channel_without_replies_says_so(stored, capsys):
    assert await cli(stored, "review", "list", "web") == 0
    out = capsys.readouterr()
    assert out.out == "" and "no replies" in out.err


async def test_review_approve_publishes_the_reply_and_a_second_verdict_exits_1(stored, capsys):
    assert await cli(stored, "review", "approve", str(stored.reply), "--actor", "board-office") == 0
    assert capsys.readouterr().out.strip() == f"reply {stored.reply}: approved"
    delivery = await row(stored, Delivery, stored.reply)
    assert delivery.state == "pending" and delivery.reviewed_by == "board-office"

    assert await cli(stored, "review", "approve", str(stored.reply)) == 1
    assert "already reviewed" in capsys.readouterr().err


async def test_review_reject_returns_the_reply_to_the_platform_with_the_comment(stored):
    comment = "答复未说明停车费的收费依据，请补充。"
    assert await cli(stored, "review", "reject", str(stored.reply), "--comment", comment) == 0
    delivery = await row(stored, Delivery, stored.reply)
    assert delivery.state == "rejected" and delivery.review_comment == comment
    async with database(stored) as engine, engine.connect() as conn:
        query = select(OutboxMessage).where(OutboxMessage.kind == RETURN_REPLY)
        [returned] = (await conn.execute(query)).all()
    assert returned.case_id == stored.national_case and returned.payload["comment"] == comment


async def test_review_reject_says_the_reply_was_rejected(stored, capsys):
    assert await cli(stored, "review", "reject", str(stored.reply), "--comment", "请补充收费依据。") == 0
    assert capsys.readouterr().out.strip() == f"reply {stored.reply}: rejected"


async def test_review_reject_without_a_comment_is_a_usage_error(stored, capsys):
    with pytest.raises(SystemExit) as exit_:
        await cli(stored, "review", "reject", str(stored.reply))
    assert exit_.value.code == 2 and "--comment" in capsys.readouterr().err
    assert (await row(stored, Delivery, stored.reply)).state == "awaiting_review"


async def test_review_of_an_unknown_reply_exits_1(stored, capsys):
    assert await cli(stored, "review", "approve", UNKNOWN) == 1
    assert UNKNOWN in capsys.readouterr().err
