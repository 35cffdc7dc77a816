"""The appeal object sent to the 12345 platform: a confidential appeal carries nothing that identifies the
reporter, neither in its fields nor typed into its title and content in whatever spelling."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sync.render import REDACTED, appeal_object, scrub

PHONE = "+8613800138000"  # as the normalizer stores it: E.164
ID_NUMBER = "11010519491231002X"
NAME = "李建国"
REPORTER = [NAME, PHONE, ID_NUMBER]


# -- scrub: examples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "138－0013－8000",
        "1 3 8 0 0 1 3 8 0 0 0",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "008613800138000",
        "0086 138 0013 8000",
        "86-13800138000",
    ],
)
def test_a_phone_is_scrubbed_in_every_spelling(spelling):
    assert scrub(f"请回电{spelling}，谢谢", REPORTER) == f"请回电{REDACTED}，谢谢"


@pytest.mark.parametrize(
    "spelling", ["11010519491231002X", "11010519491231002x", "110105 19491231 002X", "110105-1949-1231-002x"]
)
def test_an_id_number_is_scrubbed_with_gaps_and_either_case_of_its_x(spelling):
    assert scrub(f"身份证号{spelling}。", REPORTER) == f"身份证号{REDACTED}。"


def test_a_name_is_scrubbed_wherever_it_occurs():
    text = "举报人李建国反映：李建国家楼下饭店油烟扰民。"
    assert scrub(text, REPORTER) == f"举报人{REDACTED}反映：{REDACTED}家楼下饭店油烟扰民。"


def test_every_identifier_in_one_text_is_scrubbed():
    text = "我叫李建国，电话138 0013 8000，身份证110105194912310002X有误，正确的是11010519491231002X。"
    scrubbed = scrub(text, REPORTER)
    assert NAME not in scrubbed and "11010519491231002X" not in scrubbed
    assert "138 0013 8000" not in scrubbed
    assert "110105194912310002X" in scrubbed  # a different, longer number stays


def test_a_landline_is_scrubbed_as_dialled_at_home_with_its_trunk_zero():
    landline = "+867978123456"  # 0797-8123456 in Ganzhou, as the normalizer stores it
    for spelling in ("0797-8123456", "07978123456", "0797 812 3456", "(0797) 8123456", "+86 797 8123456"):
        scrubbed = scrub(f"座机{spelling}。", [landline])
        assert REDACTED in scrubbed and digits_of(scrubbed) == "", spelling


def test_a_phone_typed_in_full_width_digits_is_scrubbed():
    assert scrub("电话：１３８００１３８０００。", REPORTER) == f"电话：{REDACTED}。"


@pytest.mark.parametrize(
    "number",
    ["138001380001", "913800138000", "2024138001380005", "18613800138000", "1380013800011010519491231002X"],
)
def test_a_longer_number_that_merely_contains_the_phone_is_left_alone(number):
    text = f"订单号{number}，请核实。"
    assert scrub(text, REPORTER) == text


def test_a_text_without_identifiers_is_unchanged():
    text = "滨江路某化工厂每天夜里偷排污水，河水发黑发臭，附近有300多户居民，电话0797-12345。"
    assert scrub(text, REPORTER) == text


def test_nothing_to_hide_leaves_the_text_unchanged():
    text = "请回电13800138000。"
    assert scrub(text, []) == text


# -- scrub: properties ----------------------------------------------------------------------------------------

# Words around an identifier: Chinese, Latin letters and punctuation, never a digit or a plus sign.
WORDS = st.text(
    alphabet=st.sampled_from("举报滨江路化工厂偷排污水请回电我的手机号是abcXYZ，。：；！（）、 "), max_size=12
)
GAPS = st.sampled_from(["", "", " ", "-", " - ", "－", "."])
MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
PREFIXES = st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "86-"])


@st.composite
def pieces_around(draw, occurrences: st.SearchStrategy[int]) -> list[str]:
    """The words before, between and after some occurrences; never nothing between two of them."""
    n = draw(occurrences)
    between = draw(st.lists(WORDS.filter(bool), min_size=n - 1, max_size=n - 1))
    return [draw(WORDS), *between, draw(WORDS)]


@st.composite
def spelled(draw, digits: str, prefixes: st.SearchStrategy[str]) -> str:
    """A number as people type it: gaps of their choice between the digits, maybe a country code before."""
    gap = draw(GAPS)
    body = "".join(ch + (gap if draw(st.booleans()) else "") for ch in digits[:-1]) + digits[-1]
    return draw(prefixes) + body


@st.composite
def phone_in_text(draw) -> tuple[str, list[str], str]:
    """(the stored phone, the text's pieces around its occurrences, the text with each one spelled anew)."""
    mobile = draw(MOBILES)
    pieces = draw(pieces_around(st.integers(1, 4)))
    text = pieces[0] + "".join(draw(spelled(mobile, PREFIXES)) + piece for piece in pieces[1:])
    return f"+86{mobile}", pieces, text


@given(phone_in_text())
def test_every_spelling_of_a_phone_in_a_text_is_scrubbed_and_the_words_around_stay(case):
    phone, pieces, text = case
    assert scrub(text, [phone]) == REDACTED.join(pieces)


@st.composite
def id_in_text(draw) -> tuple[str, list[str], str]:
    """(a resident ID, the text's pieces around its occurrences, the text with each one spelled anew)."""
    number = draw(st.from_regex(r"[1-6][0-9]{16}[0-9X]", fullmatch=True))
    pieces = draw(pieces_around(st.integers(1, 3)))
    spellings = [draw(spelled(number, st.just(""))) for _ in pieces[1:]]
    spellings = [s.lower() if draw(st.booleans()) else s for s in spellings]
    return number, pieces, pieces[0] + "".join(s + p for s, p in zip(spellings, pieces[1:], strict=True))


@given(id_in_text())
def test_every_spelling_of_an_id_number_in_a_text_is_scrubbed_and_the_words_around_stay(case):
    number, pieces, text = case
    assert scrub(text, [number]) == REDACTED.join(pieces)


def digits_of(text: str) -> str:
    """The digits (and X) a text holds, in order, once full-width characters are folded."""
    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", text).upper())


@given(st.text(max_size=200))
def test_a_text_without_the_identifiers_is_left_unchanged(text):
    assume(NAME not in text)
    assume("13800138000" not in digits_of(text) and ID_NUMBER not in digits_of(text))
    assert scrub(text, REPORTER) == text


@given(MOBILES, st.from_regex(r"[0-9]{0,6}", fullmatch=True), st.from_regex(r"[0-9]{0,6}", fullmatch=True))
def test_digits_that_merely_contain_the_phone_are_never_removed(mobile, before, after):
    assume(before or after)
    assume(after or before not in ("0", "86", "0086"))  # those are the phone itself, with a trunk or country code
    text = f"编号{before}{mobile}{after}号"
    assert scrub(text, [f"+86{mobile}"]) == text


# -- the appeal object ----------------------------------------------------------------------------------------


def stored_appeal(**fields: Any) -> dict[str, Any]:
    """An appeal as stored (the appeals table's columns), a complaint with the citizen's identity."""
    return {
        "id": uuid.UUID("0193605e-8f2a-7c41-9d3e-5b8a1c2f4e61"),
        "source_id": "BOARD-2549",
        "channel_id": "web-api",
        "mode": "hotline_flow",
        "type": "complaint",
        "title": "景蓉华苑物业乱收停车费",
        "content": "小区物业每月收取停车管理费300元。有事请联系李建国，电话138-0013-8000。",
        "received_at": datetime(2024, 11, 25, 1, 15, 2, tzinfo=UTC),
        "occurred_at": None,
        "time_tier": "7d",
        "emergency": None,
        "confidential": False,
        "citizen_name": NAME,
        "phone": PHONE,
        "id_number": ID_NUMBER,
        "openid": "oWx1a2b3c4d5e6f7g8h9",
        "unionid": None,
        "user_id": None,
        "enterprise": True,
        "enterprise_name": "赣州景蓉商贸有限公司",
        "credit_code": "91360702MA35L8XK01",
        "address": "章贡区解放街道景蓉华苑",
        "division_code": "360702",
        "township": "解放街道",
        "lat": None,
        "lon": None,
        "category": "城乡建设",
        "channel_category": "物业管理",
        **fields,
    }


def test_a_complaint_carries_the_citizen_and_the_enterprise():
    doc = appeal_object(stored_appeal())
    assert doc["confidential"] is False
    assert doc["citizen"] == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}
    assert doc["enterprise"] == {"name": "赣州景蓉商贸有限公司", "credit_code": "91360702MA35L8XK01"}


