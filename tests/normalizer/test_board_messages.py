"""Real leaders'-message-board appeals (fixtures/board_messages.json) through the normalizer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from normalizer import normalize
from normalizer.record import AppealDraft, AppealRecord, TimeTier
from tests.normalizer.support import CTX, NOW

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "board_messages.json").read_text("utf-8"))
ROWS = [row for name, rows in FIXTURES.items() if name != "about" for row in rows]


def board_draft(row: dict[str, str]) -> AppealDraft:
    """The draft a message-board connector would map a row to."""
    return AppealDraft(
        source_id=row["留言编号"],
        user_id=row["留言用户"],
        title=row["留言主题"],
        occurred_at=row["留言时间"],
        content=row["留言详情"],
        channel_category=row.get("一级分类"),
        sources={
            "source_id": "payload.留言编号",
            "user_id": "payload.留言用户",
            "title": "payload.留言主题",
            "occurred_at": "payload.留言时间",
            "content": "payload.留言详情",
            "channel_category": "payload.一级分类",
        },
    )


def record_of(source_id: str) -> AppealRecord:
    row = next(r for r in ROWS if r["留言编号"] == source_id)
    return normalize(board_draft(row), CTX, now=NOW)


def test_the_fixtures_hold_about_twenty_messages_from_both_files():
    assert len(ROWS) >= 20
    assert {"附件2_subset495_labelled.csv", "附件4.csv"} <= set(FIXTURES)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["留言编号"])
def test_every_saved_message_normalizes_without_warnings(row):
    record = normalize(board_draft(row), CTX, now=NOW)
    assert record.warnings == ()
    assert record.source_id == row["留言编号"]
    assert record.occurred_at is not None


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["留言编号"])
def test_the_tab_and_newline_runs_around_a_message_are_stripped_from_stored_content(row):
    assert row["留言详情"].startswith("\n\t")
    content = normalize(board_draft(row), CTX, now=NOW).content
    assert content == row["留言详情"].strip()
    assert not content[0].isspace() and not content[-1].isspace()


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["留言编号"])
def test_the_match_text_has_no_tab_or_newline_runs(row):
    match = normalize(board_draft(row), CTX, now=NOW).match
    assert "\t" not in match.content and "\n" not in match.content and "  " not in match.content


def test_a_slashed_time_is_read_as_beijing_time():
    assert record_of("24").occurred_at == datetime(2020, 1, 6, 4, 9, 38, tzinfo=UTC)


def test_a_slashed_time_with_a_one_digit_hour_is_read():
    assert record_of("5315").occurred_at == datetime(2018, 7, 16, 23, 13, 58, tzinfo=UTC)


def test_a_dashed_time_is_read_as_beijing_time():
    assert record_of("2759").occurred_at == datetime(2019, 4, 8, 0, 37, 20, tzinfo=UTC)


def test_full_width_digits_are_kept_in_the_content_and_folded_for_matching():
    record = record_of("12755")
    assert "９５５９８" in record.content
    assert "95598" in record.match.content


@pytest.mark.parametrize(
    ("source_id", "tier", "reason"),
    [
        ("1440", TimeTier.H24, "rule utilities: keyword 停电"),
        ("5492", TimeTier.H24, "rule utilities: keyword 供水"),
        ("1110", TimeTier.H2, "rule risk-to-life-or-property: keyword 被困电梯"),
        ("3797", TimeTier.D15, "rule complex: keyword 拆迁"),
        ("24", TimeTier.D7, "ordinary matter (一般诉求, 7 days)"),
        ("2549", TimeTier.D7, "ordinary matter (一般诉求, 7 days)"),
    ],
)
def test_saved_messages_get_the_expected_time_tier(source_id, tier, reason):
    record = record_of(source_id)
    assert (record.time_tier, record.tier_reason, record.emergency) == (tier, reason, None)


def test_the_mapped_sources_are_kept():
    record = record_of("24")
    assert record.sources["content"] == "payload.留言详情"
    assert record.sources["channel_category"] == "payload.一级分类"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["留言编号"])
def test_normalizing_a_saved_message_twice_gives_the_same_record(row):
    record = normalize(board_draft(row), CTX, now=NOW)
    assert normalize(record.to_draft(), CTX, now=NOW) == record
