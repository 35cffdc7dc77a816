"""Validators for single fields: phone, resident ID, credit code, division code, coordinates.

Each is a pure function that returns the canonical form or raises `FieldError`; whether a failure is a
warning or fatal is the caller's decision. Reasons never repeat the value itself, because phones and ID
numbers are personal data and reasons end up in stored warnings and logs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date
from typing import Any

import phonenumbers

__all__ = [
    "FieldError",
    "check_credit_code",
    "check_division_code",
    "check_id_number",
    "credit_check_char",
    "id_check_char",
    "normalize_phone",
    "parse_latitude",
    "parse_longitude",
]


class FieldError(ValueError):
    """One field's value is unusable; `str(e)` is "<field>: <reason>"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_SPACES = re.compile(r"[\s\-]+")

# GB 11643-1999: weight of position i is 2^(17-i) mod 11; the check character is indexed by the sum mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

# GB 32100-2015: 31 characters, the letters I O Z S V left out so they cannot be misread as digits.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {c: i for i, c in enumerate(_CREDIT_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB/T 2260 province-level prefixes, Hong Kong (81) and Macao (82) included.
_PROVINCES = frozenset(
    f"{n:02d}"
    for lo, hi in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 82))
    for n in range(lo, hi + 1)
)
_SIX_DIGITS = re.compile(r"[0-9]{6}")

# Phone numbers longer than this are pasted text, not a number; it also keeps parsing cheap.
_PHONE_MAX = 40
# Most numbers are Chinese mobiles. phonenumbers is pure Python and takes about 30 µs a number, so a mobile
# that matches its own CN metadata patterns is accepted directly; everything else goes through the library.
_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE_SHAPE = re.compile(r"(?:\+86|0086)?[ -]?(1[0-9]{2})[ -]?([0-9]{4})[ -]?([0-9]{4})")
_CN_MOBILE = re.compile(_CN.mobile.national_number_pattern)
_CN_GENERAL = re.compile(_CN.general_desc.national_number_pattern)
_EARLIEST_BIRTH_YEAR = 1880


def _as_code_text(value: Any, field: str, *, allow_int: bool) -> str:
    """The value as a folded, upper-case string with spaces and dashes removed."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, f"expected text, got {type(value).__name__}")
    if isinstance(value, int):
        if not allow_int or value < 0 or value.bit_length() > 128:
            raise FieldError(field, "not a valid code")
        value = str(value)
    if len(value) > 64:
        raise FieldError(field, "too long")
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalize_phone(value: Any, *, region: str = "CN", field: str = "citizen.phone") -> str | None:
    """The number in E.164 form (+8613812345678), None when empty; FieldError when not a valid number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldError(field, "expected a phone number, got bool")
    if isinstance(value, float):
        # Spreadsheet exports turn 13812345678 into 13812345678.0.
        if not (math.isfinite(value) and value.is_integer() and 0 <= value < 1e20):
            raise FieldError(field, "not a phone number")
        value = int(value)
    if isinstance(value, int):
        if not 0 <= value < 10**20:
            raise FieldError(field, "not a phone number")
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(field, f"expected a phone number, got {type(value).__name__}")
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    if len(text) > _PHONE_MAX:
        raise FieldError(field, "too long for a phone number")
    if region == "CN" and (shape := _CN_MOBILE_SHAPE.fullmatch(text)):
        national = "".join(shape.groups())
        if _CN_MOBILE.fullmatch(national) and _CN_GENERAL.fullmatch(national):
            return f"+86{national}"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FieldError(field, "not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError(field, "not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def check_id_number(value: Any, *, today: date | None = None, field: str = "citizen.id_number") -> str:
    """The 18-character resident ID (GB 11643) upper-cased, or FieldError (length, birth date, check char)."""
    text = _as_code_text(value, field, allow_int=True)
    if len(text) == 15:
        raise FieldError(field, "15-digit first-generation number, no longer valid")
    if len(text) != 18:
        raise FieldError(field, f"expected 18 characters, got {len(text)}")
    if not _ID_SHAPE.fullmatch(text):
        raise FieldError(field, "expected 17 digits and a digit or X")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldError(field, "birth date is not a real date") from None
    if born.year < _EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        raise FieldError(field, "birth date out of range")
    if id_check_char(text[:17]) != text[17]:
        raise FieldError(field, "bad check digit")
    return text


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(value: Any, *, field: str = "enterprise.credit_code") -> str:
    """The unified social credit code (GB 32100) upper-cased, or FieldError (length, alphabet, check char)."""
    text = _as_code_text(value, field, allow_int=False)
    if len(text) != 18:
        raise FieldError(field, f"expected 18 characters, got {len(text)}")
    if any(c not in _CREDIT_VALUE for c in text):
        raise FieldError(field, "character outside the code alphabet (no I, O, Z, S, V)")
    if credit_check_char(text[:17]) != text[17]:
        raise FieldError(field, "bad check character")
    return text


def check_division_code(value: Any, *, field: str = "location.division_code") -> str:
    """The 6-digit administrative division code (GB/T 2260), or FieldError."""
    text = _as_code_text(value, field, allow_int=True)
    if not _SIX_DIGITS.fullmatch(text):
        raise FieldError(field, "expected 6 digits")
    if text[:2] not in _PROVINCES:
        raise FieldError(field, f"{text[:2]} is not a province-level prefix")
    return text


def _parse_degrees(value: Any, limit: float, field: str) -> float:
    """A finite float within ±limit from a number or numeric text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(field, f"expected a number, got {type(value).__name__}")
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if len(text) > 40:
            raise FieldError(field, "too long for a coordinate")
        value = text
    try:
        degrees = float(value)
    except (ValueError, OverflowError):
        raise FieldError(field, "not a number") from None
    if not math.isfinite(degrees) or not -limit <= degrees <= limit:
        raise FieldError(field, f"outside [-{limit:g}, {limit:g}]")
    return degrees


def parse_latitude(value: Any, *, field: str = "location.lat") -> float:
    """Latitude in degrees, within [-90, 90]."""
    return _parse_degrees(value, 90.0, field)


def parse_longitude(value: Any, *, field: str = "location.lon") -> float:
    """Longitude in degrees, within [-180, 180]."""
    return _parse_degrees(value, 180.0, field)
