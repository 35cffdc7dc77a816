"""`normalize()`: an `AppealDraft` in, a validated `AppealRecord` out, or `NormalizationError`.

A draft is rejected only when the appeal is unusable (no source id, no text, wrong shapes); a doubtful optional
value (phone, ID number, credit code, coordinates, ...) is dropped with a warning instead. Normalizing the
draft of a record gives the record back (`normalize(rec.to_draft(), ctx) == rec`), so quarantined items can be
retried and rules changed safely.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from normalizer.dates import SHANGHAI, parse_datetime
from normalizer.fields import (
    FieldError,
    check_credit_code,
    check_division_code,
    check_id_number,
    normalize_phone,
    parse_latitude,
    parse_longitude,
)
from normalizer.record import (
    AppealDraft,
    AppealRecord,
    AppealType,
    Attachment,
    Citizen,
    Enterprise,
    IntegrationMode,
    Location,
    MatchText,
)
from normalizer.rules import DEFAULT_RULES, Rules, classify
from normalizer.text import clean_text, fold_for_matching, repair_text

__all__ = ["NormalizationError", "NormalizeContext", "normalize", "parse_appeal_type"]

SOURCE_ID_MAX = 128
TITLE_MAX = 1_000
CONTENT_MAX = 100_000
DERIVED_TITLE_LENGTH = 30
ATTACHMENTS_MAX = 100
URL_MAX = 2_048
EXTRA_DEPTH_MAX = 16
EXTRA_NODES_MAX = 10_000
_INT64 = 2**63

# Optional text fields and their limits; the short ones match the column sizes of the appeals table.
_TEXT_LIMITS = {
    "citizen_name": ("citizen.name", 100),
    "openid": ("citizen.openid", 64),
    "unionid": ("citizen.unionid", 64),
    "user_id": ("citizen.user_id", 128),
    "enterprise_name": ("enterprise.name", 500),
    "address": ("location.address", 1_000),
    "township": ("location.township", 100),
    "channel_category": ("channel_category", 500),
    "category": ("category", 500),
}

_TYPE_LABELS: dict[str, AppealType] = {
    "咨询": AppealType.CONSULTATION,
    "询问": AppealType.CONSULTATION,
    "查询": AppealType.CONSULTATION,
    "求助": AppealType.HELP,
    "需求": AppealType.HELP,
    # 求决: asking for a problem to be solved, which is what a help request is.
    "求决": AppealType.HELP,
    "投诉": AppealType.COMPLAINT,
    # 反映 (反映问题): raising something that is wrong, handled as a complaint.
    "反映": AppealType.COMPLAINT,
    "举报": AppealType.REPORT,
    "检举": AppealType.REPORT,
    "揭发": AppealType.REPORT,
    # A combined 投诉举报 label may hide a whistle-blower, so it errs towards confidentiality.
    "投诉举报": AppealType.REPORT,
    "建议": AppealType.SUGGESTION,
    "意见建议": AppealType.SUGGESTION,
    "建言献策": AppealType.SUGGESTION,
    "表扬": AppealType.PRAISE,
    "感谢": AppealType.PRAISE,
    "致谢": AppealType.PRAISE,
    "其他": AppealType.OTHER,
    "其它": AppealType.OTHER,
} | {t.value: t for t in AppealType}

_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "off"})


class NormalizationError(ValueError):
    """The draft cannot become an appeal record; `str(e)` is "<field>: <reason>"."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class NormalizeContext:
    """What the gateway knows about a draft besides its content."""

    appeal_id: str
    channel_id: str
    mode: IntegrationMode
    received_at: datetime  # aware
    raw_ref: str

    def __post_init__(self) -> None:
        if not isinstance(self.mode, IntegrationMode):
            raise TypeError(f"mode must be an IntegrationMode, got {self.mode!r}")
        if not isinstance(self.received_at, datetime) or self.received_at.utcoffset() is None:
            raise ValueError("received_at must be an aware datetime")


