"""What the platform does with each request huiju sends: signatures, idempotency, validation, conflicts, errors."""

from __future__ import annotations

import pytest

from tests.simulators.hotline.support import APP_KEY, Client, appeal, case, dumps, sign

# -- signatures -------------------------------------------------------------------------------------------------


async def test_a_request_signed_with_the_wrong_secret_is_refused_and_nothing_happens(platform):
    client = await platform()
    wrong = Client(client.session, client.url, secret="not-the-secret-0123456789")
    answer = await wrong.post("/api/v1/work-orders", case(1))
    assert answer.status == 401
    assert answer.body["error"] == "bad_signature"
    assert await client.control("GET", "/_sim/work-orders") == []


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("X-App-Key", "someone-else", "unknown app key"),
        ("X-Sign-Method", "sm3", "sign method"),
        ("X-Timestamp", "1732497600000", "more than 300 s"),
        ("X-Nonce", "short", "nonce must be"),
    ],
)
async def test_a_request_with_a_bad_signature_header_is_refused(platform, header, value, reason):
    client = await platform()
    body = dumps(case(1))
    headers = sign("POST", "/api/v1/work-orders", {}, body) | {header: value, "Content-Type": "application/json"}
    async with client.session.post(client.url + "/api/v1/work-orders", data=body, headers=headers) as r:
        assert r.status == 401
        assert reason in (await r.json())["reason"]


async def test_a_replayed_request_is_refused(platform):
    client = await platform()
    body = dumps(case(1))
    headers = sign("POST", "/api/v1/work-orders", {}, body) | {"Content-Type": "application/json"}
    async with client.session.post(client.url + "/api/v1/work-orders", data=body, headers=headers) as r:
        assert r.status == 201
    async with client.session.post(client.url + "/api/v1/work-orders", data=body, headers=headers) as r:
        assert r.status == 401
        assert "nonce already used" in (await r.json())["reason"]


async def test_the_signature_covers_the_decoded_sorted_query(platform):
    client = await platform()
    answer = await client.get("/api/v1/work-orders/events", {"limit": "5", "after_seq": "0"})
    assert answer.status == 200


async def test_sm3_signatures_are_accepted_when_agreed(platform):
    client = await platform(sign_method="sm3")
    assert (await client.get("/api/v1/ping")).status == 200
    assert (await client.post("/api/v1/work-orders", case(1))).status == 201


async def test_ping_names_the_app_key_and_the_platform_clock(platform):
    answer = await (await platform()).get("/api/v1/ping")
    assert answer.status == 200
    assert answer.body["status"] == "ok" and answer.body["app_key"] == APP_KEY
    assert answer.body["server_time"].endswith("+08:00")


# -- creating work orders -----------------------------------------------------------------------------------------


async def test_create_answers_201_with_a_work_order_number(platform):
    answer = await (await platform()).post("/api/v1/work-orders", case(1))
    assert answer.status == 201
    assert answer.body["work_order_no"].startswith("WO")
    assert answer.body["case_id"] == case(1)["case_id"]
    assert answer.body["status"] == "created"


async def test_create_is_idempotent_by_case_id(platform):
    client = await platform()
    first = await client.post("/api/v1/work-orders", case(1))
    again = await client.post("/api/v1/work-orders", case(1))
    assert (first.status, again.status) == (201, 200)
    assert again.body["work_order_no"] == first.body["work_order_no"]
    assert len(await client.control("GET", "/_sim/work-orders")) == 1


async def test_the_same_request_with_keys_in_another_order_is_the_same_request(platform):
    client = await platform()
    first = await client.post("/api/v1/work-orders", case(1))
    reordered = dict(reversed(list(case(1).items())))
    again = await client.post("/api/v1/work-orders", reordered)
    assert again.status == 200 and again.body["work_order_no"] == first.body["work_order_no"]


async def test_reusing_a_case_id_with_a_different_body_is_a_409_naming_the_work_order(platform):
    client = await platform()
    first = await client.post("/api/v1/work-orders", case(1))
    other = case(1)
    other["appeal"]["title"] = "另一件事"
    answer = await client.post("/api/v1/work-orders", other)
    assert answer.status == 409
    assert answer.body["error"] == "idempotency_conflict"
    assert answer.body["work_order_no"] == first.body["work_order_no"]
    assert len(await client.control("GET", "/_sim/work-orders")) == 1