def test_a_complaint_keeps_its_words_as_written():
    appeal = stored_appeal()
    doc = appeal_object(appeal)
    assert (doc["title"], doc["content"]) == (appeal["title"], appeal["content"])


def test_a_complaint_without_anyone_named_has_no_citizen_object():
    doc = appeal_object(stored_appeal(citizen_name=None, phone=None, id_number=None, enterprise=False))
    assert doc["citizen"] is None and doc["enterprise"] is None


def test_a_confidential_appeal_names_neither_citizen_nor_enterprise():
    doc = appeal_object(stored_appeal(type="report", confidential=True))
    assert doc["confidential"] is True
    assert doc["citizen"] is None and doc["enterprise"] is None


def test_a_confidential_appeal_has_the_reporters_identifiers_cut_from_its_words():
    content = "我是李建国（微信oWx1a2b3c4d5e6f7g8h9），电话+86 138 0013 8000，举报滨江路化工厂偷排污水。"
    doc = appeal_object(stored_appeal(confidential=True, title="李建国举报化工厂偷排", content=content))
    assert doc["title"] == f"{REDACTED}举报化工厂偷排"
    assert doc["content"] == f"我是{REDACTED}（微信{REDACTED}），电话{REDACTED}，举报滨江路化工厂偷排污水。"


def test_the_rest_of_a_confidential_appeal_is_sent_as_stored():
    confidential, plain = appeal_object(stored_appeal(confidential=True)), appeal_object(stored_appeal())
    kept = ("appeal_id", "source_id", "channel_id", "mode", "received_at", "time_tier", "location", "category")
    assert {k: confidential[k] for k in kept} == {k: plain[k] for k in kept}


def test_times_are_sent_in_beijing_time_with_their_offset():
    doc = appeal_object(stored_appeal())
    assert doc["received_at"] == "2024-11-25T09:15:02+08:00"
    assert doc["occurred_at"] is None


def test_the_channels_own_category_stands_in_when_none_was_mapped():
    assert appeal_object(stored_appeal(category=None))["category"] == "物业管理"
