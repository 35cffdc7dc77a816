"""A platform-neutral simulator of one national hotline platform (12315, 12333 or 12328), on aiohttp.

The engine knows what the three platforms share (docs/channels/national-protocol.md): it checks request
signatures, keeps work orders in memory ordered by (update time, id), serves keyset pages, takes status and
reply events idempotently by event id, generates new work orders and moves them on as the platform handles
them (accepted, dispatched, replied, closed). A `ServerDialect` spells all of it in one platform's paths,
field names, codes and envelopes.

Knobs make it misbehave on purpose (latency, injected errors, an outage, refused credentials, schema drift);
an unsigned control API under `/_sim/` lets tests, the demo and benchmarks drive it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import dataclasses
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.signing import SIGN_METHODS
from simulators.http import bad_request as _bad_request
from simulators.http import control_body as _control_body
from simulators.http import json_response as _json
from simulators.http import not_found, patched_knobs
from simulators.national.dialect import FeedQuery, ReceivedEvent, ServerDialect, WorkOrder
from simulators.signing import RequestVerifier, SignatureRefused

CONTROL_PREFIX = "/_sim/"
MAX_GENERATE = 100_000

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class Knobs(BaseModel):
    """What the simulated platform does besides answering correctly; changed at run time by PUT /_sim/knobs."""

    model_config = ConfigDict(extra="forbid")

    page_size_max: Annotated[int, Field(ge=1, le=100_000)] = 1000  # pages never hold more, whatever was asked
    latency_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0  # added before every platform answer
    error_rate: Rate = 0.0  # fraction of signed requests answered with one of error_statuses
    error_statuses: Annotated[list[Annotated[int, Field(ge=400, le=599)]], Field(min_length=1)] = [429, 500, 503]
    outage: bool = False  # every platform request 503
    reject_auth: bool = False  # every platform request 401
    drift_unknown_fields: Rate = 0.0  # fraction of work orders served with keys the protocol does not have
    drift_missing_optional: Rate = 0.0  # ... with optional keys left out
    drift_bad_dates: Rate = 0.0  # ... with a date replaced by garbage
    drift_wrong_types: Rate = 0.0  # ... with a value of the wrong JSON type
    rate_per_second: Annotated[float, Field(ge=0, le=10_000)] = 0.0  # new work orders generated per second
    progress_rate: Annotated[float, Field(ge=0, le=10_000)] = 0.0  # work orders moved one step on per second


KNOB_NAMES = frozenset(Knobs.model_fields)

STATUSES = ("accepted", "dispatched", "returned", "extended", "replied", "closed", "revisited")
"""A work order's status at the platform, in huiju's words; each dialect renders it as the platform's code."""

NEXT_STEP = {
    "registered": "accepted",
    "accepted": "dispatched",
    "returned": "dispatched",
    "dispatched": "replied",
    "extended": "replied",
    "replied": "closed",
}
"""Where progress_rate moves a work order: along accepted → dispatched → replied → closed (returned: dispatched
again; extended: replied). Closed and revisited work orders stay as they are."""


@dataclass(slots=True)
class _Entry:
    """A stored work order (or a raw item stored verbatim) and its place in the feed."""

    key: tuple[datetime, str]
    order: WorkOrder | None = None
    raw: Any = None


