"""Appeals as they leave the gateway for people (CLI, exports): personal data masked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.masking import mask_id_number, mask_openid, mask_phone, mask_text

_MASKERS = {"phone": mask_phone, "id_number": mask_id_number, "openid": mask_openid, "unionid": mask_openid}
_FREE_TEXT = ("title", "content", "address", "tier_reason")


def appeal_export(row: Mapping[str, Any]) -> dict[str, Any]:
    """An appeal row with phone, ID number and WeChat ids masked (in their fields and in free text).

    A confidential appeal also hides the citizen's name and channel user id.
    """
    out = {k: (str(v) if k in ("id", "case_id") else v) for k, v in row.items()}
    for key, masker in _MASKERS.items():
        if out.get(key):
            out[key] = masker(out[key])
    for key in _FREE_TEXT:
        if isinstance(out.get(key), str):
            out[key] = mask_text(out[key])
    if out.get("confidential"):
        for key in ("citizen_name", "user_id"):
            if out.get(key):
                out[key] = "(confidential)"
    return out