async def test_a_confidential_appeal_with_a_citizen_is_refused_naming_the_field(platform):
    answer = await (await platform()).post("/api/v1/work-orders", case(1, type="report", confidential=True))
    assert answer.status == 400
    assert answer.body["error"] == "validation_failed"
    assert answer.body["field"] == "appeal.citizen"


async def test_a_report_must_be_confidential(platform):
    answer = await (await platform()).post("/api/v1/work-orders", case(1, type="report", citizen=None))
    assert answer.status == 400 and answer.body["field"] == "appeal.confidential"


async def test_a_confidential_report_reaches_the_platform_without_any_identity(platform):
    client = await platform()
    report = case(1, type="report", confidential=True, citizen=None)
    assert (await client.post("/api/v1/work-orders", report)).status == 201
    [logged] = [r for r in await client.control("GET", "/_sim/requests") if r["path"] == "/api/v1/work-orders"]
    sent = logged["body"]["appeal"]
    assert sent["citizen"] is None
    for value in ("张三", "+8613800138000", "36070219800101001X"):
        assert value not in str(logged["body"])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "complaint_x"}, "appeal.type"),
        ({"time_tier": "3d"}, "appeal.time_tier"),
        ({"emergency": "911"}, "appeal.emergency"),
        ({"received_at": "2024-11-25 09:15:02"}, "appeal.received_at"),
        ({"mobile": "13800138000"}, "appeal.mobile"),
        ({"citizen": {"phone": "13800138000"}}, "appeal.citizen.phone"),
        ({"location": {"division_code": "3607"}}, "appeal.location.division_code"),
        ({"title": ""}, "appeal.title"),
    ],
)
async def test_a_malformed_appeal_is_refused_with_the_field_named(platform, changes, field):
    answer = await (await platform()).post("/api/v1/work-orders", case(1, **changes))
    assert answer.status == 400
    assert answer.body["field"] == field
    assert any(e["field"] == field for e in answer.body["errors"])


async def test_a_missing_case_id_is_named(platform):
    answer = await (await platform()).post("/api/v1/work-orders", {"appeal": appeal(1)})
    assert answer.status == 400 and answer.body["field"] == "case_id"


async def test_a_body_that_is_not_json_is_refused(platform):
    answer = await (await platform()).request("POST", "/api/v1/work-orders", raw=b"{not json")
    assert answer.status == 400 and answer.body["error"] == "invalid_json"


async def test_an_interconnect_appeal_is_not_a_work_order(platform):
    answer = await (await platform()).post("/api/v1/work-orders", case(1, mode="interconnect"))
    assert answer.status == 400
    assert answer.body["field"] == "appeal.mode"
    assert "/api/v1/shared-records" in answer.body["reason"]


async def test_a_body_of_another_content_type_is_refused(platform):
    answer = await (await platform()).request(
        "POST", "/api/v1/work-orders", case(1), headers={"Content-Type": "text/plain"}
    )
    assert answer.status == 415 and answer.body["error"] == "unsupported_media_type"


async def test_an_appeal_already_in_a_work_order_cannot_open_another(platform):
    client = await platform()
    first = await client.post("/api/v1/work-orders", case(1))
    other_case = case(1) | {"case_id": "another-case"}
    answer = await client.post("/api/v1/work-orders", other_case)
    assert answer.status == 409
    assert answer.body["error"] == "appeal_conflict"
    assert answer.body["work_order_no"] == first.body["work_order_no"]


# -- repeats ----------------------------------------------------------------------------------------------------


async def created(client: Client, n: int = 1) -> str:
    answer = await client.post("/api/v1/work-orders", case(n))
    assert answer.status == 201, answer.body
    return answer.body["work_order_no"]


def repeat(n: int, of_case: int = 1) -> dict:
    return {
        "case_id": case(of_case)["case_id"],
        "appeal": appeal(n, channel_id="wechat-oa", title="物业停车费的事还没人管"),
        "merged_at": "2024-11-26T08:02:11+08:00",
    }


