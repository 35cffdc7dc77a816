"""normalize(): what makes a draft unusable, what is only doubtful, and what is derived."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from normalizer import DEFAULT_RULES, NormalizationError, NormalizeContext, normalize, rules_from_dicts
from normalizer.record import (
    AppealDraft,
    AppealType,
    Attachment,
    EmergencyService,
    Enterprise,
    IntegrationMode,
    TimeTier,
)
from tests.normalizer.support import CTX, NOW, RECEIVED_AT, VALID_CREDIT_CODE, VALID_ID, draft


def run(**fields):
    return normalize(draft(**fields), CTX, now=NOW)


def rejection(**fields) -> NormalizationError:
    with pytest.raises(NormalizationError) as e:
        normalize(draft(**fields), CTX, now=NOW)
    return e.value


# -- unusable drafts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_a_draft_without_a_source_id_is_rejected(missing):
    assert rejection(source_id=missing).field == "source_id"


@pytest.mark.parametrize("wrong", [True, 1.5, ["M-1"], {"id": 1}, b"M-1"])
def test_a_source_id_that_is_neither_text_nor_an_integer_is_rejected(wrong):
    assert rejection(source_id=wrong).field == "source_id"


def test_an_integer_source_id_becomes_text():
    assert run(source_id=100026).source_id == "100026"


def test_a_source_id_is_stripped():
    assert run(source_id="  M-1 ").source_id == "M-1"


def test_a_source_id_longer_than_128_characters_is_rejected():
    assert rejection(source_id="x" * 129).reason == "longer than 128 characters"


def test_a_draft_without_any_text_is_rejected():
    error = rejection(title="  ", content="\n\t\t")
    assert str(error) == "content: no title and no content"


@pytest.mark.parametrize("field", ["title", "content"])
def test_a_title_or_content_that_is_not_text_is_rejected(field):
    assert rejection(**{field: 42}).field == field


def test_content_over_100000_characters_is_rejected():
    assert rejection(content="字" * 100_001).field == "content"


def test_content_of_exactly_100000_characters_is_accepted():
    assert len(run(content="字" * 100_000).content) == 100_000


@pytest.mark.parametrize(
    ("attachments", "field"),
    [
        ("http://example.com/a.jpg", "attachments"),
        ({"url": "http://example.com/a.jpg"}, "attachments"),
        (["http://example.com/a.jpg"], "attachments[0]"),
        ([{"media_type": "image/jpeg"}], "attachments[0]"),
        ([{"url": "  "}], "attachments[0]"),
        ([{"url": "\x00"}], "attachments[0]"),
    ],
)
def test_attachments_must_be_a_list_of_objects_with_a_url(attachments, field):
    assert rejection(attachments=attachments).field == field


@pytest.mark.parametrize("extra", [[1, 2], "amount=5", 7])
def test_extra_must_be_an_object(extra):
    assert rejection(extra=extra).field == "extra"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"amount": math.nan}, "extra.amount"),
        ({"plates": {"沪A1", "沪B2"}}, "extra.plates"),
        ({1: "one"}, "extra"),
        ({"n": 2**70}, "extra.n"),
    ],
)
def test_extra_must_hold_only_json_data(extra, field):
    assert rejection(extra=extra).field == field


def test_extra_nested_too_deep_is_rejected():
    nested: dict = {}
    for _ in range(40):
        nested = {"a": nested}
    assert "nested deeper" in rejection(extra=nested).reason


def test_the_draft_must_be_an_appeal_draft():
    with pytest.raises(NormalizationError, match=r"^draft: expected an AppealDraft"):
        normalize({"source_id": "1", "content": "x"}, CTX, now=NOW)


def test_warnings_and_sources_from_the_connector_must_be_strings():
    assert rejection(warnings=[1]).field == "warnings"
    assert rejection(sources={"phone": 1}).field == "sources"


def test_a_normalization_error_reads_field_colon_reason():
    error = rejection(source_id=None)
    assert (error.field, error.reason, str(error)) == ("source_id", "missing", "source_id: missing")
    assert isinstance(error, ValueError)


# -- doubtful optional fields: dropped with a warning --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path", "dropped"),
    [
        ({"phone": "12345"}, "citizen.phone", lambda r: r.citizen.phone),
        ({"id_number": "110105194912310021"}, "citizen.id_number", lambda r: r.citizen.id_number),
        ({"credit_code": "91350100M000100Y44"}, "enterprise.credit_code", lambda r: r.enterprise),
        ({"division_code": "990101"}, "location.division_code", lambda r: r.location.division_code),
        ({"lat": "95", "lon": "116.4"}, "location.lat", lambda r: r.location.lat),
        ({"occurred_at": "去年夏天"}, "occurred_at", lambda r: r.occurred_at),
        ({"citizen_name": ["张", "三"]}, "citizen.name", lambda r: r.citizen.name),
        ({"openid": "o" * 65}, "citizen.openid", lambda r: r.citizen.openid),
    ],
)
def test_a_doubtful_optional_value_is_dropped_with_a_warning(fields, path, dropped):
    record = run(**fields)
    assert dropped(record) is None
    assert any(w.startswith(f"{path}: ") for w in record.warnings), record.warnings


def test_a_warning_about_personal_data_does_not_repeat_the_value():
    record = run(phone="1381234567", id_number="110105194912310021")
    assert not any("1381234567" in w or "110105194912310021" in w for w in record.warnings)


def test_a_bad_id_check_digit_is_reported_as_such():
    assert run(id_number="110105194912310021").warnings == ("citizen.id_number: bad check digit; dropped",)


def test_an_occurred_at_more_than_a_day_in_the_future_is_dropped_with_a_warning():
    record = run(occurred_at=(NOW + timedelta(days=2)).isoformat())
    assert record.occurred_at is None
    assert record.warnings == ("occurred_at: more than a day in the future; dropped",)


def test_one_coordinate_without_the_other_is_dropped():
    record = run(lat=25.88)
    assert (record.location.lat, record.location.lon) == (None, None)
    assert "location: one coordinate without the other; dropped" in record.warnings


def test_zero_zero_coordinates_are_a_placeholder_and_dropped():
    record = run(lat=0, lon="0")
    assert (record.location.lat, record.location.lon) == (None, None)
    assert record.warnings == ("location: 0,0 is a placeholder, not a place; dropped",)


def test_valid_values_are_normalized_without_warnings():
    record = run(
        phone="0086 138-1234-5678",
        id_number=VALID_ID.lower(),
        division_code=360781,
        lat="25.885",
        lon=116.027,
        occurred_at="2019/2/28 11:25:05",
    )
    assert record.citizen.phone == "+8613812345678"
    assert record.citizen.id_number == VALID_ID
    assert record.location.division_code == "360781"
    assert (record.location.lat, record.location.lon) == (25.885, 116.027)
    assert record.occurred_at == datetime(2019, 2, 28, 3, 25, 5, tzinfo=UTC)
    assert record.warnings == ()


# -- appeal type ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("咨询", AppealType.CONSULTATION),
        ("求助", AppealType.HELP),
        ("需求", AppealType.HELP),
        ("求决", AppealType.HELP),
        ("投诉", AppealType.COMPLAINT),
        ("反映", AppealType.COMPLAINT),
        ("举报", AppealType.REPORT),
        ("投诉举报", AppealType.REPORT),
        ("建议", AppealType.SUGGESTION),
        ("意见建议", AppealType.SUGGESTION),
        ("表扬", AppealType.PRAISE),
        ("其他", AppealType.OTHER),
        ("投诉类", AppealType.COMPLAINT),
        (" 投訴 ", AppealType.COMPLAINT),
        ("Complaint", AppealType.COMPLAINT),
        ("REPORT", AppealType.REPORT),
        ("consultation", AppealType.CONSULTATION),
        (AppealType.PRAISE, AppealType.PRAISE),
    ],
)
def test_chinese_labels_and_english_codes_give_the_appeal_type(label, kind):
    record = run(type=label)
    assert (record.type, record.warnings) == (kind, ())


@pytest.mark.parametrize("unknown", ["催办", 3, ["投诉"]])
def test_an_unknown_type_is_other_with_a_warning(unknown):
    record = run(type=unknown)
    assert record.type is AppealType.OTHER
    assert record.warnings[0].startswith("type: unknown type")


@pytest.mark.parametrize("missing", [None, "", " "])
def test_a_missing_type_is_other_without_a_warning(missing):
    record = run(type=missing)
    assert (record.type, record.warnings, record.sources["type"]) == (AppealType.OTHER, (), "derived:default")


# -- title and content ---------------------------------------------------------------------------------------


def test_a_missing_title_is_derived_from_the_start_of_the_content():
    content = "\n\t\t小区东门的路灯坏了一个多月了，晚上出行非常不便，老人孩子经常摔倒，请尽快维修。"
    record = run(title=None, content=content)
    assert record.title == "小区东门的路灯坏了一个多月了，晚上出行非常不便，老人孩子经常…"
    assert len(record.title) == 31
    assert record.sources["title"] == "derived:content"


def test_a_short_content_becomes_the_whole_derived_title():
    assert run(title="", content="路灯坏了").title == "路灯坏了"


def test_a_missing_content_is_the_title():
    record = run(title="路灯坏了", content=None)
    assert (record.content, record.sources["content"]) == ("路灯坏了", "derived:title")


def test_stored_text_is_stripped_but_otherwise_verbatim():
    record = run(title="  停電　通知  ", content="\n\t\t\t第一行\r\n\t第二行\n\t\t")
    assert (record.title, record.content) == ("停電　通知", "第一行\n\t第二行")


def test_match_texts_are_folded():
    record = run(title="停電　通知", content="ＡＢＣ\n\t\t頭髮")
    assert (record.match.title, record.match.content) == ("停电 通知", "abc 头发")


def test_empty_optional_strings_become_none():
    record = run(citizen_name="  ", address="", township="\t", category="")
    assert (record.citizen.name, record.location.address, record.location.township, record.category) == (
        None,
        None,
        None,
        None,
    )


def test_an_integer_user_id_becomes_text():
    assert run(user_id=74011).citizen.user_id == "74011"


# -- confidentiality -----------------------------------------------------------------------------------------


def test_a_report_is_confidential_by_default():
    assert run(type="举报").confidential is True


def test_a_report_is_confidential_even_when_the_channel_says_otherwise():
    record = run(type="举报", confidential=False)
    assert (record.confidential, record.sources["confidential"]) == (True, "derived:type")


def test_other_appeals_are_not_confidential_by_default():
    assert run(type="投诉").confidential is False


@pytest.mark.parametrize("yes", [True, "true", "1", 1, "是", " TRUE "])
def test_an_explicit_confidential_flag_is_respected(yes):
    assert run(type="投诉", confidential=yes).confidential is True


def test_an_unreadable_confidential_flag_falls_back_to_the_default_with_a_warning():
    record = run(type="投诉", confidential="maybe")
    assert record.confidential is False
    assert record.warnings == ("confidential: not a yes/no value 'maybe'; default used",)


# -- enterprise ----------------------------------------------------------------------------------------------


def test_a_valid_credit_code_makes_an_enterprise_appeal():
    record = run(credit_code=VALID_CREDIT_CODE.lower())
    assert record.enterprise == Enterprise(name=None, credit_code=VALID_CREDIT_CODE)
    assert record.sources["enterprise"] == "derived:credit_code"


def test_an_enterprise_name_makes_an_enterprise_appeal():
    assert run(enterprise_name="瑞金市某某食品有限公司").enterprise == Enterprise(name="瑞金市某某食品有限公司")


def test_the_enterprise_flag_alone_makes_an_enterprise_appeal():
    assert run(enterprise="true").enterprise == Enterprise()


def test_without_flag_name_or_valid_code_there_is_no_enterprise():
    record = run(enterprise=False, credit_code="91350100M000100Y44")
    assert record.enterprise is None
    assert record.warnings == ("enterprise.credit_code: bad check character; dropped",)


# -- time tier and emergency ---------------------------------------------------------------------------------


def test_the_tier_comes_from_the_rules_with_a_reason_naming_rule_and_keyword():
    record = run(title="小区停水", content="从昨天开始停水，至今没有恢复")
    assert (record.time_tier, record.tier_reason) == (TimeTier.H24, "rule utilities: keyword 停水")
    assert record.sources["time_tier"] == "rule:utilities"
    assert "emergency" not in record.sources


def test_an_emergency_is_flagged_with_its_service_and_rule():
    record = run(content="隔壁仓库着火了，火势很大")
    assert (record.time_tier, record.emergency) == (TimeTier.H2, EmergencyService.FIRE)
    assert record.sources["emergency"] == "rule:emergency-fire"


def test_the_categories_take_part_in_the_tier():
    assert run(content="想了解收费标准", channel_category="供水服务").time_tier is TimeTier.H24


def test_an_ordinary_matter_is_attributed_to_the_default_rule():
    record = run()
    assert (record.time_tier, record.sources["time_tier"]) == (TimeTier.D7, "rule:default")


def test_other_rules_can_be_passed_in():
    rules = rules_from_dicts([{"name": "lights", "tier": "24h", "keywords": ["路灯"]}])
    assert normalize(draft(), CTX, rules, now=NOW).tier_reason == "rule lights: keyword 路灯"


# -- times, context, sources, warnings -----------------------------------------------------------------------


def test_received_at_comes_from_the_context_in_utc():
    beijing = timezone(timedelta(hours=8))
    ctx = dataclasses.replace(CTX, received_at=datetime(2024, 6, 1, 17, 30, tzinfo=beijing))
    record = normalize(draft(), ctx, now=NOW)
    assert record.received_at == RECEIVED_AT
    assert record.received_at.tzinfo is UTC


def test_the_context_fills_id_channel_mode_and_raw_reference():
    record = run()
    assert (record.id, record.channel_id, record.mode, record.raw_ref) == (
        CTX.appeal_id,
        "board",
        IntegrationMode.INTERCONNECT,
        "raw-1",
    )


def test_a_context_with_a_naive_received_at_cannot_be_built():
    with pytest.raises(ValueError, match="aware"):
        NormalizeContext("a", "board", IntegrationMode.MERGED, datetime(2024, 6, 1), "raw")


def test_each_kept_field_says_where_it_came_from():
    record = run(phone="13812345678", sources={"phone": "payload.mobile"})
    assert record.sources == {
        "source_id": "payload.source_id",
        "title": "derived:content",
        "content": "payload.content",
        "type": "derived:default",
        "phone": "payload.mobile",
        "confidential": "derived:type",
        "time_tier": "rule:default",
    }


def test_a_rule_source_from_the_draft_is_ignored_because_rules_are_recomputed():
    record = run(category="供水", sources={"category": "rule:category-map", "time_tier": "rule:old"})
    assert record.sources["category"] == "payload.category"
    assert record.sources["time_tier"] == "rule:utilities"


def test_the_connectors_warnings_are_kept_first_and_not_repeated():
    repeated = ["payload.foo: unknown field ignored", "payload.foo: unknown field ignored"]
    record = run(warnings=repeated, phone="12345")
    assert record.warnings == ("payload.foo: unknown field ignored", "citizen.phone: not a valid number; dropped")


def test_attachments_are_normalized():
    digest = "AB" * 32
    given = {"url": " https://x.cn/a.jpg ", "media_type": "Image/JPEG", "size": "2048", "sha256": digest}
    record = run(attachments=[given])
    assert record.attachments == (Attachment("https://x.cn/a.jpg", "image/jpeg", 2048, digest.lower()),)
    assert record.sources["attachments"] == "payload.attachments"


def test_doubtful_attachment_details_are_dropped_with_warnings():
    record = run(attachments=[{"url": "https://x.cn/a.jpg", "size": -1, "sha256": "abc", "caption": "照片"}])
    assert record.attachments == (Attachment("https://x.cn/a.jpg"),)
    assert record.warnings == (
        "attachments[0]: ignored caption",
        "attachments[0].size: not a byte count; dropped",
        "attachments[0].sha256: not a SHA-256 hex digest; dropped",
    )


def test_extra_is_copied_not_shared():
    extra = {"plate": "赣B12345", "amounts": [1, 2.5]}
    record = run(extra=extra)
    extra["amounts"].append(3)
    assert record.extra == {"plate": "赣B12345", "amounts": [1, 2.5]}


# -- idempotence ---------------------------------------------------------------------------------------------


def test_normalizing_the_draft_of_a_record_gives_the_same_record():
    record = run(
        title=None,
        content="\n\t\t小区停水三天了，物业说是水管爆裂，但一直没人来修。",
        type="举报",
        confidential=False,
        phone="138 1234 5678",
        id_number="110105194912310021",
        credit_code=VALID_CREDIT_CODE,
        lat=25.88,
        occurred_at="2019年2月28日 11:25",
        attachments=[{"url": "https://x.cn/a.jpg", "size": "10", "note": 1}],
        extra={"k": [1, None, {"x": "y"}]},
        sources={"phone": "payload.mobile"},
        warnings=["mobile: several numbers, first kept"],
    )
    again = normalize(record.to_draft(), CTX, now=NOW + timedelta(days=30))
    assert again == record


def test_a_record_normalized_with_changed_rules_gets_the_new_tier():
    record = run(content="路灯坏了")
    rules = rules_from_dicts([{"name": "lights", "tier": "24h", "keywords": ["路灯"]}])
    assert normalize(record.to_draft(), CTX, rules, now=NOW).time_tier is TimeTier.H24
    assert normalize(record.to_draft(), CTX, DEFAULT_RULES, now=NOW) == record


def test_a_draft_is_not_modified():
    original = draft(phone="138 1234 5678", extra={"a": [1]}, warnings=["w: x"], sources={"phone": "p.m"})
    copy = AppealDraft(**{f.name: getattr(original, f.name) for f in dataclasses.fields(AppealDraft)})
    normalize(original, CTX, now=NOW)
    assert original == copy
