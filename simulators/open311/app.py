"""The simulated Open311 server as an aiohttp application: GeoReport v2 (JSON and XML), plus /_sim/.

Every API request goes through the same steps, in this order: latency, outage (503), an injected error
(error_rate), then the request itself, answered as the spec says, errors included (a list of {code,
description}). Every one is logged as received, so tests can check what went over the wire (GET /_sim/requests).
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from simulators.hotline.platform import SimClock
from simulators.http import dumps, json_response, not_found, patched_knobs
from simulators.open311.city import KNOB_NAMES, City, Knobs, w3c
from simulators.open311.services import SERVICE_BY_CODE, SERVICES, Service

CITY = web.AppKey("open311_city", City)
STATS = web.AppKey("open311_stats", dict)

CONTROL_PREFIX = "/_sim/"
DESCRIPTION_MAX = 4_000
MAX_SPAN = timedelta(days=90)
FORM_TYPE = "application/x-www-form-urlencoded"
STATUSES = {"open", "closed"}
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}
SUBMITTED = (  # the POST fields a request keeps, besides its attributes (api_key is checked, not kept)
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)
FMT = "{fmt:json|xml}"


class Refused(Exception):
    """A request the spec says to refuse: the HTTP status and the error descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions


# -- answers in either format -------------------------------------------------------------------------------------


