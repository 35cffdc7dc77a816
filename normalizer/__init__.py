"""The normalizer: pure functions that turn a channel's `AppealDraft` into a validated `AppealRecord`."""

from normalizer.dates import parse_datetime
from normalizer.fields import (
    FieldError,
    check_credit_code,
    check_division_code,
    check_id_number,
    normalize_phone,
    parse_latitude,
    parse_longitude,
)
from normalizer.normalize import NormalizationError, NormalizeContext, normalize, parse_appeal_type
from normalizer.rules import DEFAULT_RULES, Classification, Rules, TierRule, classify, rules_from_dicts
from normalizer.text import clean_text, fold_for_matching

__all__ = [
    "DEFAULT_RULES",
    "Classification",
    "FieldError",
    "NormalizationError",
    "NormalizeContext",
    "Rules",
    "TierRule",
    "check_credit_code",
    "check_division_code",
    "check_id_number",
    "classify",
    "clean_text",
    "fold_for_matching",
    "normalize",
    "normalize_phone",
    "parse_appeal_type",
    "parse_datetime",
    "parse_latitude",
    "parse_longitude",
    "rules_from_dicts",
]
