"""The appeal as the 12345 platform receives it, and what a confidential appeal may not carry.

Rendered from the stored appeal at the first attempt to send a message (and frozen from then on). For every
confidential appeal (each 举报 is one) the handling unit learns nothing of who reported:

- no `citizen` object at all;
- no `enterprise` either, since the enterprise that reports identifies the reporter as surely as a name;
- the reporter's own name, phone, ID number and channel user ids are cut out of the title and content, in
  whatever spelling the reporter typed them (spaces, dashes, a +86 prefix), and replaced by `[已隐去]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
REDACTED = "[已隐去]"
_GAP = r"[\s\-－—.·()（）]*"  # what people type between the digits of a phone or ID number
_DIGIT = r"[0-9０-９]"  # a digit typed half-width or full-width (全角), as Chinese input methods do


def beijing_iso(t: datetime | None) -> str | None:
    """An aware time as RFC 3339 in Beijing time (+08:00), or None."""
    return t.astimezone(SHANGHAI).isoformat() if t else None


def identifiers(appeal: Mapping[str, Any]) -> list[str]:
    """The reporter's own identifiers as stored with the appeal (empty values left out)."""
    values = [appeal.get(k) for k in ("citizen_name", "phone", "id_number", "openid", "unionid", "user_id")]
    return [str(v) for v in values if v and len(str(v).strip()) >= 2]


def _char(ch: str) -> str:
    """One character of a number, half-width or full-width."""
    return f"[{ch}{chr(ord(ch) + 0xFEE0)}]" if ch.isascii() and ch.isalnum() else re.escape(ch)


def _pattern(identifier: str) -> str:
    digits = identifier.removeprefix("+86")
    if re.fullmatch(r"\+?[0-9]{6,}[0-9Xx]?", digits):
        body = _GAP.join(_char(ch) for ch in digits.lstrip("+"))
        # +86, 0086 or 86 before a Chinese number, or the trunk 0 before its area code as dialled at home
        country = r"(?:[+＋]|[0０]{2})?[8８][6６]"
        prefix = rf"(?:(?:{country}|[0０]){_GAP})?" if identifier.startswith("+86") else ""
        return rf"(?<!{_DIGIT}){prefix}{body}(?!{_DIGIT})"
    return re.escape(identifier)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """The text with every occurrence of the given identifiers replaced by [已隐去]."""
    patterns = [_pattern(s) for s in sorted(set(secrets), key=len, reverse=True)]
    if not patterns or not text:
        return text
    return re.sub("|".join(patterns), REDACTED, text, flags=re.IGNORECASE)


def appeal_object(appeal: Mapping[str, Any], case_confidential: bool = False) -> dict[str, Any]:
    """The `appeal` object of a platform request (docs/platform12345.md § Creating a work order).

    An appeal merged into a confidential case (the same person about the same matter) is confidential too:
    its identity would name the reporter of the case.
    """
    confidential = bool(appeal["confidential"]) or case_confidential
    title, content = appeal["title"], appeal["content"]
    citizen = enterprise = None
    if confidential:
        hidden = identifiers(appeal)
        title, content = scrub(title, hidden), scrub(content, hidden)
    else:
        person = {"name": appeal["citizen_name"], "phone": appeal["phone"], "id_number": appeal["id_number"]}
        citizen = person if any(person.values()) else None
        if appeal["enterprise"]:
            enterprise = {"name": appeal["enterprise_name"], "credit_code": appeal["credit_code"]}
    return {
        "appeal_id": str(appeal["id"]),
        "source_id": appeal["source_id"],
        "channel_id": appeal["channel_id"],
        "mode": appeal["mode"],
        "type": appeal["type"],
        "title": title,
        "content": content,
        "received_at": beijing_iso(appeal["received_at"]),
        "occurred_at": beijing_iso(appeal["occurred_at"]),
        "time_tier": appeal["time_tier"],
        "emergency": appeal["emergency"],
        "confidential": confidential,
        "citizen": citizen,
        "enterprise": enterprise,
        "location": {k: appeal[k] for k in ("address", "division_code", "township", "lat", "lon")},
        "category": appeal["category"] or appeal["channel_category"],
    }
