"""An Open311 GeoReport v2 server as huiju's target (docs/targets/open311.md).

GeoReport v2 knows one thing huiju does: a service request, created by a form POST and read back by its id.

- A case's first appeal becomes a service request; its description ends with a marker line carrying the case
  id (`[huiju-case:<case id>]`), so the request can be found again. Repeats, flags, returns and shared records
  cannot be said in GeoReport v2: those messages are skipped, with the reason.
- GeoReport v2 has no idempotency key. The POST is sent once per attempt (never retried inside the call), and a
  resend first looks for the request an earlier attempt may have created, by the marker, before it creates one.
- GeoReport v2 has no events. They are synthesised from each request's state, statelessly: the rungs
  accepted → dispatched → replied → closed that the state has reached, with stable ids.

Most Open311 servers publish every request's description to anyone (GET /requests.json needs no key), so the
text of every appeal is scrubbed of the citizen's own identifiers (sync/render.py); the name and phone go only in
the fields the spec never publishes, and not at all for a confidential appeal (every 举报).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, quote_plus, urlencode

from core.config import Open311Settings, PlatformSettings
from core.errors import ChannelError, PermanentError, TransientError
from core.http import HttpClient
from sync.render import SHANGHAI, identifiers, scrub
from sync.targets.base import (
    ATTACH_REPEAT,
    CREATE_WORK_ORDER,
    DETACH_REPEAT,
    MERGE_WORK_ORDER,
    RAISE_FLAG,
    RETURN_REPLY,
    SHARE_RECORD,
    UPDATE_SHARED_RECORD,
    EventPage,
    FrozenRequest,
    RenderContext,
    Skip,
    Target,
)

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded; charset=utf-8"
CREATE_PATH = "/requests.json"
DESCRIPTION_MAX = 4_000  # characters, by the spec
MARKER = re.compile(r"\[huiju-case:([0-9A-Za-z][0-9A-Za-z-]{0,63})\]")
WORK_ORDER_NO_MAX = 64  # huiju stores a work order number in 64 characters
IDS_PER_QUERY = 50  # service_request_ids in one GET /requests.json: a URL well under 2 KB
READS_AT_ONCE = 4  # GET /requests.json calls of one poll in flight at once
TOKEN_WAITS = (0.0, 0.25, 0.5, 1.0, 2.0)  # seconds before each read of a token; then the outbox retries
LOOKUP_AHEAD = timedelta(days=1)  # the server's clock may run ahead of huiju's
LOOKUP_BACK = (timedelta(days=1), timedelta(days=7), timedelta(days=30), timedelta(days=89))  # newest first
LOOKUP_MIN_SPAN = timedelta(hours=1)  # a full answer for a shorter window is not split further
LOOKUP_MAX_QUERIES = 64
LADDER = ("accepted", "dispatched", "replied", "closed")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DESCRIPTIONS = re.compile(r'"description"\s*:\s*"((?:[^"\\]|\\.)*)"|<description>([^<]*)</description>')
_CJK_NAME = re.compile(r"^[\u3400-\u9fff\u00b7\u30fb·]+$")
HONORIFICS = ("先生", "女士", "小姐")
_COMPOUND = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 独孤 南宫 西门 澹台 端木 "
    "呼延 闻人 赫连 万俟 濮阳 太史 申屠 公冶 钟离 拓跋"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())

SKIP_REASONS = {
    SHARE_RECORD: "GeoReport v2 has no shared records: an interconnect channel's appeal stays on its platform",
    ATTACH_REPEAT: "GeoReport v2 cannot attach a repeat appeal to a service request: it stays in huiju's case",
    DETACH_REPEAT: "GeoReport v2 cannot detach a repeat appeal: the service request never carried it",
    MERGE_WORK_ORDER: "GeoReport v2 cannot merge two service requests: both stay open on the server",
    RAISE_FLAG: "GeoReport v2 has no supervision or group-appeal flags on a service request",
    RETURN_REPLY: "GeoReport v2 cannot send a reply back or reopen a service request after a review",
    UPDATE_SHARED_RECORD: "GeoReport v2 has no shared records to keep up to date",
}


class Open311(Target):
    """huiju's client of an Open311 GeoReport v2 server."""

    kind: ClassVar[str] = "open311"
    token_waits: tuple[float, ...] = TOKEN_WAITS

    def __init__(self, settings: PlatformSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        if settings.open311 is None:
            raise ValueError('kind = "open311" needs the [platform.open311] table')
        self.open311: Open311Settings = settings.open311
        # A POST is never retried inside the call: it may have taken effect. The outbox retries, and looks first.
        self.http_once = HttpClient(http.session, max_response_bytes=http.max_response_bytes, attempts=1)
        self._tokens: dict[str, str] = {}  # case id -> a token not yet resolved (this process only)

    # -- rendering ------------------------------------------------------------------------------------------------

    def render(self, ctx: RenderContext) -> FrozenRequest | Skip:
        """The service request for a case's first appeal; a Skip for what GeoReport v2 cannot say."""
        if ctx.kind in SKIP_REASONS:
            return Skip(SKIP_REASONS[ctx.kind])
        if ctx.kind != CREATE_WORK_ORDER:
            raise PermanentError(f"no request for outbox messages of kind {ctx.kind!r}")
        if ctx.appeal is None:
            raise PermanentError(f"{ctx.kind} needs its appeal, and the message names none")
        fields = self.form_fields(ctx.appeal, str(ctx.case["id"]))
        return FrozenRequest("POST", CREATE_PATH, urlencode(fields), FORM)

    def form_fields(self, appeal: Mapping[str, Any], case_id: str) -> list[tuple[str, str]]:
        """The POST fields, in the spec's order; the api_key is added at each send, never stored."""
        o = self.open311
        hidden = identifiers(appeal)  # the description and address are public: never the citizen's identifiers
        fields: list[tuple[str, str]] = []
        if o.jurisdiction_id:
            fields.append(("jurisdiction_id", o.jurisdiction_id))
        fields.append(("service_code", self.service_code(appeal)))
        coordinates = _coordinates(appeal.get("lat"), appeal.get("lon"))
        if coordinates:
            fields += [("lat", coordinates[0]), ("long", coordinates[1])]
        address = _plain(appeal.get("address") or appeal.get("township") or "") or o.default_address or ""
        if address:
            fields.append(("address_string", scrub(address, hidden)))
        if not (coordinates or address):
            raise PermanentError(
                "the appeal has neither coordinates nor an address, and GeoReport v2 needs a location: "
                "set [platform.open311] default_address"
            )
        if not appeal["confidential"]:
            first, last = split_name(appeal.get("citizen_name") or "")
            fields += [(k, v) for k, v in (("first_name", first), ("last_name", last)) if v]
            if appeal.get("phone"):
                fields.append(("phone", str(appeal["phone"])))
        title, content = scrub(appeal["title"] or "", hidden), scrub(appeal["content"] or "", hidden)
        fields.append(("description", description(title, content, case_id)))
        return fields

    def service_code(self, appeal: Mapping[str, Any]) -> str:
        """The service_code for the appeal's category (else its channel's category), else the default."""
        codes = self.open311.service_codes
        for category in (appeal.get("category"), appeal.get("channel_category")):
            if category and category in codes:
                return codes[category]
        return self.open311.default_service_code

    # -- sending --------------------------------------------------------------------------------------------------

    async def send(self, request: FrozenRequest, *, resent: bool) -> dict[str, Any]:
        """Create the service request (after looking for one an earlier attempt made); its id as work_order_no."""
        if (request.method, request.path) != ("POST", CREATE_PATH):
            raise PermanentError(f"an Open311 target sends no {request.method} {request.path}")
        form = dict(parse_qsl(request.body, keep_blank_values=True))
        case_id = marker_case_id(form.get("description"))
        if case_id is None:
            raise PermanentError("the frozen request's description carries no [huiju-case:…] marker")
        service_code = form.get("service_code", "")
        if resent:
            found = await self._resolve_pending(case_id) or await self.find_request(case_id, service_code)
            if found is not None:
                return {"work_order_no": found}
        body = request.body
        if self.open311.api_key:
            body += "&api_key=" + quote_plus(self.open311.api_key)
        answer = await self._call(
            "POST", CREATE_PATH, data=body.encode(), headers={"Content-Type": request.content_type}, once=True
        )
        return {"work_order_no": await self._created(answer, case_id, service_code)}

    async def _created(self, answer: Any, case_id: str, service_code: str) -> str:
        """The id of the request a POST created: answered at once, through a token, or looked up (blackbox)."""
        item = _first(answer, "POST /requests.json")
        if _present(item.get("service_request_id")):
            return _work_order_no(item["service_request_id"])
        if _present(item.get("token")):
            token = str(item["token"])
            self._tokens[case_id] = token
            no = await self._await_token(token)
            self._tokens.pop(case_id, None)
            return no
        found = await self.find_request(case_id, service_code)
        if found is None:
            raise PermanentError(
                "the server answered neither a service_request_id nor a token (a blackbox service), and lists "
                "no request with the case's marker: huiju cannot follow it; map the category to another service "
                f"than {service_code!r}"
            )
        return found

    async def _await_token(self, token: str) -> str:
        """The id a token resolves to, read a few times; TransientError while the server has none yet."""
        for wait in self.token_waits:
            await asyncio.sleep(wait)
            item = _first(await self._call("GET", f"/tokens/{quote(token, safe='')}.json"), "GET /tokens")
            if _present(item.get("service_request_id")):
                return _work_order_no(item["service_request_id"])
        raise TransientError(f"token {token[:64]!r} has no service_request_id yet; the outbox will ask again")

    async def _resolve_pending(self, case_id: str) -> str | None:
        """The id of a token this process is still waiting for (None when there is none, or it was forgotten)."""
        token = self._tokens.get(case_id)
        if token is None:
            return None
        try:
            no = await self._await_token(token)
        except PermanentError:  # the server no longer knows the token: look by the marker instead
            self._tokens.pop(case_id, None)
            return None
        self._tokens.pop(case_id, None)
        return no

    async def find_request(self, case_id: str, service_code: str, now: datetime | None = None) -> str | None:
        """The id of a request created for the case (the oldest, if there are several), or None.

        Looks through the last 89 days (and one day ahead, for the server's clock), newest window first, by
        service_code; a window whose answer is full is split in halves until each answer is complete.
        """
        now = now or datetime.now(UTC)
        bounds = [now + LOOKUP_AHEAD, *(now - back for back in LOOKUP_BACK)]
        windows = deque((older, newer) for newer, older in pairwise(bounds))
        queries = 0
        while windows:
            start, end = windows.popleft()
            queries += 1
            if queries > LOOKUP_MAX_QUERIES:
                raise PermanentError(f"looked {LOOKUP_MAX_QUERIES} times for case {case_id}'s request, unfinished")
            query = {"service_code": service_code, "start_date": _w3c(start), "end_date": _w3c(end)}
            found = await self._requests(query)
            mine = [r for r in found if marker_case_id(r.get("description")) == case_id]
            if mine:
                oldest = min(
                    mine, key=lambda r: (str(r.get("requested_datetime") or ""), str(r["service_request_id"]))
                )
                return _work_order_no(oldest["service_request_id"])
            if len(found) >= self.open311.max_results:
                if end - start <= LOOKUP_MIN_SPAN:
                    raise PermanentError(
                        f"more than {self.open311.max_results} requests of service {service_code!r} within "
                        f"{LOOKUP_MIN_SPAN}: cannot rule out that case {case_id}'s request exists; a person looks"
                    )
                middle = start + (end - start) / 2
                windows.extendleft([(start, middle), (middle, end)])  # the newer half first
        return None

    # -- events ---------------------------------------------------------------------------------------------------

    async def read_events(self, cursor: dict[str, Any] | None, open_work_orders: Sequence[str]) -> EventPage:
        """Every rung each open work order's request has reached (huiju stores events once, by event_id)."""
        gate = asyncio.Semaphore(READS_AT_ONCE)

        async def read(chunk: list[str]) -> list[dict[str, Any]]:
            async with gate:
                found = await self._requests({"service_request_id": ",".join(chunk)})
            asked = set(chunk)
            return [e for r in found if str(r.get("service_request_id")) in asked for e in _ladder_or_none(r)]

        chunks = _chunks(list(dict.fromkeys(open_work_orders)), IDS_PER_QUERY)
        pages = await asyncio.gather(*(read(chunk) for chunk in chunks))
        return EventPage([e for page in pages for e in page], cursor, has_more=False)

    async def work_order_events(self, work_order_no: str) -> list[dict[str, Any]]:
        """The rungs one request has reached, from GET /requests/{id}.json."""
        found = await self._requests(None, f"/requests/{quote(work_order_no, safe='')}.json")
        for request in found:
            if str(request.get("service_request_id")) == work_order_no:
                return ladder(request)
        return []

    # -- HTTP -----------------------------------------------------------------------------------------------------

    async def _requests(self, query: dict[str, str] | None, path: str = "/requests.json") -> list[dict[str, Any]]:
        answer = await self._call("GET", path, query=query)
        if not isinstance(answer, list):
            raise PermanentError(f"GET {path} answered {type(answer).__name__}, not a list of requests")
        return [item for item in answer if isinstance(item, dict)]

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        once: bool = False,
    ) -> Any:
        """One call, its JSON answer; an error answer's descriptions put in the classified error's message."""
        params = dict(query or {})
        if self.open311.jurisdiction_id and method == "GET":
            params["jurisdiction_id"] = self.open311.jurisdiction_id
        client = self.http_once if once else self.http
        try:
            response = await client.request(
                method,
                self.settings.base_url.rstrip("/") + path,
                headers={"Accept": "application/json", **(headers or {})},
                data=data,
                params=params or None,
                timeout_s=self.settings.timeout_seconds,
            )
        except ChannelError as e:
            raise _described(e, f"{method} {path}") from e
        try:
            return json.loads(response.body) if response.body.strip() else None
        except (ValueError, UnicodeDecodeError) as e:
            raise PermanentError(f"{method} {path}: the answer is not JSON: {e}") from None