def parse_appeal_type(value: Any) -> AppealType | None:
    """The appeal type for a Chinese label (咨询, 意见建议, 求决 ...) or an English code; None if unknown."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    return _appeal_type_of_label(value)


@functools.lru_cache(maxsize=1024)
def _appeal_type_of_label(value: str) -> AppealType | None:
    """The appeal type for one label; channels use a handful of labels, so results are kept."""
    label = fold_for_matching(value).replace(" ", "")
    if label not in _TYPE_LABELS and label.endswith("类"):
        label = label[:-1]
    return _TYPE_LABELS.get(label)


def normalize(
    draft: AppealDraft, ctx: NormalizeContext, rules: Rules = DEFAULT_RULES, *, now: datetime | None = None
) -> AppealRecord:
    """The validated record for a draft; raises NormalizationError (and nothing else) when it is unusable."""
    try:
        return _Normalizer(draft, ctx, rules, now or datetime.now(UTC)).record()
    except NormalizationError:
        raise
    except Exception as e:
        # The contract with the ingest pipeline is one exception type: whatever slips through becomes a
        # quarantine reason instead of aborting the caller's batch.
        raise NormalizationError("draft", f"internal error {type(e).__name__}") from e


def _short(value: Any) -> str:
    """A short, safe rendering of a doubtful value for a warning."""
    text = repair_text(value) if isinstance(value, str) else type(value).__name__
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _int_text(value: int) -> str | None:
    """Decimal text for an int of sane size (int-to-str of huge values is slow and raises)."""
    return str(value) if value.bit_length() <= 256 else None


def _derive_title(content: str) -> str:
    """The first characters of the content on one line, with an ellipsis when cut."""
    line = " ".join(content.split())
    if len(line) <= DERIVED_TITLE_LENGTH:
        return line
    return line[:DERIVED_TITLE_LENGTH].rstrip() + "…"


class _Normalizer:
    """One normalization: the draft, the warnings so far and the sources of the fields kept."""

    def __init__(self, draft: AppealDraft, ctx: NormalizeContext, rules: Rules, now: datetime) -> None:
        if not isinstance(draft, AppealDraft):
            raise NormalizationError("draft", f"expected an AppealDraft, got {type(draft).__name__}")
        self.draft = draft
        self.ctx = ctx
        self.rules = rules
        self.now = now
        self.warnings: dict[str, None] = dict.fromkeys(self._draft_warnings())
        self.given_sources = self._draft_sources()
        self.sources: dict[str, str] = {}

    def _draft_warnings(self) -> list[str]:
        """The connector's warnings, which come first in the record's."""
        warnings = self.draft.warnings
        if warnings is None:
            return []
        if not isinstance(warnings, list | tuple) or not all(isinstance(w, str) for w in warnings):
            raise NormalizationError("warnings", "must be a list of strings")
        return [repair_text(w) for w in warnings]

    def _draft_sources(self) -> dict[str, str]:
        """The connector's field sources, checked."""
        sources = self.draft.sources
        if sources is None:
            return {}
        if not isinstance(sources, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sources.items()
        ):
            raise NormalizationError("sources", "must map field names to strings")
        # "rule:" marks what the rules derive; `to_draft()` drops those entries so they are recomputed, so a
        # draft's own "rule:" entry is ignored too (keeping it would not survive a round trip).
        return {k: repair_text(v) for k, v in sources.items() if not v.startswith("rule:")}

    def warn(self, field: str, reason: str) -> None:
        """Record a doubtful value that was dropped or replaced."""
        self.warnings.setdefault(f"{field}: {reason}", None)

    def keep(self, name: str, value: Any, derived: str | None = None) -> Any:
        """Note where a kept value came from: the draft's own source, or `derived` when it was derived."""
        if value is not None:
            self.sources[name] = derived or self.given_sources.get(name, f"payload.{name}")
        return value

    # -- required fields ---------------------------------------------------------------------------------

    def source_id(self) -> str:
        """The channel's id for the appeal: required, text or an integer, at most 128 characters."""
        value = self.draft.source_id
        if value is None:
            raise NormalizationError("source_id", "missing")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise NormalizationError("source_id", f"must be text or an integer, got {type(value).__name__}")
        text = _int_text(value) if isinstance(value, int) else value.strip()
        if text is None:
            raise NormalizationError("source_id", "integer too large")
        if not text:
            raise NormalizationError("source_id", "missing")
        if len(text) > SOURCE_ID_MAX:
            raise NormalizationError("source_id", f"longer than {SOURCE_ID_MAX} characters")
        if repair_text(text) != text:
            raise NormalizationError("source_id", "contains NUL or unpaired surrogates")
        return self.keep("source_id", text)

    def main_text(self, name: str, limit: int) -> str | None:
        """Title or content, cleaned; None when empty, NormalizationError when not text or too long."""
        value = getattr(self.draft, name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise NormalizationError(name, f"must be text, got {type(value).__name__}")
        text = clean_text(value)
        if len(text) > limit:
            raise NormalizationError(name, f"longer than {limit:,} characters ({len(text):,})")
        return text or None

    # -- optional fields ---------------------------------------------------------------------------------

    def text(self, name: str) -> str | None:
        """An optional text field, cleaned; dropped with a warning when not text or too long."""
        path, limit = _TEXT_LIMITS[name]
        value = getattr(self.draft, name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = _int_text(value) or value
        if not isinstance(value, str):
            self.warn(path, f"expected text, got {type(value).__name__}; dropped")
            return None
        text = clean_text(value)
        if len(text) > limit:
            self.warn(path, f"longer than {limit} characters; dropped")
            return None
        return self.keep(name, text or None)

    def checked(self, name: str, check: Callable[..., Any], path: str) -> Any:
        """An optional field through its validator; dropped with a warning when the validator refuses it."""
        value = getattr(self.draft, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            result = check(value, field=path)
        except FieldError as e:
            self.warn(e.field, f"{e.reason}; dropped")
            return None
        return self.keep(name, result)

    def flag(self, name: str) -> bool | None:
        """A yes/no field (confidential, enterprise); None when absent or unreadable (with a warning)."""
        value = self.draft.confidential if name == "confidential" else self.draft.enterprise
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = unicodedata.normalize("NFKC", value).strip().lower()
            if not word:
                return None
            if word in _TRUE or word in _FALSE:
                return word in _TRUE
        self.warn(name, f"not a yes/no value {_short(value)}; default used")
        return None

    def appeal_type(self) -> AppealType:
        """The appeal type; OTHER when missing, OTHER with a warning when unknown."""
        value = self.draft.type
        if value is None or (isinstance(value, str) and not value.strip()):
            return self.keep("type", AppealType.OTHER, "derived:default")
        kind = parse_appeal_type(value)
        if kind is None:
            self.warn("type", f"unknown type {_short(value)}; other used")
            kind = AppealType.OTHER
        return self.keep("type", kind)

    def occurred_at(self) -> datetime | None:
        """When the matter happened, in UTC; dropped with a warning when unreadable or in the future."""
        value = self.draft.occurred_at
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            moment = parse_datetime(value, now=self.now, field="occurred_at")
        except FieldError as e:
            self.warn(e.field, f"{e.reason}; dropped")
            return None
        return self.keep("occurred_at", moment)

    def citizen(self) -> Citizen:
        """Who made the appeal, phone and ID number verified."""
        today = self.now.astimezone(SHANGHAI).date()
        return Citizen(
            name=self.text("citizen_name"),
            phone=self.checked("phone", normalize_phone, "citizen.phone"),
            id_number=self.checked(
                "id_number", lambda v, field: check_id_number(v, today=today, field=field), "citizen.id_number"
            ),
            openid=self.text("openid"),
            unionid=self.text("unionid"),
            user_id=self.text("user_id"),
        )

    def confidential(self, kind: AppealType) -> bool:
        """Whether the appellant's identity is protected: always for a report, else as the channel says."""
        flag = self.flag("confidential")
        if kind is AppealType.REPORT:
            # A whistle-blower is protected whatever the channel says (DOMAIN.md, confidentiality).
            return self.keep("confidential", True, None if flag is True else "derived:type")
        if flag is None:
            return self.keep("confidential", False, "derived:type")
        return self.keep("confidential", flag)

    def enterprise(self) -> Enterprise | None:
        """The enterprise, when flagged or when a name or a valid credit code is given."""
        flag = self.flag("enterprise")
        name = self.text("enterprise_name")
        code = self.checked("credit_code", check_credit_code, "enterprise.credit_code")
        if flag:
            self.keep("enterprise", True)
        elif code or name:
            self.keep("enterprise", True, "derived:credit_code" if code else "derived:enterprise_name")
        else:
            return None
        return Enterprise(name=name, credit_code=code)

    def location(self) -> Location:
        """Where the matter is; coordinates only as a plausible pair."""
        lat = self.checked("lat", parse_latitude, "location.lat")
        lon = self.checked("lon", parse_longitude, "location.lon")
        if (lat is None) != (lon is None):
            self.warn("location", "one coordinate without the other; dropped")
            lat = lon = None
        elif lat == 0 and lon == 0:
            self.warn("location", "0,0 is a placeholder, not a place; dropped")
            lat = lon = None
        if lat is None:
            self.sources.pop("lat", None)
            self.sources.pop("lon", None)
        return Location(
            address=self.text("address"),
            division_code=self.checked("division_code", check_division_code, "location.division_code"),
            township=self.text("township"),
            lat=lat,
            lon=lon,
        )

    def attachments(self) -> tuple[Attachment, ...]:
        """The attachments; NormalizationError unless a list of objects with a url."""
        value = self.draft.attachments
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise NormalizationError("attachments", f"must be a list, got {type(value).__name__}")
        if len(value) > ATTACHMENTS_MAX:
            raise NormalizationError("attachments", f"more than {ATTACHMENTS_MAX}")
        result = tuple(self.attachment(i, item) for i, item in enumerate(value))
        return self.keep("attachments", result or None) or ()

    def attachment(self, i: int, item: Any) -> Attachment:
        """One attachment; doubtful details are dropped with a warning, a missing url is fatal."""
        path = f"attachments[{i}]"
        if isinstance(item, Attachment):
            item = {"url": item.url, "media_type": item.media_type, "size": item.size, "sha256": item.sha256}
        if not isinstance(item, Mapping):
            raise NormalizationError(path, f"must be an object with a url, got {type(item).__name__}")
        url = item.get("url")
        url = repair_text(url).strip() if isinstance(url, str) else None
        if not url:
            raise NormalizationError(path, "has no url")
        if len(url) > URL_MAX:
            raise NormalizationError(path, f"url longer than {URL_MAX} characters")
        if unknown := [k for k in item if k not in ("url", "media_type", "size", "sha256")]:
            names = sorted(repair_text(k[:40]) if isinstance(k, str) else f"<{type(k).__name__}>" for k in unknown)
            self.warn(path, f"ignored {', '.join(names)[:80]}")
        return Attachment(
            url=url,
            media_type=self.attachment_media_type(path, item.get("media_type")),
            size=self.attachment_size(path, item.get("size")),
            sha256=self.attachment_sha256(path, item.get("sha256")),
        )

    def attachment_media_type(self, path: str, value: Any) -> str | None:
        """A media type, lower-cased."""
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 255:
            self.warn(f"{path}.media_type", "not a media type; dropped")
            return None
        return repair_text(value).strip().lower() or None

    def attachment_size(self, path: str, value: Any) -> int | None:
        """A size in bytes, from an integer or digits."""
        if value is None:
            return None
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip()) if len(value.strip()) < 19 else -1
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _INT64:
            self.warn(f"{path}.size", "not a byte count; dropped")
            return None
        return value

    def attachment_sha256(self, path: str, value: Any) -> str | None:
        """A SHA-256 digest as lower-case hex."""
        if value is None:
            return None
        digest = value.strip().lower() if isinstance(value, str) else ""
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            self.warn(f"{path}.sha256", "not a SHA-256 hex digest; dropped")
            return None
        return digest

    def extra(self) -> dict[str, Any]:
        """A JSON-storable copy of the channel-specific details."""
        value = self.draft.extra
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise NormalizationError("extra", f"must be an object, got {type(value).__name__}")
        budget = [EXTRA_NODES_MAX]
        result = _json_object(value, "extra", 0, budget)
        return self.keep("extra", result or None) or {}

    # -- the record ----------------------------------------------------------------------------------------

    def record(self) -> AppealRecord:
        """The whole record, field by field."""
        source_id = self.source_id()
        title = self.main_text("title", TITLE_MAX)
        content = self.main_text("content", CONTENT_MAX)
        if title is None and content is None:
            raise NormalizationError("content", "no title and no content")
        if title is None:
            title = self.keep("title", _derive_title(content), "derived:content")
        else:
            self.keep("title", title)
        if content is None:
            content = self.keep("content", title, "derived:title")
        else:
            self.keep("content", content)
        kind = self.appeal_type()
        occurred_at = self.occurred_at()
        citizen = self.citizen()
        confidential = self.confidential(kind)
        enterprise = self.enterprise()
        location = self.location()
        channel_category = self.text("channel_category")
        category = self.text("category")
        attachments = self.attachments()
        extra = self.extra()
        match = MatchText(fold_for_matching(title), fold_for_matching(content))
        tier = classify(self.rules, f"{match.title}\n{match.content}", (channel_category, category))
        self.sources["time_tier"] = f"rule:{tier.rule or 'default'}"
        if tier.emergency is not None:
            self.sources["emergency"] = f"rule:{tier.rule}"
        return AppealRecord(
            id=self.ctx.appeal_id,
            channel_id=self.ctx.channel_id,
            source_id=source_id,
            mode=self.ctx.mode,
            received_at=self.ctx.received_at.astimezone(UTC),
            occurred_at=occurred_at,
            type=kind,
            title=title,
            content=content,
            citizen=citizen,
            confidential=confidential,
            enterprise=enterprise,
            location=location,
            channel_category=channel_category,
            category=category,
            time_tier=tier.tier,
            tier_reason=tier.reason,
            emergency=tier.emergency,
            attachments=attachments,
            raw_ref=self.ctx.raw_ref,
            sources=self.sources,
            extra=extra,
            warnings=tuple(self.warnings),
            match=match,
        )


def _json_value(value: Any, path: str, depth: int, budget: list[int]) -> Any:
    """A JSON-storable copy of a value inside `extra`; NormalizationError for anything else."""
    budget[0] -= 1
    if budget[0] < 0:
        raise NormalizationError("extra", f"more than {EXTRA_NODES_MAX:,} values")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise NormalizationError(path, "integer outside the 64-bit range")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NormalizationError(path, "NaN and infinity cannot be stored as JSON")
        return float(value)
    if isinstance(value, str):
        return repair_text(value)
    if depth >= EXTRA_DEPTH_MAX:
        raise NormalizationError(path, f"nested deeper than {EXTRA_DEPTH_MAX} levels")
    if isinstance(value, Mapping):
        return _json_object(value, path, depth, budget)
    if isinstance(value, list | tuple):
        return [_json_value(v, f"{path}[{i}]", depth + 1, budget) for i, v in enumerate(value)]
    raise NormalizationError(path, f"{type(value).__name__} is not JSON data")


def _json_object(value: Mapping[Any, Any], path: str, depth: int, budget: list[int]) -> dict[str, Any]:
    """A JSON-storable copy of a mapping with text keys."""
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise NormalizationError(path, f"keys must be text, found {type(key).__name__}")
        key = repair_text(key)
        result[key] = _json_value(item, f"{path}.{key[:40]}", depth + 1, budget)
    return result
