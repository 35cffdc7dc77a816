"""Confidentiality on the wire: a whistle-blower's identity never reaches the 12345 platform (and through it the
unit reported on), nor the channels status and replies go back to; what they reported does."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.models import Appeal, Case, Delivery
from tests.sync.support import complaint, eventually, sync_world

NAME = "李建国"
PHONE = "13800138000"
ID_NUMBER = "11010519491231002X"
OPENID = "oWx1a2b3c4d5e6f7g8h9"
CREDIT_CODE = "91360702MA35L8XK01"
REPORTED = "滨江路一家化工厂每天夜里偷排污水，河水发黑发臭"


def report(source_id: str) -> dict[str, Any]:
    """A 举报 through the generic API channel: the reporter named in every field, and typed into the text."""
    return {
        "source_id": source_id,
        "type": "举报",
        "title": f"举报化工厂偷排污水（举报人{NAME}，138-0013-8000）",
        "content": (
            f"我叫{NAME}，身份证号 110105 19491231 002x，手机 +86 138 0013 8000。{REPORTED}。"
            f"请核实后回电0086-13800138000或{PHONE}，微信{OPENID}。"
        ),
        "citizen": {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "openid": OPENID},
        "enterprise": {"name": "赣州景蓉商贸有限公司", "credit_code": CREDIT_CODE},
        "location": {"address": "章贡区滨江路", "division_code": "360702"},
    }


def identity_in(doc: Any) -> list[str]:
    """Which of the reporter's identifiers a JSON document holds, in any spelling (gaps and case ignored)."""
    text = json.dumps(doc, ensure_ascii=False)
    squeezed = re.sub(r"[\s\-－—.·+]", "", text).upper()
    found = [NAME] if NAME in text else []
    found += [v for v in (PHONE, ID_NUMBER, OPENID.upper(), CREDIT_CODE) if v in squeezed]
    return found


async def work_order_of(w, appeal_id: uuid.UUID) -> dict[str, Any]:
    """The platform's work order for an appeal's case, once created."""

    async def created():
        case = await w.case_of(appeal_id)
        orders = {o["case_id"]: o for o in await w.sim("/_sim/work-orders")}
        return orders.get(str(case.id))

    return await eventually(created)


async def request_bodies(w) -> list[Any]:
    """Every body the platform received."""
    return [r["body"] for r in await w.sim("/_sim/requests") if r["body"] is not None]


async def test_no_request_to_the_platform_carries_the_reporters_identity(tmp_path, db_url):
    async with sync_world(tmp_path, db_url) as w:
        await work_order_of(w, await w.push(report("JB-1")))

        bodies = await request_bodies(w)
        assert bodies
        assert [identity_in(b) for b in bodies] == [[] for _ in bodies]


async def test_a_report_reaches_the_platform_with_neither_citizen_nor_enterprise(tmp_path, db_url):
    async with sync_world(tmp_path, db_url) as w:
        order = await work_order_of(w, await w.push(report("JB-2")))

        appeal = order["request"]["appeal"]
        assert appeal["type"] == "report" and appeal["confidential"] is True
        assert appeal["citizen"] is None
        assert appeal["enterprise"] is None


async def test_a_report_reaches_the_platform_with_what_was_reported(tmp_path, db_url):
    async with sync_world(tmp_path, db_url) as w:
        order = await work_order_of(w, await w.push(report("JB-3")))

        appeal = order["request"]["appeal"]
        assert appeal["title"].startswith("举报化工厂偷排污水")
        assert REPORTED in appeal["content"]
        assert appeal["location"]["address"] == "章贡区滨江路"


async def test_a_complaint_reaches_the_platform_with_the_citizen(tmp_path, db_url):
    async with sync_world(tmp_path, db_url) as w:
        order = await work_order_of(w, await w.push(complaint("TS-1", citizen={"name": NAME, "phone": PHONE})))

        appeal = order["request"]["appeal"]
        assert appeal["confidential"] is False
        assert appeal["citizen"] == {"name": NAME, "phone": f"+86{PHONE}", "id_number": None}
        assert identity_in(order["request"]) == [NAME, PHONE]


# -- the channel a report came from ----------------------------------------------------------------------------

BEIJING = ZoneInfo("Asia/Shanghai")


def report_12315(order_no: str) -> dict[str, Any]:
    """A 12315 举报 as the national platform serves it: the consumer named, and naming themself in the text."""
    now = datetime.now(BEIJING)
    return {
        "orderNo": order_no,
        "orderType": "2",
        "title": "举报超市销售假冒白酒",
        "content": f"本人{NAME}（电话138 0013 8000）在章贡区某超市买到假酒，请查处。本人要求对举报人信息保密。",
        "consumer": {"name": NAME, "mobile": PHONE, "idCard": ID_NUMBER},
        "goodsCategory": "酒类",
        "occurTime": f"{now - timedelta(days=2):%Y-%m-%d %H:%M:%S}",
        "createTime": f"{now - timedelta(hours=1):%Y-%m-%d %H:%M:%S}",
        "updateTime": f"{now:%Y-%m-%d %H:%M:%S}",
        "regionCode": "360702",
        "status": "10",
    }


async def test_status_and_replies_to_the_channel_of_a_report_carry_no_identity(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, national_mode="hotline_flow") as w:
        await w.sim("/_sim/orders/raw", "POST", base=w.national, json={"item": report_12315("SC-JB-1")})

        async def all_delivered():
            rows = await w.rows(
                select(Delivery).join(Appeal, Appeal.id == Delivery.appeal_id).where(Appeal.source_id == "SC-JB-1")
            )
            return rows if len(rows) == 5 and all(d.state == "delivered" for d in rows) else None

        deliveries = await eventually(all_delivered)
        [case] = await w.rows(select(Case).where(Case.id == deliveries[0].case_id))
        assert case.confidential
        events = [e for e in await w.sim("/_sim/events", base=w.national) if e["order_id"] == "SC-JB-1"]
        assert len(events) == 5 and any(e["kind"] == "reply" and e["text"] for e in events)
        assert [identity_in(e) for e in events] == [[] for _ in events]
        assert [identity_in(d.payload) for d in deliveries] == [[] for _ in deliveries]
        bodies = await request_bodies(w)
        assert [identity_in(b) for b in bodies] == [[] for _ in bodies]
