"""The generic API channel's protocol in names and values: signature headers, event statuses, answers.

Both directions are signed alike: HMAC-SHA256 with the channel secret over `<unix seconds>.<body>`
(`core.signing.sign_body`). See docs/channels/api.md.
"""

from __future__ import annotations

from datetime import timedelta, timezone

TIMESTAMP_HEADER = "X-Huiju-Timestamp"
SIGNATURE_HEADER = "X-Huiju-Signature"

BEIJING = timezone(timedelta(hours=8), "+08:00")
"""Every event time is written at +08:00 (a fixed offset: Asia/Shanghai had summer time in 1986-1991)."""

KINDS = ("status", "reply")
STATUSES = {
    "accepted": "签收",
    "dispatched": "派单",
    "returned": "退单",
    "extended": "延期",
    "replied": "答复",
    "closed": "办结",
    "revisited": "回访",
}
"""Every status an event can carry, with its Chinese name."""

EVENT_FIELDS = ("event_id", "source_id", "kind", "status", "at", "text", "unit", "extra")
"""The fields of a callback body, in the order huiju writes them."""

ANSWERS = ("received", "duplicate")
"""The `status` of the channel's 200 answer: a new event id, or one it has seen before."""