def to_xml(root: str, value: Any) -> str:
    """A JSON-shaped value as the spec's XML (the Spark convention, read backwards)."""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_element(root, value), encoding="unicode")


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, list):
        element.extend(_element(XML_ITEMS[name], item) for item in value)
    elif isinstance(value, dict):
        element.extend(_element(k, v) for k, v in value.items())
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def answer(
    fmt: str, root: str, value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """The value as JSON, or as XML under the root element the spec names."""
    if fmt == "xml":
        return web.Response(
            text=to_xml(root, value), status=status, headers=headers, content_type="text/xml", charset="utf-8"
        )
    return json_response(value, status, headers)


def errors(fmt: str, status: int, *descriptions: str) -> web.Response:
    """The spec's error list: one {code, description} per error (429 and 503 say when to come back)."""
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return answer(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status, headers)


def _fmt(request: web.Request) -> str:
    return request.match_info.get("fmt") or ("xml" if request.path.endswith(".xml") else "json")


# -- the steps every API request takes ----------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ApiHandler = Callable[[web.Request, City, dict[str, list[str]]], Awaitable[web.Response]]


@web.middleware
async def _count_and_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by route and status; answer an API path's HTTP errors as the spec's error list."""
    resource = request.match_info.route.resource
    route = f"{request.method} {resource.canonical if resource else request.path}"
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or request.path.startswith(CONTROL_PREFIX):
            request.app[STATS][(route, e.status)] = request.app[STATS].get((route, e.status), 0) + 1
            raise
        response = errors(_fmt(request), e.status, f"{e.reason}: {request.method} {request.path}")
    stats = request.app[STATS]
    stats[(route, response.status)] = stats.get((route, response.status), 0) + 1
    return response


def _api(handler: ApiHandler) -> Handler:
    """An API route: latency, outage, injected errors, the form, then the handler; logged as received."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        city = request.app[CITY]
        if city.knobs.latency_ms:
            await asyncio.sleep(city.knobs.latency_ms / 1000)
        raw = await request.read()
        form: dict[str, list[str]] = {}
        try:
            form = _form(request, raw)
            response = await checked(request, city, form)
        except Refused as e:
            response = errors(_fmt(request), e.status, *e.descriptions)
        city.wire.append(_logged(request, form, raw, response.status))
        return response

    async def checked(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
        if city.knobs.outage:
            raise Refused(503, "The service is not available (simulated outage).")
        if (status := city.injected_error()) is not None:
            raise Refused(status, f"Simulated error {status}.")
        jurisdiction = _one(form, "jurisdiction_id") or request.query.get("jurisdiction_id")
        if jurisdiction and jurisdiction != city.jurisdiction_id:
            raise Refused(404, f"jurisdiction_id {jurisdiction[:100]!r} was not found.")
        return await handler(request, city, form)

    return guarded


def _form(request: web.Request, raw: bytes) -> dict[str, list[str]]:
    """A POST's form fields, every value of each; {} for a GET. 400 for a body that is not a UTF-8 form."""
    if request.method != "POST":
        return {}
    if request.content_type != FORM_TYPE:
        raise Refused(400, f"The request body must be {FORM_TYPE}, not {request.content_type!r}.")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Refused(400, "The request body is not UTF-8.") from None
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def _one(form: dict[str, list[str]], key: str) -> str:
    """A field's last value, stripped ("" when absent): the spec treats an empty field as an absent one."""
    return form[key][-1].strip() if form.get(key) else ""


def _logged(request: web.Request, form: dict[str, list[str]], raw: bytes, status: int) -> dict[str, Any]:
    fields = {k: (["***"] if k == "api_key" else v) for k, v in form.items()}
    return {
        "at": time.time(),
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "content_type": request.headers.get("Content-Type"),
        "form": fields if request.method == "POST" else None,
        "body_bytes": len(raw),
        "status": status,
    }


# -- GeoReport v2 ------------------------------------------------------------------------------------------------


async def list_services(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    k = city.knobs
    kind = "blackbox" if k.blackbox else "batch" if k.async_tokens else "realtime"
    return answer(request.match_info["fmt"], "services", [s.as_json(kind) for s in SERVICES])


async def service_definition(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    service = _service(request.match_info["service_code"])
    return answer(request.match_info["fmt"], "service_definition", service.definition())


def _service(code: str) -> Service:
    if not code:
        raise Refused(400, "service_code was not provided.")
    found = SERVICE_BY_CODE.get(code)
    if found is None:
        raise Refused(404, f"service_code {code[:100]!r} was not found.")
    return found


async def create_request(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    fmt = request.match_info["fmt"]
    if _one(form, "api_key") != city.api_key:
        raise Refused(403, "Invalid api_key received -- can't proceed with create_request.")
    service = _service(_one(form, "service_code"))
    attributes = _attributes(form)
    problems = _location_problems(form) + _attribute_problems(service, attributes)
    if len(form.get("description", [""])[-1]) > DESCRIPTION_MAX:
        problems.append(f"description is longer than {DESCRIPTION_MAX} characters.")
    if problems:
        raise Refused(400, *problems)
    kept = {k: form[k][-1] for k in SUBMITTED if form.get(k) and form[k][-1].strip()}
    sr = city.create(service, kept, attributes)
    if city.lose_answer():
        raise Refused(500, "Internal error while answering (simulated: the request was created).")
    created: dict[str, Any] = {}
    if not city.knobs.blackbox:
        created = {"token": sr.token} if sr.token else {"service_request_id": sr.id}
    created |= {"service_notice": service.notice(), "account_id": None}
    return answer(fmt, "service_requests", [created])


def _attributes(form: dict[str, list[str]]) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v (a multivaluelist), by code."""
    found: dict[str, list[str]] = {}
    for key, values in form.items():
        if key.startswith("attribute[") and key.endswith("]"):
            code = key.removeprefix("attribute[").removesuffix("[]").removesuffix("]")
            found.setdefault(code, []).extend(v for v in values if v.strip())
    return found


def _location_problems(form: dict[str, list[str]]) -> list[str]:
    lat, lon = _one(form, "lat"), _one(form, "long")
    if not (lat or lon or _one(form, "address_string") or _one(form, "address_id")):
        return ["A location is required: lat and long, or address_string, or address_id."]
    if not (lat or lon):
        return []
    if not (lat and lon):
        return ["lat and long must both be sent."]
    problems = []
    for name, text, bound in (("lat", lat, 90.0), ("long", lon, 180.0)):
        try:
            value = float(text)
        except ValueError:
            problems.append(f"{name} {text[:40]!r} is not a number (WGS84 degrees).")
            continue
        if not -bound <= value <= bound:
            problems.append(f"{name} {value} is out of range (-{bound:g} to {bound:g}).")
    return problems


def _attribute_problems(service: Service, attributes: dict[str, list[str]]) -> list[str]:
    problems = []
    for attribute in service.attributes:
        given = attributes.get(attribute.code, [])
        if attribute.required and not given:
            what = f"attribute[{attribute.code}] is required for service_code {service.code}"
            problems.append(f"{what}: {attribute.description}.")
        keys = {k for k, _ in attribute.values}
        if keys and any(v not in keys for v in given):
            problems.append(f"attribute[{attribute.code}] must be one of {', '.join(sorted(keys))}.")
    return problems


async def list_requests(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    fmt, q = request.match_info["fmt"], request.query
    ids = _listed(q.getall("service_request_id", []))
    if ids:  # "This overrides all other arguments."
        return answer(fmt, "service_requests", [sr.as_json() for sr in city.by_ids(ids)])
    codes = set(_listed(q.getall("service_code", []))) or None
    statuses = set(_listed(q.getall("status", []))) or None
    if statuses and not statuses <= STATUSES:
        raise Refused(400, f"status must be open or closed, not {', '.join(sorted(statuses - STATUSES))[:100]!r}.")
    start, end = _window(q.get("start_date"), q.get("end_date"), city.clock.now())
    found = city.search(codes=codes, start=start, end=end, statuses=statuses)
    return answer(fmt, "service_requests", [sr.as_json() for sr in found])


def _listed(values: list[str]) -> list[str]:
    """Comma-delimited values, from every time the argument was declared."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _window(start_text: str | None, end_text: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range: the most recent 90 days by default, never more than 90 days."""
    start, end = _date("start_date", start_text), _date("end_date", end_text)
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        start = end - MAX_SPAN  # type: ignore[operator]  # end is set here
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Refused(400, "end_date is before start_date.")
    if end - start > MAX_SPAN:
        raise Refused(400, "start_date and end_date may not span more than 90 days.")
    return start, end


def _date(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Refused(400, f"{name} must be a W3C date-time with a timezone, e.g. 2010-01-01T00:00:00Z.")
    return moment


async def get_request(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    request_id = request.match_info["service_request_id"]
    sr = city.get(request_id)
    if sr is None:
        raise Refused(404, f"service_request_id {request_id[:100]!r} was not found.")
    return answer(request.match_info["fmt"], "service_requests", [sr.as_json()])


async def resolve_token(request: web.Request, city: City, form: dict[str, list[str]]) -> web.Response:
    token = request.match_info["token"]
    sr = city.tokens.get(token)
    if sr is None:
        raise Refused(404, f"token {token[:100]!r} was not found.")
    # Until the back office has made the request, the token is known but has no id yet.
    doc = {"service_request_id": sr.id, "token": token} if sr.visible_at <= city.clock.now() else {"token": token}
    return answer(request.match_info["fmt"], "service_requests", [doc])


# -- the control API (for tests, the demo and benchmarks) ---------------------------------------------------------


async def control_knobs(request: web.Request) -> web.StreamResponse:
    city = request.app[CITY]
    if request.method == "PUT":
        city.knobs = await patched_knobs(request, city.knobs)
    return json_response(city.knobs.model_dump())


async def control_wire(request: web.Request) -> web.StreamResponse:
    return json_response(list(request.app[CITY].wire))


async def control_service_requests(request: web.Request) -> web.StreamResponse:
    city = request.app[CITY]
    now = city.clock.now()
    return json_response([city.refresh(sr, now).as_control_json() for sr in city.requests.values()])


async def control_advance(request: web.Request) -> web.StreamResponse:
    city = request.app[CITY]
    request_id = request.match_info["service_request_id"]
    sr = city.get(request_id)
    if sr is None:
        raise not_found(f"no service request {request_id!r} (or its token has not resolved yet)")
    step = city.advance(sr)
    if step is None:
        raise web.HTTPConflict(
            text=dumps({"error": f"service request {request_id} is closed"}), content_type="application/json"
        )
    return json_response(sr.as_control_json())


async def control_stats(request: web.Request) -> web.StreamResponse:
    city = request.app[CITY]
    routes: dict[str, dict[str, int]] = {}
    for (route, status), n in sorted(request.app[STATS].items()):
        routes.setdefault(route, {})[str(status)] = n
    by_status: dict[str, int] = {}
    for sr in city.visible():
        by_status[sr.status] = by_status.get(sr.status, 0) + 1
    pending = sum(1 for sr in city.requests.values() if sr.visible_at > city.clock.now())
    return json_response(
        {
            "requests": routes,
            "service_requests": by_status | {"pending_tokens": pending},
            "clock": w3c(city.clock.now()),
            "clock_scale": city.clock.scale,
        }
    )


# -- the application --------------------------------------------------------------------------------------------

ROUTES: tuple[tuple[str, str, ApiHandler], ...] = (
    ("GET", f"/services.{FMT}", list_services),
    ("GET", "/services/{service_code:[^/]+?}." + FMT, service_definition),
    ("POST", f"/requests.{FMT}", create_request),
    ("GET", f"/requests.{FMT}", list_requests),
    ("GET", "/requests/{service_request_id:[^/]+?}." + FMT, get_request),
    ("GET", "/tokens/{token:[^/]+?}." + FMT, resolve_token),
)


def build_open311(
    api_key: str,
    jurisdiction_id: str = "ganzhou.gov.cn",
    *,
    division_code: str = "360702",
    seed: int = 0,
    clock_scale: float = 1.0,
    **knobs: Any,
) -> web.Application:
    """The simulated Open311 server as an aiohttp application; knobs as in `city.Knobs`.

    It serves one jurisdiction (a request naming another is answered 404; one naming none is served), and its
    agencies are the units of `division_code`'s district (章贡区 by default).
    """
    unknown = sorted(set(knobs) - KNOB_NAMES)
    if unknown:
        raise TypeError(f"unknown knob(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOB_NAMES))})")
    if not api_key:
        raise ValueError("api_key must not be empty")
    city = City(
        api_key=api_key,
        jurisdiction_id=jurisdiction_id,
        division_code=division_code,
        seed=seed,
        clock=SimClock(clock_scale),
        knobs=Knobs.model_validate(knobs),
    )
    app = web.Application(middlewares=[_count_and_envelope])
    app[CITY] = city
    app[STATS] = {}
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _api(handler))
    app.router.add_get("/_sim/knobs", control_knobs)
    app.router.add_put("/_sim/knobs", control_knobs)
    app.router.add_get("/_sim/requests", control_wire)
    app.router.add_get("/_sim/service-requests", control_service_requests)
    app.router.add_post("/_sim/service-requests/{service_request_id}/advance", control_advance)
    app.router.add_get("/_sim/stats", control_stats)
    return app
