"""Properties of normalize() over arbitrary drafts: one exception type, idempotence, storable output."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from normalizer import NormalizationError, normalize
from normalizer.record import AppealDraft, AppealRecord
from normalizer.text import repair_text
from tests.normalizer.support import CTX, NOW, VALID_CREDIT_CODE, VALID_ID, id_number

# Text that looks like appeals: CJK (simplified and traditional), full-width forms, the whitespace runs of
# message boards, and anything else Unicode has, lone surrogates included.
appeal_characters = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.sampled_from("停水電着火拆迁燈，。！？（）：　\n\t\r１２ＡＢｘ举報"),
    st.characters(),
    st.characters(categories=["Cs"]),
)
texts = st.text(appeal_characters, max_size=60)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    texts,
    st.binary(max_size=4),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=3),
        st.frozensets(st.integers(), max_size=2),
    ),
    max_leaves=6,
)
json_data = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), texts),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


def maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    """None, a plausible value or junk, so that the happy and the doubtful paths are both walked."""
    return st.one_of(st.none(), valid, junk)


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Nine times in ten a plausible value, else junk, so that enough drafts get through to test records."""
    return st.integers(0, 9).flatmap(lambda n: junk if n == 7 else valid)


dates = st.one_of(
    st.sampled_from(["2019/2/28 11:25:05", "2017-06-08 17:31", "2019年2月28日 11:25", "2020-01-06T04:09:38Z"]),
    st.integers(min_value=631_152_000, max_value=1_800_000_000_000),
    st.datetimes(),
)
attachments = st.lists(
    st.fixed_dictionaries(
        {"url": st.one_of(st.just("https://x.cn/a.jpg"), texts)},
        optional={"media_type": maybe(texts), "size": maybe(st.integers()), "sha256": maybe(texts), "note": junk},
    ),
    max_size=3,
)

drafts = st.builds(
    AppealDraft,
    source_id=mostly(st.one_of(st.text(min_size=1, max_size=20), st.integers(min_value=0))),
    occurred_at=maybe(dates),
    type=maybe(st.sampled_from(["咨询", "投诉", "举报", "投訴", "意见建议", "report", "Praise", "催办"])),
    title=mostly(st.one_of(st.none(), texts)),
    content=mostly(st.one_of(texts, st.text(appeal_characters, min_size=100, max_size=600))),
    citizen_name=maybe(texts),
    phone=maybe(st.sampled_from(["13812345678", "+86 138 1234 5678", "0791-88888888", "12345", 13912345678])),
    id_number=maybe(st.sampled_from([VALID_ID, VALID_ID.lower(), "110105194912310021", id_number()])),
    openid=maybe(texts),
    unionid=maybe(texts),
    user_id=maybe(st.one_of(texts, st.integers())),
    confidential=maybe(st.sampled_from([True, False, "true", "0", 1, "否"])),
    enterprise=maybe(st.booleans()),
    enterprise_name=maybe(texts),
    credit_code=maybe(st.sampled_from([VALID_CREDIT_CODE, VALID_CREDIT_CODE.lower(), "91350100M000100Y44"])),
    address=maybe(texts),
    division_code=maybe(st.sampled_from(["360781", 110105, "990000", "3607"])),
    township=maybe(texts),
    lat=maybe(st.one_of(st.floats(), st.sampled_from(["25.885", "0", "-91"]))),
    lon=maybe(st.one_of(st.floats(), st.sampled_from(["116.027", "0", "181"]))),
    channel_category=maybe(st.sampled_from(["城乡建设", "供水服务", "征地拆迁"])),
    category=maybe(texts),
    attachments=mostly(st.one_of(st.none(), attachments)),
    extra=mostly(st.dictionaries(texts, json_data, max_size=3)),
    sources=mostly(st.dictionaries(st.sampled_from(["phone", "title", "type"]), texts, max_size=2)),
    warnings=mostly(st.lists(st.one_of(texts, st.builds("{}: {}".format, texts, texts)), max_size=2)),
)

slow = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def attempt(draft: AppealDraft) -> AppealRecord | None:
    """The record, or None when the draft is rejected for a designed reason."""
    try:
        record = normalize(draft, CTX, now=NOW)
    except NormalizationError as e:
        assert e.field != "draft", f"unplanned failure: {e!r} caused by {e.__cause__!r}"
        event(f"rejected: {e.field}")
        return None
    event("normalized")
    return record


@slow
@given(drafts)
def test_normalize_raises_nothing_but_normalization_error_for_a_designed_reason(draft):
    attempt(draft)


@slow
@given(drafts)
def test_normalizing_the_draft_of_a_record_gives_the_record_back(draft):
    record = attempt(draft)
    if record is not None:
        assert normalize(record.to_draft(), CTX, now=NOW + timedelta(days=1)) == record


def _strings(value):
    """Every string inside a record value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    elif hasattr(value, "__slots__"):
        for name in value.__slots__:
            yield from _strings(getattr(value, name))


@slow
@given(drafts)
def test_every_record_can_be_stored(draft):
    record = attempt(draft)
    if record is not None:
        for text in _strings(record):
            text.encode("utf-8")
            assert "\x00" not in text
        json.dumps(record.extra, allow_nan=False)
        assert record.title and record.content
        assert record.received_at.utcoffset() == timedelta(0)
        carried = {repair_text(w) for w in (draft.warnings or ()) if isinstance(w, str)}
        assert all(": " in w for w in record.warnings if w not in carried)
