"""The 12333 platform's codes (代码表), as its interconnect specification spells them (docs/channels/12333.md)."""

from __future__ import annotations

from typing import Final

OK: Final = "0000"
"""fhm (返回码) of a successful answer."""

# sqlx (诉求类型) -> the normalized appeal type.
APPEAL_TYPES: Final[dict[str, str]] = {
    "01": "consultation",  # 咨询
    "02": "help",  # 求助
    "03": "complaint",  # 投诉
    "04": "report",  # 举报
    "05": "suggestion",  # 建议
    "06": "praise",  # 表扬
    "99": "other",  # 其他
}

# ywlb (业务类别) -> the 12345 platform's category for it (一级分类/二级分类).
BUSINESS_CATEGORIES: Final[dict[str, str]] = {
    "社会保险": "劳动和社会保障/社会保险",
    "劳动关系": "劳动和社会保障/劳动关系",
    "欠薪": "劳动和社会保障/欠薪",
    "就业": "劳动和社会保障/就业创业",
    "人才人事": "劳动和社会保障/人才人事",
}
DEFAULT_CATEGORY: Final = "劳动和社会保障"

# sqrlx (申请人类型)
APPLICANT_PERSON: Final = "1"  # 个人
APPLICANT_UNIT: Final = "2"  # 单位 (an enterprise appeal, 涉企诉求)

# zt (工单状态) <-> the gateway's status words. The platform reports its own status on every work order;
# the gateway pushes the 12345 platform's status back with the same codes.
STATUS_NAMES: Final[dict[str, str]] = {
    "10": "registered",  # 已登记
    "20": "accepted",  # 已受理
    "30": "dispatched",  # 已转办
    "35": "returned",  # 已退单
    "40": "extended",  # 已延期
    "50": "replied",  # 已答复
    "60": "closed",  # 已办结
    "70": "revisited",  # 已回访
}
STATUS_CODES: Final[dict[str, str]] = {name: code for code, name in STATUS_NAMES.items()}
# zt of a work order as huiju's status word for the platform's own progress; 10 (已登记) is only intake.
PROGRESS_STATUSES: Final[dict[str, str]] = {code: name for code, name in STATUS_NAMES.items() if code != "10"}

# sjlx (事件类型) of a feedback event.
EVENT_KINDS: Final[dict[str, str]] = {"status": "01", "reply": "02"}  # 01 状态变更, 02 答复

# fhm (返回码) of an error answer, and the HTTP status it comes with.
ERROR_CODES: Final[dict[str, tuple[int, str]]] = {
    "4000": (400, "请求参数错误"),
    "4001": (401, "鉴权失败"),
    "4003": (403, "无访问权限"),
    "4004": (404, "工单不存在"),
    "4013": (413, "请求体过大"),
    "4029": (429, "请求过于频繁"),
    "5000": (500, "系统内部错误"),
    "5003": (503, "系统维护中"),
}
