"""The normalized appeal record: the one shape every channel maps to.

A connector maps a channel's payload into an `AppealDraft` (loose, as the channel said it, with the path each
field came from); `normalize()` turns a draft into an `AppealRecord` (validated, typed, with derived fields).
`AppealRecord.to_draft()` gives back a draft that normalizes to the same record, which is what makes
re-normalizing (quarantine retry, rule changes) safe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AppealType(StrEnum):
    """诉求类型: how the appeal is handled."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助 (also 需求, a request)
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报 (whistle-blowing; confidential by default)
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬
    OTHER = "other"  # 其他


class TimeTier(StrEnum):
    """Handling time limit (办理时限) for the case."""

    H2 = "2h"  # emergencies, risks to life or property
    H24 = "24h"  # water, power, gas, heating (水电气热)
    D7 = "7d"  # ordinary matters
    D15 = "15d"  # complex matters


class IntegrationMode(StrEnum):
    """How a channel is joined to the 12345 platform (Ruijin plan, annex 2)."""

    INTERCONNECT = "interconnect"  # 系统互联互通、信息共享
    MERGED = "merged"  # 平台融合，完全并入
    HOTLINE_FLOW = "hotline_flow"  # 按热线系统转办、回复流程


class EmergencyService(StrEnum):
    """Where an emergency belongs: one-click transfer, never queued."""

    POLICE = "110"
    FIRE = "119"
    AMBULANCE = "120"


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who made the appeal. Personal data: masked in logs and exports."""

    name: str | None = None
    phone: str | None = None  # E.164, e.g. +8613812345678
    id_number: str | None = None  # 18-character resident ID, check digit verified (GB 11643)
    openid: str | None = None  # WeChat openid (per official account)
    unionid: str | None = None  # WeChat unionid (across one developer's apps)
    user_id: str | None = None  # the channel's own user id (e.g. a message-board account)


@dataclass(frozen=True, slots=True)
class Enterprise:
    """The enterprise making an enterprise appeal (涉企诉求); a business complained about goes in `extra`."""

    name: str | None = None
    credit_code: str | None = None  # unified social credit code, check character verified (GB 32100)


@dataclass(frozen=True, slots=True)
class Location:
    """Where the matter is."""

    address: str | None = None
    division_code: str | None = None  # 6-digit administrative division code (GB/T 2260)
    township: str | None = None  # 乡镇/街道
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the citizen attached, by reference."""

    url: str
    media_type: str | None = None
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class MatchText:
    """Title and content folded for matching (NFKC, collapsed whitespace, simplified); never shown."""

    title: str
    content: str


@dataclass(frozen=True, slots=True)
class AppealRecord:
    """A validated appeal, as stored in the `appeals` table."""

    id: str
    channel_id: str
    source_id: str
    mode: IntegrationMode
    received_at: datetime  # aware, UTC
    occurred_at: datetime | None  # aware, UTC
    type: AppealType
    title: str
    content: str
    citizen: Citizen
    confidential: bool
    enterprise: Enterprise | None  # set when this is an enterprise appeal (涉企诉求)
    location: Location
    channel_category: str | None  # the channel's own category, verbatim
    category: str | None  # the mapped category
    time_tier: TimeTier
    tier_reason: str
    emergency: EmergencyService | None
    attachments: tuple[Attachment, ...]
    raw_ref: str  # the raw inbox item this came from
    sources: dict[str, str]  # field -> where its value came from ("payload.mobile", "rule:utilities")
    extra: dict[str, Any]  # channel-specific details (amount involved, plate number, ...)
    warnings: tuple[str, ...]  # what was dropped or doubtful, e.g. "citizen.id_number: bad check digit"
    match: MatchText

    def to_draft(self) -> AppealDraft:
        """A draft that normalizes back to this record."""
        return AppealDraft(
            source_id=self.source_id,
            occurred_at=self.occurred_at.isoformat() if self.occurred_at else None,
            type=self.type.value,
            title=self.title,
            content=self.content,
            citizen_name=self.citizen.name,
            phone=self.citizen.phone,
            id_number=self.citizen.id_number,
            openid=self.citizen.openid,
            unionid=self.citizen.unionid,
            user_id=self.citizen.user_id,
            confidential=self.confidential,
            enterprise=self.enterprise is not None,
            enterprise_name=self.enterprise.name if self.enterprise else None,
            credit_code=self.enterprise.credit_code if self.enterprise else None,
            address=self.location.address,
            division_code=self.location.division_code,
            township=self.location.township,
            lat=self.location.lat,
            lon=self.location.lon,
            channel_category=self.channel_category,
            category=self.category,
            attachments=[dataclasses.asdict(a) for a in self.attachments],
            extra=dict(self.extra),
            sources={k: v for k, v in self.sources.items() if not v.startswith("rule:")},
            warnings=list(self.warnings),
        )


@dataclass(slots=True)
class AppealDraft:
    """An appeal as a channel said it: loose types, every field optional but the source id.

    Values may be strings, numbers or None as the payload had them; `normalize()` validates them.
    `sources` records where each field came from (a path in the payload); fields the connector does not
    name are attributed to "payload.<field>".
    """

    source_id: Any
    occurred_at: Any = None
    type: Any = None  # 咨询/投诉/... or an English code or a channel code the connector mapped
    title: Any = None
    content: Any = None
    citizen_name: Any = None
    phone: Any = None
    id_number: Any = None
    openid: Any = None
    unionid: Any = None
    user_id: Any = None
    confidential: Any = None  # None: default (on for 举报)
    enterprise: Any = None  # None: on when a credit code or enterprise name is given
    enterprise_name: Any = None
    credit_code: Any = None
    address: Any = None
    division_code: Any = None
    township: Any = None
    lat: Any = None
    lon: Any = None
    channel_category: Any = None
    category: Any = None
    attachments: Any = None  # list of {url, media_type, size, sha256}
    extra: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # carried from a mapping step