class Simulator:
    """The state of one simulated platform: work orders, events, nonces, knobs and request counts."""

    def __init__(
        self,
        dialect: ServerDialect,
        *,
        app_key: str,
        app_secret: str,
        sign_method: str = "hmac-sha256",
        seed: int = 0,
        knobs: Knobs | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"sign_method must be one of {', '.join(SIGN_METHODS)}, got {sign_method!r}")
        self.dialect = dialect
        self.app_key = app_key
        self.app_secret = app_secret
        self.sign_method = sign_method
        self.seed = seed
        self.knobs = knobs or Knobs()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._entries: dict[str, _Entry] = {}
        self._keys: list[tuple[datetime, str]] = []  # sorted (updated_at, id) of every entry
        self._serial = 0
        self._raw_serial = 0
        self.events: dict[str, ReceivedEvent] = {}  # by event id, in arrival order
        self._verifier = RequestVerifier(app_key, app_secret, sign_method)
        self._errors = random.Random(f"{seed}:errors")
        self._progress = random.Random(f"{seed}:progress")
        self.stats: Counter[tuple[str, int]] = Counter()

    # -- the store -----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The platform's clock, in whole seconds: the dates it serves have no fractions, nor do its keys."""
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def _put(self, entry_id: str, entry: _Entry) -> None:
        self._drop(entry_id)
        self._entries[entry_id] = entry
        bisect.insort(self._keys, entry.key)

    def _drop(self, entry_id: str) -> None:
        old = self._entries.pop(entry_id, None)
        if old is not None:
            i = bisect.bisect_left(self._keys, old.key)
            if i < len(self._keys) and self._keys[i] == old.key:
                del self._keys[i]

    def count(self) -> int:
        """How many work orders (and raw items) are stored."""
        return len(self._entries)

    def has(self, order_id: str) -> bool:
        """Whether a work order (or raw item) with this id is stored."""
        return order_id in self._entries

    def feed_keys(self) -> list[tuple[datetime, str]]:
        """The (update time, id) of every entry, in feed order."""
        return list(self._keys)

    def served(self, entry_id: str) -> Any:
        """An entry as the feed serves it now (with its drift); KeyError if unknown."""
        return self.render(self._entries[entry_id])

    def order(self, order_id: str) -> WorkOrder | None:
        """A stored work order by id (None for an unknown id or a raw item)."""
        entry = self._entries.get(order_id)
        return entry.order if entry else None

    def add_order(self, order: WorkOrder) -> str:
        """Store one work order (replacing any entry with its id); its times are cut to whole seconds."""
        order.updated_at = order.updated_at.astimezone(UTC).replace(microsecond=0)
        order.created_at = min(order.created_at.astimezone(UTC).replace(microsecond=0), order.updated_at)
        if order.occurred_at is not None:
            order.occurred_at = order.occurred_at.astimezone(UTC).replace(microsecond=0)
        self._put(order.id, _Entry((order.updated_at, order.id), order=order))
        return order.id

    def generate(self, count: int = 1, age_seconds: float = 0.0) -> list[str]:
        """Generate `count` new work orders updated `age_seconds` ago; their ids, oldest first."""
        if not 0 <= count <= MAX_GENERATE:
            raise ValueError(f"count must be between 0 and {MAX_GENERATE}")
        if age_seconds < 0:
            raise ValueError("age_seconds must not be negative")
        moment = self.now() - timedelta(seconds=round(age_seconds))
        ids = []
        for _ in range(count):
            order = self.dialect.generate(self._serial, moment, self.seed)
            self._serial += 1
            order.updated_at = moment
            ids.append(self.add_order(order))
        return ids

    def add_raw(self, item: Any) -> str:
        """Store one raw item verbatim, served as updated now; its id (the item's own id when readable)."""
        own = item.get(self.dialect.id_field) if isinstance(item, dict) and self.dialect.id_field else None
        if isinstance(own, str | int) and not isinstance(own, bool) and str(own).strip():
            entry_id = str(own)
        else:
            self._raw_serial += 1
            entry_id = f"RAW{self._raw_serial:08d}"
        self._put(entry_id, _Entry((self.now(), entry_id), raw=copy.deepcopy(item)))
        return entry_id

    def touch(self, entry_id: str) -> datetime | None:
        """Move an entry to now (an update of the work order); its new update time, or None if unknown."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return None
        moment = max(self.now(), entry.key[0])
        if entry.order is not None:
            entry.order.updated_at = moment
        self._put(entry_id, _Entry((moment, entry_id), order=entry.order, raw=entry.raw))
        return moment

    def set_status(
        self, order_id: str, status: str, reply: str | None = None, unit: str | None = None
    ) -> datetime:
        """Set a work order's status (and its reply and unit, when given) and touch it; its new update time.

        KeyError for an unknown id; ValueError for a raw item (it has no status the simulator knows) or a
        status that is not one of STATUSES. A reply or unit not given stays as it was.
        """
        entry = self._entries[order_id]
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {str(status)[:40]!r}")
        if entry.order is None:
            raise ValueError(f"{order_id!r} is a raw item: its status is whatever the item says")
        entry.order.status = status
        entry.order.reply = entry.order.reply if reply is None else reply
        entry.order.unit = entry.order.unit if unit is None else unit
        moment = self.touch(order_id)
        assert moment is not None  # the entry exists
        return moment

    def advance(self, order_id: str) -> str | None:
        """Move a work order one step on (NEXT_STEP): dispatched names its unit, replied writes the reply.

        The new status, or None when the work order has no next step (closed, revisited, a raw item).
        """
        order = self.order(order_id)
        step = NEXT_STEP.get(order.status) if order is not None else None
        if order is None or step is None:
            return None
        unit = order.unit
        if unit is None and step in ("dispatched", "replied"):
            unit = self.dialect.handling_unit(order)
        reply = (
            self.dialect.reply_text(order, unit or "", self.now(), self._progress) if step == "replied" else None
        )
        self.set_status(order_id, step, reply, unit)
        return step

    def progress(self, count: int = 1) -> list[str]:
        """Move `count` work orders, drawn by the seed from those with a next step, one step on; their ids."""
        movable = sorted(
            i for i, e in self._entries.items() if e.order is not None and e.order.status in NEXT_STEP
        )
        chosen = self._progress.sample(movable, min(max(count, 0), len(movable)))
        return [order_id for order_id in chosen if self.advance(order_id) is not None]

    def page(self, query: FeedQuery) -> tuple[list[Any], bool]:
        """The rendered items after (since, after_id), oldest first, at most the smaller limit; and has-more."""
        limit = max(1, min(query.limit, self.knobs.page_size_max))
        start = 0 if query.since is None else bisect.bisect_right(self._keys, (query.since, query.after_id))
        keys = self._keys[start : start + limit]
        return [self.render(self._entries[k[1]]) for k in keys], start + limit < len(self._keys)

    def render(self, entry: _Entry) -> Any:
        """One entry as the platform serves it: a raw item verbatim, a work order rendered with its drift."""
        if entry.order is None:
            return copy.deepcopy(entry.raw)
        return self.drift(entry.order.id, self.dialect.render_item(entry.order))

    # -- schema drift ----------------------------------------------------------------------------------------

    def drift(self, order_id: str, item: dict[str, Any]) -> dict[str, Any]:
        """The item with its drift: decided per (seed, order id, kind), so that a re-poll sees the same item."""
        k = self.knobs
        kinds = (
            ("missing_optional", k.drift_missing_optional, _drop_optional),
            ("bad_dates", k.drift_bad_dates, _garble_date),
            ("wrong_types", k.drift_wrong_types, _wrong_type),
            ("unknown_fields", k.drift_unknown_fields, _add_unknown),
        )
        for kind, rate, apply in kinds:
            if rate <= 0:
                continue
            rng = random.Random(f"{self.seed}:{order_id}:{kind}")
            if rng.random() < rate:
                apply(item, rng, self.dialect)
        return item

    # -- events ----------------------------------------------------------------------------------------------

    def record_event(self, event: ReceivedEvent) -> tuple[ReceivedEvent, bool]:
        """Keep an event once: (the event as first received, whether this one is a duplicate)."""
        first = self.events.get(event.event_id)
        if first is not None:
            return first, True
        self.events[event.event_id] = event
        return event, False

    # -- signatures ------------------------------------------------------------------------------------------

    def verify(
        self,
        headers: Any,
        method: str,
        path: str,
        query: dict[str, str],
        body: bytes,
        now_ms: int | None = None,
    ) -> None:
        """Raise SignatureRefused unless the request is signed by the configured app, now, with a fresh nonce."""
        self._verifier.verify(headers, method, path, query, body, now_ms)

    def injected_error(self) -> int | None:
        """An error status to answer instead of the real one (error_rate), or None."""
        k = self.knobs
        if k.error_rate > 0 and self._errors.random() < k.error_rate:
            return self._errors.choice(k.error_statuses)
        return None

    # -- generating in the background ------------------------------------------------------------------------

    async def run_generator(self) -> None:
        """Generate work orders (knobs.rate_per_second) and move them on (knobs.progress_rate) until cancelled."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        new, moved = _Credit(), _Credit()
        while True:
            fastest = max(self.knobs.rate_per_second, self.knobs.progress_rate)
            await asyncio.sleep(0.2 if fastest <= 0 else min(0.2, 1 / fastest))
            now = loop.time()
            elapsed, last = now - last, now
            if count := new.due(self.knobs.rate_per_second, elapsed):
                self.generate(min(count, MAX_GENERATE))
            if count := moved.due(self.knobs.progress_rate, elapsed):
                self.progress(count)


