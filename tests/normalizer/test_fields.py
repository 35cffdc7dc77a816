"""Field validators: phone, resident ID, credit code, division code, coordinates."""

from __future__ import annotations

import math
from datetime import date

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer import (
    FieldError,
    check_credit_code,
    check_division_code,
    check_id_number,
    normalize_phone,
    parse_latitude,
    parse_longitude,
)
from normalizer.fields import id_check_char
from tests.normalizer.support import CREDIT_ALPHABET, VALID_CREDIT_CODE, VALID_ID, credit_code, id_number

# -- phone ---------------------------------------------------------------------------------------------------


def test_a_mobile_number_becomes_e164():
    assert normalize_phone("13812345678") == "+8613812345678"


@pytest.mark.parametrize(
    "written", ["+86 138 1234 5678", "0086-138-1234-5678", "138-1234-5678", "8613812345678", " 13812345678 "]
)
def test_spaces_dashes_and_country_prefixes_are_accepted(written):
    assert normalize_phone(written) == "+8613812345678"


def test_full_width_digits_are_folded():
    assert normalize_phone("１３８１２３４５６７８") == "+8613812345678"


def test_an_integer_phone_is_accepted():
    assert normalize_phone(13812345678) == "+8613812345678"


def test_a_phone_that_a_spreadsheet_turned_into_a_float_is_accepted():
    assert normalize_phone(13812345678.0) == "+8613812345678"


@pytest.mark.parametrize(
    ("written", "e164"),
    [("0791-88888888", "+8679188888888"), ("010 12345678", "+861012345678"), ("(010)12345678", "+861012345678")],
)
def test_a_landline_with_its_area_code_is_accepted(written, e164):
    assert normalize_phone(written) == e164


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_an_empty_phone_is_none(empty):
    assert normalize_phone(empty) is None


@pytest.mark.parametrize("bad", ["12345", "1381234567", "abc", "0791 8888 888", True, 1.5, [], "1" * 41])
def test_an_invalid_phone_raises_a_field_error(bad):
    with pytest.raises(FieldError) as e:
        normalize_phone(bad)
    assert e.value.field == "citizen.phone"


def test_a_phone_error_does_not_repeat_the_number():
    with pytest.raises(FieldError) as e:
        normalize_phone("1381234567")
    assert "1381234567" not in str(e.value)


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True), st.sampled_from(["{}", "+86{}", "0086 {}", "{}  "]))
def test_the_mobile_fast_path_agrees_with_phonenumbers(digits, form):
    written = form.format(digits)
    number = phonenumbers.parse(written, "CN")
    expected = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number)
        else None
    )
    try:
        got = normalize_phone(written)
    except FieldError:
        got = None
    assert got == expected


# -- resident ID (GB 11643) ----------------------------------------------------------------------------------


def test_the_known_sample_id_is_valid():
    assert check_id_number(VALID_ID) == VALID_ID


def test_a_lowercase_x_check_character_is_upper_cased():
    assert check_id_number(VALID_ID.lower()) == VALID_ID


def test_full_width_id_characters_are_folded():
    assert check_id_number("１１０１０５１９４９１２３１００２Ｘ") == VALID_ID


def test_an_id_with_spaces_is_accepted():
    assert check_id_number("110105 19491231 002X") == VALID_ID


def test_an_id_with_a_bad_check_digit_is_rejected():
    with pytest.raises(FieldError, match="bad check digit"):
        check_id_number("110105194912310021")


def test_an_id_whose_birth_date_does_not_exist_is_rejected_even_with_a_correct_check_digit():
    impossible = "11010519490230002"
    with pytest.raises(FieldError, match="not a real date"):
        check_id_number(impossible + id_check_char(impossible))


def test_an_id_born_in_the_future_is_rejected():
    with pytest.raises(FieldError, match="out of range"):
        check_id_number(id_number(born=date(2030, 1, 1)), today=date(2024, 6, 1))


def test_a_first_generation_15_digit_id_is_rejected_as_such():
    with pytest.raises(FieldError, match="15-digit"):
        check_id_number("110105491231002")


@pytest.mark.parametrize("bad", ["1101051949123100", "11010519491231002XX", "A1010519491231002X", 1.0, None])
def test_an_id_of_the_wrong_shape_is_rejected(bad):
    with pytest.raises(FieldError):
        check_id_number(bad)