async def test_a_repeat_is_attached_once_by_appeal_id(platform):
    client = await platform()
    no = await created(client)
    first = await client.post(f"/api/v1/work-orders/{no}/repeats", repeat(2))
    again = await client.post(f"/api/v1/work-orders/{no}/repeats", repeat(2))
    assert (first.status, again.status) == (201, 200)
    assert (
        first.body
        == again.body
        == {"work_order_no": no, "appeal_id": appeal(2)["appeal_id"], "status": "attached", "repeat_count": 1}
    )
    view = (await client.get(f"/api/v1/work-orders/{no}")).body
    assert [r["appeal_id"] for r in view["repeats"]] == [appeal(2)["appeal_id"]]


async def test_a_repeat_attached_again_with_a_different_body_is_a_409(platform):
    client = await platform()
    no = await created(client)
    await client.post(f"/api/v1/work-orders/{no}/repeats", repeat(2))
    changed = repeat(2) | {"merged_at": "2024-11-27T08:00:00+08:00"}
    answer = await client.post(f"/api/v1/work-orders/{no}/repeats", changed)
    assert answer.status == 409 and answer.body["error"] == "idempotency_conflict"


async def test_a_repeat_of_another_case_is_refused(platform):
    client = await platform()
    no = await created(client)
    answer = await client.post(f"/api/v1/work-orders/{no}/repeats", repeat(2, of_case=9))
    assert answer.status == 409 and answer.body["error"] == "case_mismatch"


async def test_an_appeal_attached_to_one_work_order_is_refused_by_another_until_detached(platform):
    client = await platform()
    first, second = await created(client, 1), await created(client, 2)
    await client.post(f"/api/v1/work-orders/{first}/repeats", repeat(3, of_case=1))
    refused = await client.post(f"/api/v1/work-orders/{second}/repeats", repeat(3, of_case=2))
    assert refused.status == 409
    assert (refused.body["error"], refused.body["work_order_no"]) == ("appeal_conflict", first)
    detached = await client.request(
        "DELETE",
        f"/api/v1/work-orders/{first}/repeats/{appeal(3)['appeal_id']}",
        query={"reason": "审核员撤销合并"},
    )
    assert detached.status == 200 and detached.body["status"] == "detached"
    moved = await client.post(f"/api/v1/work-orders/{second}/repeats", repeat(3, of_case=2))
    assert moved.status == 201


async def test_detaching_is_idempotent_and_an_unknown_repeat_is_a_404(platform):
    client = await platform()
    no = await created(client)
    await client.post(f"/api/v1/work-orders/{no}/repeats", repeat(2))
    path = f"/api/v1/work-orders/{no}/repeats/{appeal(2)['appeal_id']}"
    first, again = await client.request("DELETE", path), await client.request("DELETE", path)
    assert (first.status, again.status) == (200, 200)
    assert again.body["repeat_count"] == 0
    unknown = await client.request("DELETE", f"/api/v1/work-orders/{no}/repeats/never-attached")
    assert unknown.status == 404 and unknown.body["error"] == "repeat_not_found"


def merge(into: str, of_case: int = 2, merge_id: str = "M-1") -> dict:
    return {
        "merge_id": merge_id,
        "case_id": case(of_case)["case_id"],
        "into_work_order_no": into,
        "reason": "同一事项",
    }


async def test_a_merged_work_order_ends_and_its_appeals_become_repeats_of_the_other(platform):
    client = await platform()
    kept, merged = await created(client, 1), await created(client, 2)
    await client.post(f"/api/v1/work-orders/{merged}/repeats", repeat(3, of_case=2))
    first = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept))
    again = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept))
    assert (first.status, again.status) == (201, 200)
    assert first.body == {"work_order_no": merged, "into_work_order_no": kept, "status": "merged"}
    gone, view = (
        (await client.get(f"/api/v1/work-orders/{merged}")).body,
        (await client.get(f"/api/v1/work-orders/{kept}")).body,
    )
    assert (gone["status"], gone["merged_into"]) == ("merged", kept)
    assert [r["status"] for r in gone["repeats"]] == ["merged"]
    attached = [r["appeal_id"] for r in view["repeats"] if r["status"] == "attached"]
    assert attached == [appeal(2)["appeal_id"], appeal(3)["appeal_id"]]


