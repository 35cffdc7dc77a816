"""Masking of personal data (phone, ID-card number, WeChat openid) for logs and exports."""

from __future__ import annotations

import re

# Mainland mobile numbers, optionally +86/0086-prefixed, not inside a longer digit run.
_PHONE = re.compile(r"(?<!\d)(\+?86|0086)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# 18-character resident ID (17 digits + digit or X).
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
# WeChat openids: 28 characters beginning with "o".
_OPENID = re.compile(r"(?<![A-Za-z0-9_-])(o[A-Za-z0-9_-]{3})[A-Za-z0-9_-]{20}([A-Za-z0-9_-]{4})(?![A-Za-z0-9_-])")


def mask_phone(phone: str | None) -> str | None:
    """138****5678 (an E.164 number keeps its country code)."""
    if not phone:
        return phone
    digits = phone[-11:]
    prefix = phone[:-11]
    if len(digits) < 11:
        return "*" * len(phone)
    return f"{prefix}{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str | None:
    """110105********002X: the region kept, the birth date hidden."""
    if not id_number:
        return id_number
    return (
        id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
        if len(id_number) > 10
        else "*" * len(id_number)
    )


def mask_openid(openid: str | None) -> str | None:
    """oAbc********************wxyz."""
    if not openid:
        return openid
    return openid[:4] + "*" * max(len(openid) - 8, 4) + openid[-4:] if len(openid) > 8 else "****"


def mask_text(text: str) -> str:
    """Mask every phone, ID-card number and openid found in free text."""
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = _PHONE.sub(lambda m: f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}", text)
    return _OPENID.sub(lambda m: m.group(1) + "*" * 20 + m.group(2), text)
