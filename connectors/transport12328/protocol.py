"""The 12328 interconnect as the platform defines it: paths, parameter names, enumerations, error codes.

12328 (交通运输服务监督电话) is the transport hotline of the 交通运输局. Its interconnect is a snake_case JSON
REST service; every time is ISO 8601 with an offset (the platform writes +08:00). See docs/channels/12328.md.
"""

from __future__ import annotations

from datetime import timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "+08:00")
"""The platform writes every time at +08:00 and accepts any offset."""

TICKETS_PATH = "/v2/tickets"
EVENTS_PATH = "/v2/tickets/{ticket_id}/events"
HEALTH_AUTH_PATH = "/v2/health/auth"

# Poll parameters: GET /v2/tickets?since=<ISO 8601>&after=<ticket id>&limit=<n>
SINCE = "since"
AFTER = "after"
LIMIT = "limit"

KINDS: dict[str, str] = {
    "complaint": "投诉",
    "consultation": "咨询",
    "suggestion": "建议",
    "help": "求助",
    "praise": "表扬",
    "report": "举报",
}
"""`kind`: the appeal type, spelled as huiju's own appeal types (normalizer.record.AppealType)."""

CATEGORIES: dict[str, str] = {
    "taxi": "出租汽车",
    "ride_hailing": "网络预约出租汽车",
    "bus": "城市公共汽电车",
    "road": "公路",
    "rail": "城市轨道交通",
    "waterway": "水路运输",
    "other": "其他",
}
"""`category`: the transport mode the ticket is about, with the label huiju gives it (交通运输/<label>)."""

CATEGORY_PREFIX = "交通运输/"

TICKET_STATUSES: dict[str, str] = {
    "received": "已受理",
    "assigned": "已转办",
    "processing": "办理中",
    "returned": "已退回",
    "extended": "已延期",
    "replied": "已答复",
    "closed": "已办结",
    "revisited": "已回访",
}
"""`status` of a ticket at the platform: huiju keeps it in extra and reads the ticket's progress from it."""

TICKET_PROGRESS: dict[str, str] = {
    "received": "accepted",
    "assigned": "dispatched",
    "processing": "dispatched",  # the unit it was assigned to is working on it: still with that unit
    "returned": "returned",
    "extended": "extended",
    "replied": "replied",
    "closed": "closed",
    "revisited": "revisited",
}
"""A ticket `status` as huiju's status word for the platform's own progress (every status has one)."""

INTAKE_CHANNELS: dict[str, str] = {
    "phone": "12328电话",
    "web": "网站",
    "wechat": "微信公众号",
    "app": "手机应用",
}
"""`channel`: how the caller reached 12328 (informational; huiju keeps it in extra)."""

EVENT_TYPES = ("status", "reply")

EVENT_STATUSES: dict[str, str] = {
    "accepted": "已受理",
    "dispatched": "已派单",
    "returned": "已退单",
    "extended": "已延期",
    "replied": "已答复",
    "closed": "已办结",
    "revisited": "已回访",
}
"""`status` of an event pushed back by huiju: the 12345 platform's progress on the ticket."""

ERROR_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
"""`error.code` for each HTTP status the platform answers with (string enum)."""