async def test_a_merge_is_refused_when_it_cannot_apply(platform):
    client = await platform()
    kept, merged = await created(client, 1), await created(client, 2)
    unknown = await client.post(f"/api/v1/work-orders/{merged}/merge", merge("WO-none"))
    itself = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(merged))
    wrong_case = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept, of_case=1))
    assert (unknown.status, unknown.body["error"]) == (404, "work_order_not_found")
    assert (itself.status, itself.body["error"]) == (409, "merge_conflict")
    assert (wrong_case.status, wrong_case.body["error"]) == (409, "case_mismatch")
    await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept))
    twice = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept, merge_id="M-2"))
    other_body = await client.post(f"/api/v1/work-orders/{merged}/merge", merge(kept) | {"reason": "另一个理由"})
    assert (twice.status, twice.body["error"]) == (409, "merge_conflict")
    assert (other_body.status, other_body.body["error"]) == (409, "idempotency_conflict")


async def test_the_first_appeal_cannot_be_its_own_repeat(platform):
    client = await platform()
    no = await created(client)
    answer = await client.post(
        f"/api/v1/work-orders/{no}/repeats", {"case_id": case(1)["case_id"], "appeal": appeal(1)}
    )
    assert answer.status == 409 and answer.body["error"] == "appeal_conflict"


async def test_requests_about_an_unknown_work_order_are_404(platform):
    client = await platform()
    for answer in (
        await client.get("/api/v1/work-orders/WO20990101999999"),
        await client.post("/api/v1/work-orders/WO20990101999999/repeats", repeat(2)),
        await client.post("/api/v1/work-orders/WO20990101999999/flags", supervision("f1")),
    ):
        assert answer.status == 404 and answer.body["error"] == "work_order_not_found"


# -- shared records ---------------------------------------------------------------------------------------------


def shared(n: int, **extra) -> dict:
    return {
        "case_id": case(n)["case_id"],
        "appeal": appeal(n, mode="interconnect", channel_id="gz-12315", source_id=f"SC2024112536070200{n:05d}"),
    } | extra


async def test_a_shared_record_is_kept_once_by_appeal_id(platform):
    client = await platform()
    first = await client.post("/api/v1/shared-records", shared(5))
    again = await client.post("/api/v1/shared-records", shared(5))
    assert (first.status, again.status) == (201, 200)
    assert first.body == again.body
    assert first.body["status"] == "shared" and first.body["record_no"].startswith("SR")
    assert await client.control("GET", "/_sim/work-orders") == []  # shared, not dispatched


async def test_a_shared_record_with_a_different_body_is_a_409(platform):
    client = await platform()
    await client.post("/api/v1/shared-records", shared(5))
    changed = shared(5)
    changed["appeal"]["content"] = "改过的内容"
    answer = await client.post("/api/v1/shared-records", changed)
    assert answer.status == 409 and answer.body["error"] == "idempotency_conflict"


async def test_only_interconnect_records_with_their_own_number_are_shared(platform):
    client = await platform()
    hotline = await client.post("/api/v1/shared-records", {"case_id": "c", "appeal": appeal(5)})
    assert hotline.status == 400 and hotline.body["field"] == "appeal.mode"
    without_number = shared(5)
    without_number["appeal"]["source_id"] = None
    answer = await client.post("/api/v1/shared-records", without_number)
    assert answer.status == 400 and answer.body["field"] == "appeal.source_id"


async def test_a_shared_record_may_name_the_work_order_it_repeats_which_must_exist(platform):
    client = await platform()
    no = await created(client)
    assert (await client.post("/api/v1/shared-records", shared(5, work_order_no=no))).status == 201
    unknown = await client.post("/api/v1/shared-records", shared(6, work_order_no="WO20990101999999"))
    assert unknown.status == 404


# -- flags ------------------------------------------------------------------------------------------------------


def supervision(flag_id: str, reason: str = "repeatedly_urged") -> dict:
    return {"flag_id": flag_id, "kind": "supervision", "reason": reason, "raised_at": "2024-11-28T16:40:00+08:00"}