@dataclass(slots=True)
class _Credit:
    """What a rate per second has earned so far: whole units are spent, the fraction carries over."""

    earned: float = 0.0

    def due(self, rate: float, elapsed: float) -> int:
        """The whole units due after elapsed seconds at rate (a rate of 0 forgets what was earned)."""
        self.earned = self.earned + rate * elapsed if rate > 0 else 0.0
        count = int(self.earned)
        self.earned -= count
        return count


# -- schema drift, one function per kind ---------------------------------------------------------------------

_GARBAGE_TEXT = ("2024-13-45 25:61:00", "0000-00-00 00:00:00", "unknown", "", "31/02/2024", "1899-12-30")
_GARBAGE_NUMBER = (-1, 0, 99_999_999_999_999_999)
_UNKNOWN_NAMES = ("ext1", "ext2", "reserved", "extra_info", "version")
_UNKNOWN_VALUES: tuple[Any, ...] = ("v2", 1, {"k": "v"}, None, [1, 2], True)


def _lookup(item: dict[str, Any], path: str) -> tuple[dict[str, Any], str] | None:
    """The object holding a dotted path's last key, and that key; None when the path is not there."""
    *parents, last = path.split(".")
    node: Any = item
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    return (node, last) if isinstance(node, dict) and last in node else None