@given(
    region=st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 1, 1)),
    sequence=st.from_regex(r"[0-9]{3}", fullmatch=True),
    data=st.data(),
)
def test_an_id_with_a_computed_check_character_passes_and_every_single_change_fails(region, born, sequence, data):
    valid = id_number(region, born, sequence)
    assert check_id_number(valid, today=date(2024, 6, 1)) == valid
    position = data.draw(st.integers(0, 17), label="position")
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != valid[position]))
    altered = valid[:position] + replacement + valid[position + 1 :]
    with pytest.raises(FieldError):
        check_id_number(altered, today=date(2024, 6, 1))


# -- unified social credit code (GB 32100) -------------------------------------------------------------------


def test_the_known_sample_credit_code_is_valid():
    assert check_credit_code(VALID_CREDIT_CODE) == VALID_CREDIT_CODE


def test_a_lowercase_credit_code_is_upper_cased():
    assert check_credit_code(VALID_CREDIT_CODE.lower()) == VALID_CREDIT_CODE


def test_a_credit_code_with_a_bad_check_character_is_rejected():
    with pytest.raises(FieldError, match="bad check character"):
        check_credit_code("91350100M000100Y44")


@pytest.mark.parametrize("letter", "IOZSV")
def test_a_credit_code_with_a_letter_outside_the_alphabet_is_rejected(letter):
    with pytest.raises(FieldError, match="alphabet"):
        check_credit_code(f"91350100M000100{letter}43")


@pytest.mark.parametrize("bad", ["91350100M000100Y4", "", 913501001000100143, None])
def test_a_credit_code_of_the_wrong_shape_is_rejected(bad):
    with pytest.raises(FieldError):
        check_credit_code(bad)


@given(body=st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17), data=st.data())
def test_a_credit_code_with_a_computed_check_character_passes_and_every_single_change_fails(body, data):
    valid = credit_code(body)
    assert check_credit_code(valid) == valid
    position = data.draw(st.integers(0, 17), label="position")
    replacement = data.draw(st.sampled_from(CREDIT_ALPHABET).filter(lambda c: c != valid[position]))
    altered = valid[:position] + replacement + valid[position + 1 :]
    with pytest.raises(FieldError):
        check_credit_code(altered)


# -- administrative division code (GB/T 2260) ----------------------------------------------------------------


@pytest.mark.parametrize("prefix", [11, 15, 21, 23, 31, 37, 41, 46, 50, 54, 61, 65, 71, 81, 82])
def test_a_division_code_under_a_province_level_prefix_is_valid(prefix):
    assert check_division_code(f"{prefix}0105") == f"{prefix}0105"


@pytest.mark.parametrize("prefix", [10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 99])
def test_a_division_code_under_any_other_prefix_is_rejected(prefix):
    with pytest.raises(FieldError, match="province-level prefix"):
        check_division_code(f"{prefix}0105")


def test_an_integer_division_code_is_accepted():
    assert check_division_code(360781) == "360781"


@pytest.mark.parametrize("bad", ["36078", "3607811", "36078a", "360781000000", 36078.1])
def test_a_division_code_that_is_not_six_digits_is_rejected(bad):
    with pytest.raises(FieldError):
        check_division_code(bad)


# -- coordinates ---------------------------------------------------------------------------------------------


def test_coordinates_are_read_from_text():
    assert (parse_latitude(" 25.885 "), parse_longitude("116.027")) == (25.885, 116.027)


def test_coordinates_on_the_edges_are_valid():
    assert (parse_latitude(-90), parse_longitude(180.0)) == (-90.0, 180.0)


@pytest.mark.parametrize("bad", [90.001, -91, "95", "nan", math.inf, "north", True, None])
def test_a_latitude_outside_the_range_or_not_a_number_is_rejected(bad):
    with pytest.raises(FieldError):
        parse_latitude(bad)


@pytest.mark.parametrize("bad", [180.5, "-181", math.nan, "1e400"])
def test_a_longitude_outside_the_range_or_not_finite_is_rejected(bad):
    with pytest.raises(FieldError, match="outside"):
        parse_longitude(bad)
