"""Rendering a case for an Open311 server: the form, the service code, the marker, and what a report never says."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import PermanentError
from core.http import HttpClient
from sync.render import REDACTED
from sync.targets import make_target
from sync.targets.base import (
    ATTACH_REPEAT,
    DETACH_REPEAT,
    RAISE_FLAG,
    RETURN_REPLY,
    SHARE_RECORD,
    UPDATE_SHARED_RECORD,
    FrozenRequest,
    Skip,
)
from sync.targets.open311 import DESCRIPTION_MAX, Open311, description, marker_case_id, split_name
from tests.sync.open311.support import CASE_ID, JURISDICTION, appeal, context, report, settings


@pytest.fixture
def target() -> Open311:
    # Rendering is pure: the HTTP client is never used.
    return Open311(settings(), HttpClient(session=None))  # type: ignore[arg-type]


def fields(target: Open311, row: dict) -> dict[str, str]:
    request = target.render(context(row))
    assert isinstance(request, FrozenRequest)
    pairs = parse_qsl(request.body, keep_blank_values=True)
    assert len(pairs) == len(dict(pairs)), "no field is sent twice"
    return dict(pairs)


def test_the_platform_kind_open311_makes_this_target():
    assert isinstance(make_target(settings(), HttpClient(session=None)), Open311)  # type: ignore[arg-type]


def test_a_case_becomes_a_form_post_to_requests_json(target):
    request = target.render(context())
    assert isinstance(request, FrozenRequest)
    assert (request.method, request.path, request.query) == ("POST", "/requests.json", {})
    assert request.content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert parse_qs(request.body)["service_code"] == ["009"]


def test_the_form_carries_the_jurisdiction_the_place_and_the_citizen(target):
    sent = fields(target, appeal())
    assert sent["jurisdiction_id"] == JURISDICTION
    assert (sent["lat"], sent["long"]) == ("25.8311", "114.9332")
    assert sent["address_string"] == "章贡区红旗大道88号阳光小区"
    assert (sent["first_name"], sent["last_name"], sent["phone"]) == ("明", "欧阳", "13807970042")


def test_the_api_key_is_never_part_of_the_stored_request(target):
    # The frozen request is stored in the outbox; the key is added at every send instead.
    assert "api_key" not in fields(target, appeal())


def test_a_jurisdiction_is_left_out_when_none_is_configured():
    target = Open311(settings(jurisdiction_id=None), HttpClient(session=None))  # type: ignore[arg-type]
    assert "jurisdiction_id" not in fields(target, appeal())


@pytest.mark.parametrize(
    ("category", "channel_category", "code"),
    [
        ("物业管理", "住房", "009"),  # the appeal's category
        ("没有映射", "供水", "008"),  # else the channel's category
        (None, "市容环境", "004"),
        ("没有映射", None, "010"),  # else default_service_code
        (None, None, "010"),
    ],
)
def test_the_service_code_follows_the_category_then_the_channel_category_then_the_default(
    target, category, channel_category, code
):
    assert fields(target, appeal(category=category, channel_category=channel_category))["service_code"] == code


def test_the_description_is_title_and_content_ending_with_the_case_marker(target):
    text = fields(target, appeal())["description"]
    assert text.startswith("小区电梯长期故障无人维修\n\n我住在章贡区红旗大道88号")
    assert text.endswith(f"\n[huiju-case:{CASE_ID}]")
    assert marker_case_id(text) == str(CASE_ID)


def test_a_content_that_repeats_its_title_is_not_said_twice():
    assert description("电梯故障", "电梯故障，两周无人修。", "c1") == "电梯故障，两周无人修。\n[huiju-case:c1]"


def test_a_long_appeal_is_cut_to_4000_characters_and_keeps_its_marker(target):
    text = fields(target, appeal(content="楼道堆物" * 2_000))["description"]
    assert len(text) == DESCRIPTION_MAX
    assert text.endswith(f"…\n[huiju-case:{CASE_ID}]")


@given(title=st.text(max_size=300), content=st.text(max_size=6_000), case_id=st.uuids())
def test_any_description_fits_the_spec_and_gives_its_case_back(title, content, case_id):
    text = description(title, content, str(case_id))
    assert len(text) <= DESCRIPTION_MAX
    assert marker_case_id(text) == str(case_id)
    assert not any(ch in text for ch in "\x00\x07\x1b\r")


def test_control_characters_and_carriage_returns_are_not_sent():
    assert description("标题\x07", "第一行\r\n第二行\x00", "c1") == "标题\n\n第一行\n第二行\n[huiju-case:c1]"


def test_an_appeal_without_coordinates_sends_its_address_only(target):
    sent = fields(target, appeal(lat=None, lon=None))
    assert "lat" not in sent and "long" not in sent
    assert sent["address_string"] == "章贡区红旗大道88号阳光小区"


def test_coordinates_out_of_range_are_not_sent(target):
    sent = fields(target, appeal(lat=250.0, lon=114.9))
    assert "lat" not in sent and sent["address_string"]


def test_without_an_address_the_township_then_the_configured_default_is_the_place():
    target = Open311(settings(default_address="江西省赣州市"), HttpClient(session=None))  # type: ignore[arg-type]
    assert fields(target, appeal(address=None))["address_string"] == "解放街道"
    bare = appeal(address=None, township=None, lat=None, lon=None)
    assert fields(target, bare)["address_string"] == "江西省赣州市"


def test_an_appeal_with_no_place_at_all_and_no_default_cannot_be_rendered(target):
    with pytest.raises(PermanentError, match="default_address"):
        target.render(context(appeal(address=None, township=None, lat=None, lon=None)))


def test_a_confidential_report_sends_no_name_no_phone_no_email(target):
    sent = fields(target, report())
    assert not {"first_name", "last_name", "phone", "email", "account_id", "device_id"} & sent.keys()


def test_a_confidential_report_has_the_reporters_identifiers_cut_from_its_text(target):
    text = fields(target, report())["description"]
    for secret in ("李建国", "13912345678", "139-1234-5678", "360702199001011234"):
        assert secret not in text
    assert text.count(REDACTED) == 5  # twice in the title, three times in the content
    assert "餐馆夜间向雨水管排放油污" in text and marker_case_id(text) == str(CASE_ID)


def test_the_public_description_never_carries_the_citizens_phone_even_when_not_confidential(target):
    sent = fields(target, appeal())
    assert "13807970042" not in sent["description"] and REDACTED in sent["description"]
    assert sent["phone"] == "13807970042"  # in the field the spec never publishes


def test_a_confidential_appeal_that_is_not_a_report_is_kept_as_quiet(target):
    sent = fields(target, appeal(confidential=True))
    assert "phone" not in sent and "last_name" not in sent
    assert "13807970042" not in sent["description"]


def test_no_identity_number_is_ever_sent(target):
    assert all("360702199001011234" not in v for v in fields(target, appeal()).values())


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        (SHARE_RECORD, "shared records"),
        (ATTACH_REPEAT, "repeat"),
        (DETACH_REPEAT, "repeat"),
        (RAISE_FLAG, "flags"),
        (RETURN_REPLY, "reply back"),
        (UPDATE_SHARED_RECORD, "shared records"),
    ],
)
def test_what_georeport_cannot_express_is_skipped_with_the_reason(target, kind, says):
    skipped = target.render(context(kind=kind))
    assert isinstance(skipped, Skip)
    assert "GeoReport v2" in skipped.reason and says in skipped.reason


def test_an_unknown_message_kind_is_an_error_not_a_skip(target):
    with pytest.raises(PermanentError, match="no request"):
        target.render(context(kind="rename_case"))


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("王小明", "小明", "王"),
        ("欧阳明", "明", "欧阳"),
        ("司马相如", "相如", "司马"),
        ("王先生", None, "王"),
        ("欧阳女士", None, "欧阳"),
        ("阿依古丽·买买提", "阿依古丽", "买买提"),
        ("John Smith", "John", "Smith"),
        ("Mary Ann  Lee", "Mary Ann", "Lee"),
        ("Madonna", "Madonna", None),
        ("  ", None, None),
    ],
)
def test_names_are_split_into_given_and_family_names(name, first, last):
    assert split_name(name) == (first, last)


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=6))
def test_a_chinese_name_splits_into_parts_that_make_it_up_again(name):
    first, last = split_name(name)
    assert last and name.startswith(last)
    assert (last + (first or "")) == name or name.endswith(("先生", "女士", "小姐"))