def _protected(dialect: ServerDialect) -> set[str]:
    return set(dialect.protected_fields) | ({dialect.id_field} if dialect.id_field else set())


def _drop_optional(item: dict[str, Any], rng: random.Random, dialect: ServerDialect) -> None:
    """Leave out some of the optional keys present."""
    present = [p for p in dialect.optional_fields if p not in _protected(dialect) and _lookup(item, p)]
    for path in rng.sample(present, rng.randint(1, len(present))) if present else ():
        if found := _lookup(item, path):
            del found[0][found[1]]


def _garble_date(item: dict[str, Any], rng: random.Random, dialect: ServerDialect) -> None:
    """Replace one date with garbage of the same JSON type."""
    present = [p for p in dialect.date_fields if p not in _protected(dialect) and _lookup(item, p)]
    if not present:
        return
    node, key = _lookup(item, rng.choice(present))  # type: ignore[misc]
    is_number = isinstance(node[key], int | float) and not isinstance(node[key], bool)
    node[key] = rng.choice(_GARBAGE_NUMBER if is_number else _GARBAGE_TEXT)


def _wrong_type(item: dict[str, Any], rng: random.Random, dialect: ServerDialect) -> None:
    """Replace one value with one of another JSON type, as a platform's serializer gets it wrong."""
    protected = _protected(dialect)
    paths = [k for k in item if k not in protected]
    paths += [f"{k}.{sub}" for k, v in item.items() if isinstance(v, dict) and k not in protected for sub in v]
    paths = sorted(p for p in paths if p not in protected)
    if not paths:
        return
    node, key = _lookup(item, rng.choice(paths))  # type: ignore[misc]
    node[key] = _other_type(node[key])


