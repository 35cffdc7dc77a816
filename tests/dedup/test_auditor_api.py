"""Auditors correct the matcher through /audit/v1, end to end against the 12345 platform simulator: an unmerged
appeal gets a work order of its own once the platform has detached it, two cases merged by hand become one
work order, two appeals marked "not the same matter" are parted for good; each action is a merge-log entry."""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy import select

from core.models import Appeal, Case, CaseEvent, MergeEntry
from tests.sync.support import ADMIN_TOKEN, AUDITOR_TOKEN, complaint, eventually, sync_world

OTHER_CITIZEN = {"name": "李四", "phone": "13900139000"}


async def _orders(w) -> dict[str, dict]:
    return {o["case_id"]: o for o in await w.sim("/_sim/work-orders")}


async def _entries(w, appeal_id: uuid.UUID) -> list:
    return await w.rows(select(MergeEntry).where(MergeEntry.appeal_id == appeal_id).order_by(MergeEntry.id))


async def test_an_unmerged_appeal_is_detached_at_the_platform_then_gets_a_work_order_of_its_own(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        first = await w.push(complaint("M-1#a"))
        repeat = await w.push(complaint("M-1#b", citizen=OTHER_CITIZEN))
        case = await w.case_of(first)
        assert (await w.case_of(repeat)).id == case.id

        status, done = await w.call(
            "POST", f"/audit/v1/appeals/{repeat}/unmerge", AUDITOR_TOKEN, json={"reason": "另一位市民的另一件事"}
        )

        assert status == 200, done
        assert done["from_case"] == str(case.id) and done["detached"] is True
        own = await w.case_of(repeat)
        assert str(own.id) == done["case_id"] != str(case.id) and own.appeal_count == 1
        assert (await w.case_of(first)).appeal_count == 1

        async def settled():
            orders = await _orders(w)
            if done["case_id"] not in orders:
                return None
            detached = [r["appeal_id"] for r in orders[str(case.id)]["repeats"] if r["status"] == "detached"]
            return orders if detached == [str(repeat)] else None

        orders = await eventually(settled)
        assert orders[done["case_id"]]["appeal_id"] == str(repeat)
        *_, entry = await _entries(w, repeat)
        assert (entry.decision, entry.actor, entry.rule) == ("unmerge", "token:inspector", "auditor")
        assert entry.case_id == own.id and entry.evidence["from_case"] == str(case.id)
        assert entry.evidence["reason"] == "另一位市民的另一件事"
        lines = await w.rows(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id, CaseEvent.source == "auditor")
        )
        assert [k for (k,) in lines] == ["appeal_unmerged"]


