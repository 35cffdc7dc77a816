"""The generic API channel's connector: settings, the mapping from its JSON to a draft, and the return path."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from connectors.api.callback import CallbackHeaders, callback_body, parse_answer
from connectors.base import DeliveringConnector, MappingError, OutboundEvent, Receipt
from core.errors import PermanentError
from normalizer.record import AppealDraft

TOP_LEVEL = {
    "source_id",
    "type",
    "title",
    "content",
    "occurred_at",
    "citizen",
    "confidential",
    "enterprise",
    "location",
    "category",
    "attachments",
    "extra",
}
CITIZEN = {
    "name": "citizen_name",
    "phone": "phone",
    "id_number": "id_number",
    "openid": "openid",
    "unionid": "unionid",
    "user_id": "user_id",
}
ENTERPRISE = {"name": "enterprise_name", "credit_code": "credit_code"}
LOCATION = {
    "address": "address",
    "division_code": "division_code",
    "township": "township",
    "lat": "lat",
    "lon": "lon",
}


class ApiSettings(BaseModel):
    """[channels.settings] for kind "api"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: str = Field(min_length=16, description="shared HMAC-SHA256 secret; write it as ${ENV_VAR}")
    callback_url: str | None = Field(
        None, pattern=r"^https?://", description="where status and replies are POSTed back; none: not sent"
    )


class ApiConnector(DeliveringConnector):
    """Receives signed JSON appeals at POST /api/v1/channels/{id}/appeals; POSTs status and replies back.

    The kind can deliver, but a channel instance does so only when it has a callback_url: ask
    `delivers_now()`.
    """

    kind: ClassVar[str] = "api"
    Settings: ClassVar[type[BaseModel]] = ApiSettings
    receives: ClassVar[bool] = True

    def map(self, payload: str) -> AppealDraft:
        """Map the documented appeal object to a draft; unknown keys are kept as warnings, not errors."""
        return map_appeal(payload)

    async def check(self) -> None:
        """Nothing to call: the channel pushes to us, and its secret was validated with the config."""

    def delivers_now(self) -> bool:
        """Whether this channel instance takes status and replies back: only with a callback_url."""
        return self.settings.callback_url is not None

    async def deliver(self, event: OutboundEvent) -> Receipt:
        """POST one signed event to the callback_url; the channel answers a seen event id as a duplicate."""
        if self.settings.callback_url is None:
            raise PermanentError(
                f"channel {self.channel.id} has no callback_url: it takes no status or replies back"
            )
        body = callback_body(event)
        response = await self.http.request(
            "POST",
            self.settings.callback_url,
            headers=CallbackHeaders(self.settings.secret, body),  # type: ignore[arg-type]  # read per attempt
            data=body,
        )
        return parse_answer(response.body)


def map_appeal(payload: str) -> AppealDraft:
    """The generic appeal JSON (see docs/channels/api.md) as a draft."""
    try:
        doc = json.loads(payload)
    except (json.JSONDecodeError, RecursionError) as e:
        raise MappingError(f"body is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise MappingError("body must be a JSON object")
    if doc.get("source_id") in (None, ""):
        raise MappingError("source_id: required")
    fields: dict[str, Any] = {"source_id": doc["source_id"]}
    sources: dict[str, str] = {}
    warnings = [f"{k}: unknown field ignored" for k in sorted(set(doc) - TOP_LEVEL)]
    for key, target in (
        ("type", "type"),
        ("title", "title"),
        ("content", "content"),
        ("occurred_at", "occurred_at"),
        ("confidential", "confidential"),
        ("category", "channel_category"),
        ("attachments", "attachments"),
    ):
        if key in doc:
            fields[target] = doc[key]
            sources[target] = f"payload.{key}"
    for key, table in (("citizen", CITIZEN), ("enterprise", ENTERPRISE), ("location", LOCATION)):
        sub = doc.get(key)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            raise MappingError(f"{key}: must be an object")
        for name, target in table.items():
            if name in sub:
                fields[target] = sub[name]
                sources[target] = f"payload.{key}.{name}"
        warnings += [f"{key}.{k}: unknown field ignored" for k in sorted(set(sub) - set(table))]
        if key == "enterprise":
            fields["enterprise"] = True
    extra = doc.get("extra") or {}
    if not isinstance(extra, dict):
        raise MappingError("extra: must be an object")
    return AppealDraft(**fields, extra=extra, sources=sources, warnings=warnings)
