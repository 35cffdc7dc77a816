"""fold_for_matching (text as matched) and clean_text (text as stored)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer import clean_text, fold_for_matching

BOARD_CONTENT = "\n\t\t\t\t\t\n\t\t\t\t\t小区停水三天了，\n\t\t\t\t\t请尽快处理！\n\t\t\t\t\n\t\t\t\t"


def test_folding_turns_full_width_characters_into_half_width():
    assert fold_for_matching("１２３４５６７８，（ＡＢＣ）！") == "12345678,(abc)!"


def test_folding_turns_traditional_chinese_into_simplified():
    assert fold_for_matching("停電三天，頭髮") == "停电三天,头发"


def test_folding_collapses_every_whitespace_run_to_one_space():
    assert fold_for_matching("路灯\u3000\u3000坏了\n\t\t\t请 \r\n 修理") == "路灯 坏了 请 修理"


def test_folding_strips_the_tab_and_newline_runs_board_messages_begin_with():
    assert fold_for_matching(BOARD_CONTENT) == "小区停水三天了, 请尽快处理!"


def test_folding_lower_cases_latin_letters():
    assert fold_for_matching("WiFi信号差 ＷＩＦＩ") == "wifi信号差 wifi"


def test_folding_drops_zero_width_characters():
    assert fold_for_matching("停\u200b水") == "停水"


def test_folding_replaces_an_unpaired_surrogate_instead_of_failing():
    assert fold_for_matching("停水\ud83d") == "停水\ufffd"


any_character = st.characters() | st.characters(categories=["Cs"]) | st.sampled_from("停電頭髮，　\n\t１Ａİ\u200b")


@settings(deadline=None)
@given(st.text(alphabet=any_character))
def test_folding_is_idempotent(text):
    once = fold_for_matching(text)
    assert fold_for_matching(once) == once


def test_cleaning_strips_surrounding_whitespace_only():
    assert clean_text(BOARD_CONTENT) == "小区停水三天了，\n\t\t\t\t\t请尽快处理！"


def test_cleaning_makes_every_line_ending_a_newline():
    assert clean_text("第一行\r\n第二行\r第三行") == "第一行\n第二行\n第三行"


def test_cleaning_leaves_full_width_traditional_and_inner_spacing_untouched():
    text = "停電　三天  ＡＢＣ１２３"
    assert clean_text(text) == text


def test_cleaning_removes_nul_characters_which_postgresql_cannot_store():
    assert clean_text("停\x00水") == "停水"


def test_cleaning_joins_a_split_surrogate_pair_and_replaces_a_lone_one():
    assert clean_text("\ud83d\ude00 \udc00") == "\U0001f600 \ufffd"


@given(st.text(alphabet=any_character))
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once