async def test_the_appeal_a_case_was_opened_with_cannot_be_unmerged(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        first = await w.push(complaint("M-1#a"))
        await w.push(complaint("M-1#b"))

        status, body = await w.call(
            "POST", f"/audit/v1/appeals/{first}/unmerge", AUDITOR_TOKEN, json={"reason": "试一下"}
        )

        assert status == 409 and "opened case" in body["reason"]
        assert [e.decision for e in await _entries(w, first)] == ["new"]


async def test_two_cases_merged_by_hand_become_one_work_order_at_the_platform(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        kept = await w.push(complaint("K-1"))
        merged = await w.push(complaint("G-1", citizen=OTHER_CITIZEN, title="景蓉华苑停车费"))
        into, away = await w.case_of(kept), await w.case_of(merged)

        status, done = await w.call(
            "POST",
            f"/audit/v1/cases/{away.id}/merge",
            AUDITOR_TOKEN,
            json={"into": str(into.id), "reason": "同一事项"},
        )

        assert status == 200, done
        assert done["appeals"] == [str(merged)] and done["case_id"] == str(into.id)
        away = (await w.rows(select(Case).where(Case.id == away.id)))[0]
        assert (away.status, away.merged_into, away.appeal_count) == ("merged", into.id, 0)
        assert (await w.case_of(merged)).id == into.id and (await w.case_of(kept)).appeal_count == 2

        async def merged_at_platform():
            orders = await _orders(w)
            old = orders.get(str(away.id))
            return orders if old and old["merged_into"] else None

        orders = await eventually(merged_at_platform)
        assert orders[str(away.id)]["merged_into"] == orders[str(into.id)]["work_order_no"]
        assert orders[str(away.id)]["status"] == "merged"
        attached = [r["appeal_id"] for r in orders[str(into.id)]["repeats"] if r["status"] == "attached"]
        assert attached == [str(merged)]
        [*_, entry] = await _entries(w, merged)
        assert (entry.decision, entry.case_id, entry.evidence["from_case"]) == (
            "manual_merge",
            into.id,
            str(away.id),
        )


async def test_appeals_marked_not_the_same_matter_are_parted_and_their_cases_cannot_be_merged(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        first = await w.push(complaint("M-1#a"))
        later = await w.push(complaint("M-1#b"))

        status, done = await w.call(
            "POST",
            "/audit/v1/distinct",
            AUDITOR_TOKEN,
            json={"appeals": [str(first), str(later)], "reason": "两件事"},
        )

        assert status == 200, done
        assert done["marked"] and done["unmerged"]["appeal_id"] == str(later)
        a, b = await w.case_of(first), await w.case_of(later)
        assert a.id != b.id
        assert [e.decision for e in await _entries(w, first)] == ["new", "distinct"]
        assert [e.decision for e in await _entries(w, later)] == ["merge", "unmerge"]

        status, body = await w.call(
            "POST", f"/audit/v1/cases/{b.id}/merge", AUDITOR_TOKEN, json={"into": str(a.id), "reason": "还是合并"}
        )
        assert status == 409 and "not the same matter" in body["reason"]

        again, body = await w.call(
            "POST",
            "/audit/v1/distinct",
            AUDITOR_TOKEN,
            json={"appeals": [str(later), str(first)], "reason": "再标"},
        )
        assert again == 200 and body["marked"] is False  # marked once; the log does not grow


async def test_the_auditor_api_needs_an_auditor_token_and_answers_bad_requests_in_json(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        appeal = await w.push(complaint("M-1#a"))
        async with w.http.get(f"{w.gateway}/audit/v1/log") as r:
            assert r.status == 401 and (await r.json())["error"] == "unauthorized"
        status, body = await w.call("GET", "/audit/v1/log", ADMIN_TOKEN)
        assert status == 403 and "auditor" in body["reason"]
        status, body = await w.call("POST", f"/audit/v1/appeals/{appeal}/unmerge", AUDITOR_TOKEN, json={})
        assert status == 400 and "reason" in body["reason"]
        status, body = await w.call(
            "POST", f"/audit/v1/appeals/{uuid.uuid4()}/unmerge", AUDITOR_TOKEN, json={"reason": "x"}
        )
        assert status == 404
        status, body = await w.call(
            "POST", "/audit/v1/distinct", AUDITOR_TOKEN, json={"appeals": ["x"], "reason": "x"}
        )
        assert status == 400


async def test_auditors_read_the_log_masked_and_verify_its_chain_over_http(tmp_path, db_url):
    async with sync_world(tmp_path, db_url, merge=True) as w:
        first = await w.push(
            complaint("M-1#a", content="请联系13800138000，身份证360702199001011234，停车费300元")
        )
        await w.push(complaint("M-1#b"))
        case = await w.case_of(first)

        status, body = await w.call("GET", f"/audit/v1/log?case_id={case.id}", AUDITOR_TOKEN)
        assert status == 200 and [e["decision"] for e in body["entries"]] == ["new", "merge"]
        async with w.http.get(
            f"{w.gateway}/audit/v1/log?format=csv", headers={"Authorization": f"Bearer {AUDITOR_TOKEN}"}
        ) as r:
            text = await r.text()
        assert r.status == 200 and r.content_type == "text/csv"
        assert [row["decision"] for row in csv.DictReader(io.StringIO(text))] == ["new", "merge"]
        assert "13800138000" not in text

        status, body = await w.call("GET", "/audit/v1/log?limit=-5", AUDITOR_TOKEN)
        assert status == 200 and len(body["entries"]) == 1  # below 1 counts as 1
        status, body = await w.call("GET", "/audit/v1/log?limit=many", AUDITOR_TOKEN)
        assert status == 400
        status, body = await w.call("GET", "/audit/v1/log/verify", AUDITOR_TOKEN)
        assert status == 200 and body == {"entries": 2, "intact": True, "problems": []}
        appeals = await w.rows(select(Appeal.id).where(Appeal.case_id == case.id))
        assert len(appeals) == 2


async def test_a_group_appeal_reaches_the_platform_as_a_flag_on_each_work_order(tmp_path, db_url):
    dedup = "\n[dedup]\nenabled = true\ngroup_citizens = 2\n"
    async with sync_world(tmp_path, db_url, extra_config=dedup) as w:
        first = await w.push(complaint("G-1"))
        second = await w.push(complaint("G-2", citizen=OTHER_CITIZEN))
        a, b = await w.case_of(first), await w.case_of(second)
        assert a.id != b.id and a.cluster_id == b.cluster_id is not None

        async def flagged():
            orders = await _orders(w)
            flags = {c: [f["kind"] for f in o["flags"]] for c, o in orders.items()}
            return flags if flags.get(str(a.id)) and flags.get(str(b.id)) else None

        flags = await eventually(flagged)
        assert flags == {str(a.id): ["group_appeal"], str(b.id): ["group_appeal"]}
        status, body = await w.call("GET", "/audit/v1/clusters?sort=growth", AUDITOR_TOKEN)
        assert status == 200
        [hot] = body["clusters"]
        assert (hot["cluster_id"], hot["people"], hot["group_appeal"]) == (str(a.cluster_id), 2, True)