def _other_type(value: Any) -> Any:
    """The value as another JSON type: objects double-encoded, numbers as text, digits as numbers."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return [value]
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return 0


def _add_unknown(item: dict[str, Any], rng: random.Random, dialect: ServerDialect) -> None:
    """Add one or two keys the protocol does not have."""
    names = [n for n in (dialect.drift_field_names or _UNKNOWN_NAMES) if n not in item]
    for name in rng.sample(names, min(len(names), rng.randint(1, 2))):
        item[name] = copy.deepcopy(rng.choice(_UNKNOWN_VALUES))


# -- the aiohttp application -----------------------------------------------------------------------------------

SIMULATOR = web.AppKey("national_simulator", Simulator)


def _platform_error(sim: Simulator, status: int, message: str) -> web.Response:
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    if status == 401:
        headers = {"WWW-Authenticate": 'HMAC realm="national-interconnect"'}
    return _json(sim.dialect.render_error(status, message), status, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _count_and_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by route and status; answer platform paths' HTTP errors in the platform's envelope."""
    sim = request.app[SIMULATOR]
    resource = request.match_info.route.resource
    route = f"{request.method} {resource.canonical if resource else request.path}"
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400 or request.path.startswith(CONTROL_PREFIX):
            sim.stats[(route, e.status)] += 1
            raise
        response = _platform_error(sim, e.status, e.reason)
    except Exception:
        sim.stats[(route, 500)] += 1
        raise
    sim.stats[(route, response.status)] += 1
    return response