# -- the description and the citizen ------------------------------------------------------------------------------


def description(title: str, content: str, case_id: str) -> str:
    """Title and content as plain text, cut to fit 4,000 characters with the marker line at the end."""
    marker = f"[huiju-case:{case_id}]"
    title, content = _plain(title), _plain(content)
    parts = [content] if title and content.startswith(title) else [title, content]
    text = "\n\n".join(p for p in parts if p)
    room = DESCRIPTION_MAX - len(marker) - 1
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n{marker}" if text else marker


def marker_case_id(text: Any) -> str | None:
    """The case id of the last marker in a description, or None."""
    found = MARKER.findall(text) if isinstance(text, str) else []
    return found[-1] if found else None


def split_name(name: str) -> tuple[str | None, str | None]:
    """(first_name, last_name): a Chinese name's surname is its first character (two for 欧阳 and the like)."""
    name = " ".join(name.split())
    if not name:
        return None, None
    if _CJK_NAME.match(name):
        for honorific in HONORIFICS:  # 王先生: only the surname is known
            if name.endswith(honorific) and len(name) > len(honorific):
                return None, name.removesuffix(honorific)
        for dot in "·・":  # 阿依古丽·买买提: the given name comes first
            if dot in name:
                given, _, family = name.partition(dot)
                return given or None, family or None
        surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[:1]
        return name[len(surname) :] or None, surname
    words = name.split(" ")
    return (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (name, None)


def _plain(text: str) -> str:
    """Line breaks as \\n, no control characters, no trailing spaces."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _coordinates(lat: Any, lon: Any) -> tuple[str, str] | None:
    """WGS84 lat and long as text, when both are there and in range."""
    try:
        y, x = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90 <= y <= 90 and -180 <= x <= 180):
        return None
    return _degrees(y), _degrees(x)


def _degrees(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


# -- the event ladder ---------------------------------------------------------------------------------------------


def ladder(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events a request's state has reached, in the 12345 platform's event shape; ValueError if malformed.

    accepted (1) when it exists; dispatched (2, the agency as unit) once an agency is responsible or it is
    closed; replied (3, status_notes as text) and closed (4, resolved) once it is closed. The notes of an open
    request are interim and carried nowhere. The same state always gives the same events.
    """
    no = _work_order_no(request.get("service_request_id"), ValueError)
    requested = _moment(request.get("requested_datetime"))
    if requested is None:
        raise ValueError(f"request {no} has no requested_datetime")
    updated = max(requested, _moment(request.get("updated_datetime")) or requested)
    closed = str(request.get("status") or "").strip().lower() == "closed"
    agency = _text(request.get("agency_responsible"))
    case_id = marker_case_id(request.get("description"))

    def rung(seq: int, at: datetime, **details: Any) -> dict[str, Any]:
        kind = LADDER[seq - 1]
        return {
            "event_id": f"{no}:{kind}",
            "work_order_no": no,
            "case_id": case_id,
            "seq": seq,
            "type": kind,
            "at": _iso(at),
            **details,
        }

    expected = _moment(request.get("expected_datetime"))
    events = [rung(1, requested, deadline=_iso(expected) if expected else None)]
    if agency or closed:
        unit = {"code": None, "name": agency} if agency else None
        events.append(rung(2, updated, unit=unit))
        if closed:
            events.append(rung(3, updated, unit=unit, text=_text(request.get("status_notes"))))
            events.append(rung(4, updated, resolved=True))
    return events


def _ladder_or_none(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ladder, or nothing for a malformed request (logged; the other requests of the answer go on)."""
    try:
        return ladder(request)
    except ValueError as e:
        log.warning("Open311 request skipped: %s", e)
        return []


def _moment(value: Any) -> datetime | None:
    """A W3C date-time (an offset or Z required; a time without one is taken as UTC), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not a W3C date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    """As the 12345 platform writes `at`: RFC 3339 in Beijing time, with milliseconds."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="milliseconds")


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _work_order_no(value: Any, error: type[Exception] = PermanentError) -> str:
    """A service_request_id as huiju keeps it (JSON may give a number); at most 64 characters."""
    no = str(value).strip() if _present(value) else ""
    if not no or len(no) > WORK_ORDER_NO_MAX:
        raise error(f"service_request_id {no[:80]!r} is empty or longer than {WORK_ORDER_NO_MAX} characters")
    return no


def _first(answer: Any, what: str) -> dict[str, Any]:
    """The first object of a list answer; an answer that is an error list becomes a PermanentError."""
    if isinstance(answer, dict):  # a server that answers one object instead of a list of one
        answer = [answer]
    if not (isinstance(answer, list) and answer and isinstance(answer[0], dict)):
        raise PermanentError(f"{what} answered {str(answer)[:200]!r}, not a list of objects")
    item = answer[0]
    if "description" in item and "code" in item and not ({"service_request_id", "token"} & item.keys()):
        raise PermanentError(f"{what} answered errors: {_joined(answer)}")
    return item


def _joined(errors: list[Any]) -> str:
    return "; ".join(f"{e.get('code')} {e.get('description')}" for e in errors if isinstance(e, dict))


def _described(error: ChannelError, what: str) -> ChannelError:
    """The same kind of error, its message saying what the server's error list described."""
    text = str(error)
    descriptions = []
    for quoted, xml in _DESCRIPTIONS.findall(error.body.decode("utf-8", "replace") or text):
        if quoted:
            try:
                descriptions.append(json.loads(f'"{quoted}"'))
            except ValueError:
                descriptions.append(quoted)
        else:
            descriptions.append(xml.strip())
    if not descriptions:
        return type(error)(f"{what}: {text}", status=error.status, retry_after=error.retry_after, body=error.body)
    said = "; ".join(d for d in descriptions if d)
    return type(error)(
        f"{what}: HTTP {error.status}: {said}", status=error.status, retry_after=error.retry_after, body=error.body
    )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
