"""Updates of shared records: an interconnect channel's own progress on its record, kept by the platform."""

from __future__ import annotations

import pytest

from tests.simulators.hotline.support import Client, appeal, case

REPLY = "经调查，该健身会所已停业。我局已约谈经营者，督促其按剩余期限退还预付卡余额。"
UNIT = {"code": None, "name": "章贡区市场监督管理局章江分局"}


def shared(n: int) -> dict:
    return {
        "case_id": case(n)["case_id"],
        "appeal": appeal(n, mode="interconnect", channel_id="gz-12315", source_id=f"SC2024112536070200{n:05d}"),
    }


def update(n: int = 1, update_id: str = "u-1", **changes) -> dict:
    """An update of case n's shared record: 12315 replied."""
    doc = {
        "update_id": update_id,
        "appeal_id": appeal(n)["appeal_id"],
        "status": "replied",
        "at": "2024-11-29T16:05:00+08:00",
        "text": REPLY,
        "unit": UNIT,
    }
    return doc | changes


async def record(client: Client, n: int = 1) -> str:
    answer = await client.post("/api/v1/shared-records", shared(n))
    assert answer.status == 201, answer.body
    return answer.body["record_no"]


async def kept(client: Client, record_no: str) -> dict:
    """The shared record as the control API shows it."""
    return next(r for r in await client.control("GET", "/_sim/shared-records") if r["record_no"] == record_no)


async def test_an_update_is_recorded_with_201_and_counted(platform):
    client = await platform()
    no = await record(client)
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", update())
    assert answer.status == 201
    assert answer.body == {"update_id": "u-1", "record_no": no, "status": "recorded", "update_count": 1}


async def test_the_update_is_kept_on_the_record_as_sent(platform):
    client = await platform()
    no = await record(client)
    await client.post(f"/api/v1/shared-records/{no}/updates", update())
    shown = await kept(client, no)
    [only] = shown["updates"]
    assert {k: v for k, v in only.items() if k != "received_at"} == update()
    assert only["received_at"].endswith("+08:00")
    assert shown["channel_status"] == "replied"


async def test_the_same_update_again_is_200_and_kept_once(platform):
    client = await platform()
    no = await record(client)
    first = await client.post(f"/api/v1/shared-records/{no}/updates", update())
    again = await client.post(f"/api/v1/shared-records/{no}/updates", update())
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert len((await kept(client, no))["updates"]) == 1


async def test_an_update_id_reused_with_another_body_is_a_409_naming_the_record(platform):
    client = await platform()
    no = await record(client)
    await client.post(f"/api/v1/shared-records/{no}/updates", update())
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", update(text="另一份答复"))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["record_no"]) == ("idempotency_conflict", no)
    assert [u["text"] for u in (await kept(client, no))["updates"]] == [REPLY]


async def test_an_update_id_reused_on_another_record_is_a_409_naming_the_first(platform):
    client = await platform()
    first, second = await record(client, 1), await record(client, 2)
    await client.post(f"/api/v1/shared-records/{first}/updates", update(1))
    answer = await client.post(f"/api/v1/shared-records/{second}/updates", update(2))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["record_no"]) == ("idempotency_conflict", first)


async def test_an_update_of_an_unknown_record_is_a_404(platform):
    answer = await (await platform()).post("/api/v1/shared-records/SR20990101999999/updates", update())
    assert answer.status == 404 and answer.body["error"] == "record_not_found"


async def test_an_update_naming_another_appeal_than_the_records_is_an_appeal_mismatch(platform):
    client = await platform()
    no = await record(client, 1)
    await record(client, 2)
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", update(2))
    assert answer.status == 409
    assert (answer.body["error"], answer.body["record_no"]) == ("appeal_mismatch", no)
    assert (await kept(client, no))["updates"] == []


@pytest.mark.parametrize("missing", ["text", "unit"])
@pytest.mark.parametrize("how", ["absent", "null"])
async def test_text_and_unit_may_be_absent_or_null(platform, missing, how):
    client = await platform()
    no = await record(client)
    doc = update(status="accepted")
    if how == "absent":
        del doc[missing]
    else:
        doc[missing] = None
    assert (await client.post(f"/api/v1/shared-records/{no}/updates", doc)).status == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "resolved"}, "status"),
        ({"at": "2024-11-29T16:05:00"}, "at"),
        ({"text": ""}, "text"),
        ({"unit": {"code": "SCJG-03"}}, "unit.name"),
        ({"unit": UNIT | {"leader": "张局长"}}, "unit.leader"),
        ({"update_id": "u" * 65}, "update_id"),
        ({"reply": REPLY}, "reply"),
    ],
)
async def test_a_malformed_update_is_refused_naming_the_field_and_nothing_is_kept(platform, changes, field):
    client = await platform()
    no = await record(client)
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", update(**changes))
    assert answer.status == 400
    assert (answer.body["error"], answer.body["field"]) == ("validation_failed", field)
    assert (await kept(client, no))["updates"] == []


async def test_an_update_without_a_status_is_refused_naming_it(platform):
    client = await platform()
    no = await record(client)
    doc = update()
    del doc["status"]
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", doc)
    assert answer.status == 400 and answer.body["field"] == "status"


async def test_the_record_takes_its_status_from_the_latest_update_by_time_not_by_arrival(platform):
    client = await platform()
    no = await record(client)
    await client.post(f"/api/v1/shared-records/{no}/updates", update(update_id="u-2"))
    late = update(update_id="u-1", status="dispatched", at="2024-11-25T14:20:00+08:00", text=None)
    answer = await client.post(f"/api/v1/shared-records/{no}/updates", late)
    assert answer.body["update_count"] == 2
    shown = await kept(client, no)
    assert [u["update_id"] for u in shown["updates"]] == ["u-2", "u-1"]  # in the order received
    assert shown["channel_status"] == "replied"


async def test_a_record_without_updates_has_no_channel_status(platform):
    client = await platform()
    no = await record(client)
    assert (await kept(client, no))["channel_status"] is None


async def test_updates_emit_no_events(platform):
    client = await platform()
    no = await record(client)
    for i, status in enumerate(["accepted", "dispatched", "replied", "closed"]):
        await client.post(f"/api/v1/shared-records/{no}/updates", update(update_id=f"u-{i}", status=status))
    feed = (await client.get("/api/v1/work-orders/events")).body
    assert feed["events"] == [] and await client.control("GET", "/_sim/work-orders") == []


async def test_an_update_signed_with_the_wrong_secret_is_refused_and_nothing_is_kept(platform):
    client = await platform()
    no = await record(client)
    wrong = Client(client.session, client.url, secret="not-the-secret-0123456789")
    answer = await wrong.post(f"/api/v1/shared-records/{no}/updates", update())
    assert answer.status == 401 and answer.body["error"] == "bad_signature"
    assert (await kept(client, no))["updates"] == []


async def test_an_update_is_logged_with_its_body_and_status(platform):
    client = await platform()
    no = await record(client)
    await client.post(f"/api/v1/shared-records/{no}/updates", update())
    logged = (await client.control("GET", "/_sim/requests"))[-1]
    assert (logged["method"], logged["path"], logged["status"]) == (
        "POST",
        f"/api/v1/shared-records/{no}/updates",
        201,
    )
    assert logged["body"] == update()
