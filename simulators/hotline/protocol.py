"""The request bodies of the 12345 platform's interface, as the platform reads them (docs/platform12345.md).

Written out here rather than imported from huiju's normalizer or outbox: the simulator stands for the
platform's side of the contract, so a slip on huiju's side shows up as a refused request instead of being
shared. Unknown keys are refused (400), so that a field huiju sends under a wrong name is never silently lost.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

APPEAL_TYPES = ("consultation", "help", "complaint", "report", "suggestion", "praise", "other")
TIME_TIERS = ("2h", "24h", "7d", "15d")
EMERGENCY_SERVICES = ("110", "119", "120")
MODES = ("interconnect", "merged", "hotline_flow")
SUPERVISION_REASONS = ("overdue", "repeatedly_urged", "unsatisfied_revisit", "returned_twice")
FLAG_KINDS = ("supervision", "group_appeal")

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=1_000)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Citizen(_Strict):
    """Who made the appeal; personal data. Absent for a confidential appeal."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = None
    id_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")] | None = None


class Enterprise(_Strict):
    """The enterprise making an enterprise appeal (涉企诉求)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    credit_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$")] | None = None


class Location(_Strict):
    """Where the matter is."""

    address: Annotated[str, StringConstraints(min_length=1, max_length=1_000)] | None = None
    division_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    township: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class Appeal(_Strict):
    """One citizen appeal (诉求), as huiju normalized it."""

    appeal_id: Id
    source_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    channel_id: ChannelId
    mode: Literal["interconnect", "merged", "hotline_flow"]
    type: Literal["consultation", "help", "complaint", "report", "suggestion", "praise", "other"]
    title: Text
    content: Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
    received_at: AwareDatetime
    occurred_at: AwareDatetime | None = None
    time_tier: Literal["2h", "24h", "7d", "15d"]
    emergency: Literal["110", "119", "120"] | None = None
    confidential: bool
    citizen: Citizen | None = None
    enterprise: Enterprise | None = None
    location: Location
    category: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None

    @model_validator(mode="after")
    def _confidential_carries_no_identity(self) -> Appeal:
        if self.type == "report" and not self.confidential:
            raise _FieldError("confidential", "a report (举报) is always confidential")
        if self.confidential and self.citizen is not None:
            raise _FieldError("citizen", "must be absent or null for a confidential appeal")
        return self


class CreateWorkOrder(_Strict):
    """POST /api/v1/work-orders: a new case, from its first appeal."""

    case_id: Id
    appeal: Appeal

    @model_validator(mode="after")
    def _not_interconnect(self) -> CreateWorkOrder:
        if self.appeal.mode == "interconnect":
            raise _FieldError(
                "appeal.mode",
                "an interconnect record is dispatched by its own platform: POST /api/v1/shared-records",
            )
        return self


class AttachRepeat(_Strict):
    """POST /api/v1/work-orders/{work_order_no}/repeats: an appeal merged into the work order's case."""

    case_id: Id
    appeal: Appeal
    merged_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _not_interconnect(self) -> AttachRepeat:
        if self.appeal.mode == "interconnect":
            raise _FieldError(
                "appeal.mode", "an interconnect record is shared, not attached: POST /api/v1/shared-records"
            )
        return self


class MergeWorkOrder(_Strict):
    """POST /api/v1/work-orders/{work_order_no}/merge: an auditor found two cases to be one (工单合并)."""

    merge_id: Id
    case_id: Id
    into_work_order_no: Id
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ShareRecord(_Strict):
    """POST /api/v1/shared-records: a record of an interconnect channel, for information only."""

    case_id: Id
    appeal: Appeal
    work_order_no: Id | None = None

    @model_validator(mode="after")
    def _interconnect_with_source(self) -> ShareRecord:
        if self.appeal.mode != "interconnect":
            raise _FieldError("appeal.mode", "only interconnect records are shared; others become work orders")
        if self.appeal.source_id is None:
            raise _FieldError("appeal.source_id", "required: the record's number on its own platform")
        return self


class RaiseFlag(_Strict):
    """POST /api/v1/work-orders/{work_order_no}/flags: supervision (督办) or a group appeal (群体诉求)."""

    flag_id: Id
    kind: Literal["supervision", "group_appeal"]
    reason: Literal["overdue", "repeatedly_urged", "unsatisfied_revisit", "returned_twice"] | None = None
    cluster_id: Id | None = None
    related_work_order_nos: Annotated[list[Id], Field(max_length=1_000)] = []
    note: Note | None = None
    raised_at: AwareDatetime

    @model_validator(mode="after")
    def _kind_fields(self) -> RaiseFlag:
        if self.kind == "supervision":
            if self.reason is None:
                raise _FieldError("reason", "required for supervision")
            if self.cluster_id is not None or self.related_work_order_nos:
                raise _FieldError("cluster_id", "only for a group appeal")
        else:
            if self.reason is not None:
                raise _FieldError("reason", "only for supervision")
            if self.cluster_id is None:
                raise _FieldError("cluster_id", "required for a group appeal")
        return self


class ReturnWorkOrder(_Strict):
    """POST /api/v1/work-orders/{work_order_no}/returns: a merged channel's review rejected the reply."""

    return_id: Id
    case_id: Id
    appeal_id: Id
    channel_id: ChannelId
    comment: Text
    returned_at: AwareDatetime


class RecordUnit(_Strict):
    """The unit handling a shared record on its own platform."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UpdateSharedRecord(_Strict):
    """POST /api/v1/shared-records/{record_no}/updates: the record's progress on its own platform."""

    update_id: Id
    appeal_id: Id
    status: Literal["accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited"]
    at: AwareDatetime
    text: Annotated[str, StringConstraints(min_length=1, max_length=10_000)] | None = None
    unit: RecordUnit | None = None


class _FieldError(ValueError):
    """A rule across fields, naming the field it is about (relative to the model that raised it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


M = TypeVar("M", bound=BaseModel)


class BodyError(Exception):
    """A request body the platform refuses with 400: which field (dotted path, or None) and why."""

    def __init__(self, code: str, field: str | None, reason: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(reason)
        self.code = code
        self.field = field
        self.reason = reason
        self.errors = errors or [{"field": field, "reason": reason}]


def parse_body(model: type[M], body: bytes) -> tuple[M, Any]:
    """The validated model and the JSON document of a request body; BodyError naming the first bad field."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BodyError("invalid_json", None, f"body is not JSON in UTF-8: {e}") from None
    if not isinstance(doc, dict):
        raise BodyError("invalid_json", None, "body must be a JSON object")
    try:
        return model.model_validate_json(body), doc
    except ValidationError as e:
        errors = [_describe(x) for x in e.errors(include_url=False)]
        first = errors[0]
        raise BodyError(
            "validation_failed", first["field"], f"{first['field']}: {first['reason']}", errors
        ) from None


def _describe(error: Any) -> dict[str, Any]:
    """One pydantic error as {field, reason}, with the dotted path of the field (list items by index)."""
    loc = [str(part) for part in error["loc"]]
    context = error.get("ctx", {}).get("error")
    if isinstance(context, _FieldError):
        # A cross-field rule: the location is the model, the field is named by the rule.
        path = ".".join([*loc, context.field])
        return {"field": path, "reason": context.message}
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown field"
    elif error["type"] == "missing":
        reason = "required"
    return {"field": ".".join(loc) or None, "reason": reason}


def canonical(doc: Any) -> str:
    """A JSON document written one way: what two requests must share to be the same request."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