def _platform(handler: Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]) -> Handler:
    """A platform route: latency, outage, refused credentials, the signature, injected errors, then the handler."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        sim = request.app[SIMULATOR]
        k = sim.knobs
        if k.latency_ms:
            await asyncio.sleep(k.latency_ms / 1000)
        if k.outage:
            return _platform_error(sim, 503, "service unavailable (simulated outage)")
        if k.reject_auth:
            return _platform_error(sim, 401, "credentials refused (simulated)")
        body = await request.read()
        try:
            sim.verify(request.headers, request.method, request.path, dict(request.query), body)
        except SignatureRefused as e:
            return _platform_error(sim, 401, str(e))
        # Injected after the signature is checked, like a failure behind the platform's gateway: the nonce is
        # used up, so a client that retries must sign the retry afresh.
        if (status := sim.injected_error()) is not None:
            return _platform_error(sim, status, f"simulated error {status}")
        return await handler(request, body)

    return guarded


async def _poll(request: web.Request, body: bytes) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    try:
        query = sim.dialect.parse_feed_query(dict(request.query), body)
    except ValueError as e:
        return _platform_error(sim, 400, str(e))
    items, has_more = sim.page(query)
    return _json(sim.dialect.render_page(items, has_more, sim.now()))


async def _deliver(request: web.Request, body: bytes) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    try:
        event = sim.dialect.parse_event(request.match_info.get("order_id"), body)
    except ValueError as e:
        return _platform_error(sim, 400, str(e))
    if not sim.has(event.order_id):
        return _platform_error(sim, 404, f"work order {event.order_id[:64]!r} not found")
    first, duplicate = sim.record_event(event)
    return _json(sim.dialect.render_receipt(first, duplicate))


async def _check(request: web.Request, body: bytes) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    return _json(sim.dialect.render_check(sim.now()))


# -- the control API (unsigned; for tests, the demo and benchmarks) ---------------------------------------------


async def _control_generate(request: web.Request) -> web.StreamResponse:
    doc = await _control_body(request)
    count, age = doc.get("count", 1), doc.get("age_seconds", 0)
    if isinstance(count, bool) or not isinstance(count, int):
        raise _bad_request("count must be an integer")
    if isinstance(age, bool) or not isinstance(age, int | float):
        raise _bad_request("age_seconds must be a number")
    try:
        ids = request.app[SIMULATOR].generate(count, float(age))
    except ValueError as e:
        raise _bad_request(str(e)) from None
    return _json({"ids": ids})


async def _control_raw(request: web.Request) -> web.StreamResponse:
    doc = await _control_body(request)
    if "item" not in doc:
        raise _bad_request("item is required")
    return _json({"id": request.app[SIMULATOR].add_raw(doc["item"])})


async def _control_touch(request: web.Request) -> web.StreamResponse:
    entry_id = request.match_info["id"]
    moment = request.app[SIMULATOR].touch(entry_id)
    if moment is None:
        raise not_found(f"no work order {entry_id!r}")
    return _json({"id": entry_id, "updated_at": moment.isoformat()})


async def _control_status(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    entry_id = request.match_info["id"]
    doc = await _control_body(request)
    texts = {key: doc.get(key) for key in ("reply", "unit")}
    for key, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise _bad_request(f"{key} must be text or null")
    try:
        moment = sim.set_status(entry_id, doc.get("status"), texts["reply"], texts["unit"])
    except KeyError:
        raise not_found(f"no work order {entry_id!r}") from None
    except ValueError as e:
        raise _bad_request(str(e)) from None
    return _json({"id": entry_id, "updated_at": moment.isoformat(), "item": sim.served(entry_id)})


async def _control_knobs(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    sim.knobs = await patched_knobs(request, sim.knobs)
    return _json(sim.knobs.model_dump())


async def _control_events(request: web.Request) -> web.StreamResponse:
    return _json([dataclasses.asdict(e) for e in request.app[SIMULATOR].events.values()])


async def _control_stats(request: web.Request) -> web.StreamResponse:
    sim = request.app[SIMULATOR]
    requests: dict[str, dict[str, int]] = {}
    for (route, status), n in sorted(sim.stats.items()):
        requests.setdefault(route, {})[str(status)] = n
    return _json({"requests": requests, "orders": sim.count(), "events": len(sim.events)})


async def _generator_ctx(app: web.Application) -> AsyncIterator[None]:
    """Generate work orders in the background while the app runs (at knobs.rate_per_second, possibly 0)."""
    task = asyncio.create_task(app[SIMULATOR].run_generator(), name=f"simulator-{app[SIMULATOR].dialect.name}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(sim: Simulator) -> web.Application:
    """The simulator as an aiohttp application: the platform's routes plus the control API."""
    app = web.Application(middlewares=[_count_and_envelope])
    app[SIMULATOR] = sim
    d = sim.dialect
    app.router.add_route(d.poll_method, d.poll_path, _platform(_poll))
    app.router.add_post(d.deliver_path, _platform(_deliver))
    app.router.add_get(d.check_path, _platform(_check))
    app.router.add_post(d.check_path, _platform(_check))
    app.router.add_post("/_sim/orders", _control_generate)
    app.router.add_post("/_sim/orders/raw", _control_raw)
    app.router.add_post("/_sim/orders/{id}/touch", _control_touch)
    app.router.add_post("/_sim/orders/{id}/status", _control_status)
    app.router.add_get("/_sim/knobs", _control_knobs)
    app.router.add_put("/_sim/knobs", _control_knobs)
    app.router.add_get("/_sim/events", _control_events)
    app.router.add_get("/_sim/stats", _control_stats)
    app.cleanup_ctx.append(_generator_ctx)
    return app