async def test_a_flag_is_raised_once_by_flag_id(platform):
    client = await platform()
    no = await created(client)
    first = await client.post(f"/api/v1/work-orders/{no}/flags", supervision("f1"))
    again = await client.post(f"/api/v1/work-orders/{no}/flags", supervision("f1"))
    assert (first.status, again.status) == (201, 200)
    assert first.body == {"flag_id": "f1", "work_order_no": no, "kind": "supervision", "status": "raised"}
    view = (await client.get(f"/api/v1/work-orders/{no}")).body
    assert [(f["flag_id"], f["reason"]) for f in view["flags"]] == [("f1", "repeatedly_urged")]


async def test_a_flag_id_reused_differently_is_a_409(platform):
    client = await platform()
    no, other = await created(client, 1), await created(client, 2)
    await client.post(f"/api/v1/work-orders/{no}/flags", supervision("f1"))
    changed = await client.post(f"/api/v1/work-orders/{no}/flags", supervision("f1", "overdue"))
    elsewhere = await client.post(f"/api/v1/work-orders/{other}/flags", supervision("f1"))
    assert (changed.status, elsewhere.status) == (409, 409)


@pytest.mark.parametrize(
    ("flag", "field"),
    [
        ({"flag_id": "f", "kind": "supervision", "raised_at": "2024-11-28T16:40:00+08:00"}, "reason"),
        (
            {"flag_id": "f", "kind": "supervision", "reason": "late", "raised_at": "2024-11-28T16:40:00+08:00"},
            "reason",
        ),
        ({"flag_id": "f", "kind": "group_appeal", "raised_at": "2024-11-28T16:40:00+08:00"}, "cluster_id"),
    ],
)
async def test_a_flag_carries_what_its_kind_needs(platform, flag, field):
    client = await platform()
    no = await created(client)
    answer = await client.post(f"/api/v1/work-orders/{no}/flags", flag)
    assert answer.status == 400 and answer.body["field"] == field


async def test_a_group_appeal_names_its_cluster(platform):
    client = await platform()
    no, other = await created(client, 1), await created(client, 2)
    flag = {
        "flag_id": "g1",
        "kind": "group_appeal",
        "cluster_id": "cluster-7",
        "related_work_order_nos": [other],
        "raised_at": "2024-11-26T11:05:00+08:00",
    }
    assert (await client.post(f"/api/v1/work-orders/{no}/flags", flag)).status == 201


# -- failures the platform reports ----------------------------------------------------------------------------


async def test_an_outage_is_503_with_retry_after(platform):
    client = await platform(outage=True)
    answer = await client.post("/api/v1/work-orders", case(1))
    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    assert answer.body["error"] == "unavailable"


async def test_injected_429s_carry_retry_after_and_a_retry_signed_anew_goes_through(platform):
    client = await platform(error_rate=1.0, error_statuses=[429])
    refused = await client.post("/api/v1/work-orders", case(1))
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    assert refused.body["error"] == "rate_limited"
    await client.control("PUT", "/_sim/knobs", {"error_rate": 0})
    assert (await client.post("/api/v1/work-orders", case(1))).status == 201


async def test_reject_auth_refuses_even_a_good_signature(platform):
    answer = await (await platform(reject_auth=True)).get("/api/v1/ping")
    assert answer.status == 401 and answer.body["error"] == "bad_signature"


async def test_an_unknown_path_answers_in_the_error_envelope(platform):
    answer = await (await platform()).get("/api/v1/nothing-here")
    assert answer.status == 404 and answer.body["error"] == "not_found"


async def test_every_request_is_logged_with_its_body_and_status(platform):
    client = await platform()
    await client.post("/api/v1/work-orders", case(1))
    wrong = Client(client.session, client.url, secret="not-the-secret-0123456789")
    await wrong.post("/api/v1/work-orders", case(2))
    logged = await client.control("GET", "/_sim/requests")
    assert [(r["method"], r["path"], r["status"]) for r in logged] == [
        ("POST", "/api/v1/work-orders", 201),
        ("POST", "/api/v1/work-orders", 401),
    ]
    assert logged[0]["body"] == case(1)
    assert logged[0]["headers"]["X-App-Key"] == APP_KEY
