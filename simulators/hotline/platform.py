"""The state of the simulated 12345 platform: work orders, their life, the event feed and the knobs.

A work order lives as a busy platform's would: accepted (签收), dispatched (派单) to a unit for its category and
district, sometimes returned (退单) and dispatched again, sometimes extended (延期), replied (答复), closed
(办结) and revisited (回访). Each step comes a configurable number of seconds after the last, on the platform's
business clock, which runs `1 / clock_scale` times as fast as the wall clock (clock_scale 0.001 makes an hour
3.6 s), so tests compress days into moments. What comes next is decided when an event is emitted, from the
knobs of that moment and a random stream fixed by (seed, work order, seq).

Two requests change a life from outside: a review return (the reply was rejected by the reviewing body of a
merged channel) sends the work order back to the unit that replied, for a new reply; and updates of a shared
record keep an interconnect channel's own progress on the record, without any event.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulators.hotline import replies, units
from simulators.hotline.protocol import Appeal
from simulators.hotline.units import Unit, review_unit

BEIJING = ZoneInfo("Asia/Shanghai")
TIER_SECONDS = {"2h": 2 * 3600, "24h": 24 * 3600, "7d": 7 * 86400, "15d": 15 * 86400}
MAX_RETURNS = 2  # after the second return by a unit the hotline office assigns the work order for good
RETURNABLE = ("replied", "closed", "revisited")  # statuses in which the work order has a reply to reject
REPLY_SHARE_OF_REMAINING = 0.8  # an on-time reply comes at most this share of the time left before the deadline
OVERDUE_SHARE_OF_TIER = 0.2  # an overdue reply comes this share of the time limit after the deadline
REQUEST_LOG_MAX = 100_000

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(ge=0.0, le=365 * 86400)]


class Knobs(BaseModel):
    """What the simulated platform does besides answering correctly; changed at run time by PUT /_sim/knobs."""

    model_config = ConfigDict(extra="forbid")

    # Like the national simulators.
    latency_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0  # added before every platform answer
    error_rate: Rate = 0.0  # fraction of signed requests answered with one of error_statuses
    error_statuses: Annotated[list[Annotated[int, Field(ge=400, le=599)]], Field(min_length=1)] = [429, 500, 503]
    outage: bool = False  # every platform request 503
    reject_auth: bool = False  # every platform request 401
    # The life of a work order: business seconds after the previous event (scaled by clock_scale).
    auto_advance: bool = True  # false: nothing happens until POST /_sim/work-orders/{no}/advance
    accept_delay_s: Seconds = 300.0  # created -> accepted
    dispatch_delay_s: Seconds = 1_800.0  # accepted or returned -> dispatched
    return_delay_s: Seconds = 3_600.0  # dispatched -> returned
    extend_delay_s: Seconds = 86_400.0  # dispatched -> extended (at most half the time left)
    reply_delay_s: Seconds = 172_800.0  # dispatched or extended -> replied (capped by the deadline, see docs)
    close_delay_s: Seconds = 7_200.0  # replied -> closed
    revisit_delay_s: Seconds = 86_400.0  # closed -> revisited
    jitter: Rate = 0.0  # each delay is multiplied by a factor from [1 - jitter, 1 + jitter]
    return_rate: Rate = 0.1  # a dispatch is returned (at most twice per work order)
    extend_rate: Rate = 0.05  # a work order is extended once before its reply
    overdue_rate: Rate = 0.0  # the reply comes after the deadline
    resolution_rate: Rate = 0.93  # closed as resolved
    unsatisfied_rate: Rate = 0.06  # revisit: 不满意
    basically_satisfied_rate: Rate = 0.14  # revisit: 基本满意 (the rest: 满意)
    # Callbacks (when a callback URL is configured). Retry times are wall-clock seconds, not scaled.
    duplicate_callbacks: Rate = 0.0  # an acknowledged callback is sent once more
    out_of_order_callbacks: Rate = 0.0  # a callback is held back until the work order's next one was sent
    callback_failures: Rate = 0.0  # a callback attempt fails on the platform's side and is retried later
    callback_retry_initial_s: Annotated[float, Field(gt=0, le=3_600)] = 1.0
    callback_retry_max_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    callback_timeout_s: Annotated[float, Field(gt=0, le=300)] = 10.0

    @model_validator(mode="after")
    def _satisfaction_adds_up(self) -> Knobs:
        if self.unsatisfied_rate + self.basically_satisfied_rate > 1:
            raise ValueError("unsatisfied_rate + basically_satisfied_rate must not exceed 1")
        return self


KNOB_NAMES = frozenset(Knobs.model_fields)


class SimClock:
    """The platform's business clock: starts at the wall clock's time and runs 1 / scale times as fast."""

    def __init__(self, scale: float = 1.0) -> None:
        if not 0 < scale <= 1_000:
            raise ValueError("clock_scale must be > 0 and at most 1000")
        self.scale = scale
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        """The business time now (UTC)."""
        return datetime.fromtimestamp(self._wall0 + (time.monotonic() - self._mono0) / self.scale, UTC)

    def wall_seconds(self, business_seconds: float) -> float:
        """How long a business delay takes on the wall clock."""
        return business_seconds * self.scale


def iso(moment: datetime) -> str:
    """A time as the platform writes it: RFC 3339, Beijing time, milliseconds."""
    return moment.astimezone(BEIJING).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Event:
    """One status event of a work order, immutable once emitted."""

    event_id: str
    global_seq: int
    work_order_no: str
    case_id: str
    seq: int
    type: str
    at: datetime
    details: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The event as callbacks, the feed and the work-order view carry it."""
        return {
            "event_id": self.event_id,
            "global_seq": self.global_seq,
            "work_order_no": self.work_order_no,
            "case_id": self.case_id,
            "seq": self.seq,
            "type": self.type,
            "at": iso(self.at),
            **self.details,
        }


@dataclass(slots=True)
class Repeat:
    """An appeal attached to a work order as a repeat (重复件); detached again by an unmerge."""

    appeal: Appeal
    request: dict[str, Any]
    fingerprint: str
    attached_at: datetime
    status: str = "attached"  # attached | detached | merged (moved on with its work order's merge)
    detached_at: datetime | None = None
    detach_reason: str | None = None

    def as_json(self, with_request: bool = False) -> dict[str, Any]:
        """The repeat as the work-order view shows it."""
        doc: dict[str, Any] = {
            "appeal_id": self.appeal.appeal_id,
            "status": self.status,
            "attached_at": iso(self.attached_at),
            "detached_at": iso(self.detached_at) if self.detached_at else None,
        }
        if with_request:
            doc |= {"detach_reason": self.detach_reason, "request": self.request}
        return doc


@dataclass(slots=True)
class KeptRequest:
    """A request kept on a work order (a flag, a review return), shown in the work-order view."""

    work_order_no: str
    request: dict[str, Any]
    fingerprint: str
    received_at: datetime

    shown: ClassVar[tuple[str, ...]] = ()  # the request's fields the view shows

    def as_json(self, with_request: bool = False) -> dict[str, Any]:
        """The request as the work-order view shows it (and, with_request, the whole request)."""
        doc = {name: self.request.get(name) for name in self.shown} | self.facts()
        return doc | ({"request": self.request} if with_request else {})

    def facts(self) -> dict[str, Any]:
        """What the view shows besides the request's fields."""
        return {}


@dataclass(slots=True)
class Flag(KeptRequest):
    """A supervision (督办) or group-appeal (群体诉求) flag on a work order."""

    shown: ClassVar[tuple[str, ...]] = ("flag_id", "kind", "reason", "cluster_id", "raised_at")


@dataclass(slots=True)
class Merge(KeptRequest):
    """A work order merged into another (工单合并): its appeals are the other's repeats from then on."""

    shown: ClassVar[tuple[str, ...]] = ("merge_id", "into_work_order_no", "reason")


@dataclass(slots=True)
class ReviewReturn(KeptRequest):
    """A reply rejected by the reviewing body of a merged channel, sent back by huiju (审核退回)."""

    seq: int = 0  # of the `returned` event it caused

    shown: ClassVar[tuple[str, ...]] = ("return_id", "appeal_id", "channel_id", "returned_at")

    def facts(self) -> dict[str, Any]:
        """The `seq` of its `returned` event."""
        return {"seq": self.seq}


@dataclass(slots=True)
class RecordUpdate:
    """A step of a shared record's progress on its own platform (its status, reply, unit)."""

    update_id: str
    record_no: str
    request: dict[str, Any]
    fingerprint: str
    at: datetime
    received_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The update as the control API shows it: the request and when the platform received it."""
        return self.request | {"received_at": iso(self.received_at)}


@dataclass(slots=True)
class SharedRecord:
    """A record of an interconnect channel, shared for information; its own platform's progress is kept on it."""

    record_no: str
    appeal_id: str
    request: dict[str, Any]
    fingerprint: str
    received_at: datetime
    updates: list[RecordUpdate] = field(default_factory=list)

    def channel_status(self) -> str | None:
        """The status of the latest update by its time (the later received of two at the same time)."""
        if not self.updates:
            return None
        latest = max(enumerate(self.updates), key=lambda pair: (pair[1].at, pair[0]))[1]
        return latest.request["status"]

    def as_json(self) -> dict[str, Any]:
        """The record as the control API shows it."""
        return {
            "record_no": self.record_no,
            "appeal_id": self.appeal_id,
            "received_at": iso(self.received_at),
            "channel_status": self.channel_status(),
            "updates": [u.as_json() for u in self.updates],
            "request": self.request,
        }


@dataclass(slots=True)
class WorkOrder:
    """A work order (工单) and where it is in its life."""

    no: str
    serial: int  # 1, 2, 3 … in order of creation: the random streams hang on it, not on the dated number
    case_id: str
    appeal: Appeal
    request: dict[str, Any]
    fingerprint: str
    created_at: datetime
    departments: tuple[str, str, str]
    status: str = "created"
    deadline: datetime | None = None
    unit: Unit | None = None
    returns: int = 0  # by units; review returns are not counted (they send it back to the same unit)
    extended: bool = False
    rehandling: bool = False  # sent back by a review return: dispatched again, then replied anew
    reply_samples: list[str] = field(default_factory=list)  # ids of the real replies used, never used twice
    events: list[Event] = field(default_factory=list)
    repeats: dict[str, Repeat] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    review_returns: list[ReviewReturn] = field(default_factory=list)
    merge: Merge | None = None  # set when it was merged into another work order
    next_step: str | None = "accepted"
    next_at: datetime | None = None  # business time the next step is planned for
    token: int = 0  # bumped whenever the plan changes, so a stale timer entry does nothing

    def tier_seconds(self) -> int:
        """The handling time limit of the work order's tier."""
        return TIER_SECONDS[self.appeal.time_tier]

    def appeal_now(self, appeal_id: str) -> Appeal | None:
        """The appeal of this id if it is in the work order now: its first appeal or an attached repeat."""
        if appeal_id == self.appeal.appeal_id:
            return self.appeal
        repeat = self.repeats.get(appeal_id)
        return repeat.appeal if repeat is not None and repeat.status == "attached" else None

    def as_json(self, full: bool = False) -> dict[str, Any]:
        """The work order as GET /api/v1/work-orders/{no} (and, full, the control API) shows it."""
        doc: dict[str, Any] = {
            "work_order_no": self.no,
            "case_id": self.case_id,
            "appeal_id": self.appeal.appeal_id,
            "status": self.status,
            "created_at": iso(self.created_at),
            "deadline": iso(self.deadline) if self.deadline else None,
            "unit": self.unit.as_json() if self.unit else None,
            "last_seq": len(self.events),
            "repeats": [r.as_json(full) for r in self.repeats.values()],
            "flags": [f.as_json(full) for f in self.flags],
            "review_returns": [r.as_json(full) for r in self.review_returns],
            "merged_into": self.merge.request["into_work_order_no"] if self.merge else None,
            "events": [e.as_json() for e in self.events],
        }
        if full:
            doc |= {
                "request": self.request,
                "next_step": self.next_step,
                "next_at": iso(self.next_at) if self.next_at else None,
            }
        return doc


EventSink = Callable[[Event, bool], None]  # (event, whether the work order has a next step planned)


class Platform:
    """The simulated platform's work orders, events, shared records and flags, and the timer that moves them."""

    def __init__(self, *, seed: int = 0, clock: SimClock | None = None, knobs: Knobs | None = None) -> None:
        self.seed = seed
        self.clock = clock or SimClock()
        self.knobs = knobs or Knobs()
        self.orders: dict[str, WorkOrder] = {}
        self.by_case: dict[str, str] = {}
        self.active_appeals: dict[str, str] = {}  # appeal id -> work order it is in (first appeal or attached)
        self.shared: dict[str, SharedRecord] = {}  # by appeal id
        self.records: dict[str, SharedRecord] = {}  # the same, by record number
        self.record_updates: dict[str, RecordUpdate] = {}  # by update id
        self.flags: dict[str, Flag] = {}  # by flag id
        self.returns: dict[str, ReviewReturn] = {}  # by return id
        self.merges: dict[str, Merge] = {}  # by merge id
        self.feed: list[Event] = []  # every event, by global_seq
        self._feed_keys: list[int] = []
        self._serial = itertools.count(1)
        self._shared_serial = itertools.count(1)
        self._global_seq = itertools.count(1)
        self._timers: list[tuple[float, int, str, int]] = []  # (wall due, tiebreak, work order no, token)
        self._tiebreak = itertools.count()
        self._wake = asyncio.Event()
        self._errors = random.Random(f"{seed}:errors")
        self.sinks: list[EventSink] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_MAX)

    # -- the requests huiju sends -------------------------------------------------------------------------------

    def create(self, case_id: str, appeal: Appeal, request: dict[str, Any], fingerprint: str) -> WorkOrder:
        """Open a work order for a new case (the caller checked idempotency and the appeal's other uses)."""
        now = self.clock.now()
        serial = next(self._serial)
        no = f"WO{now.astimezone(BEIJING):%Y%m%d}{serial:06d}"
        text = " ".join(filter(None, (appeal.category, appeal.title, appeal.content)))
        order = WorkOrder(
            no=no,
            serial=serial,
            case_id=case_id,
            appeal=appeal,
            request=request,
            fingerprint=fingerprint,
            created_at=now,
            departments=units.candidate_departments(text, appeal.emergency),
        )
        self.orders[no] = order
        self.by_case[case_id] = no
        self.active_appeals[appeal.appeal_id] = no
        self._plan(order, "accepted", self._delay(order, self.knobs.accept_delay_s, "accept"), now)
        return order

    def attach(self, order: WorkOrder, appeal: Appeal, request: dict[str, Any], fingerprint: str) -> Repeat:
        """Attach (or re-attach) an appeal to a work order as a repeat."""
        repeat = Repeat(appeal, request, fingerprint, attached_at=self.clock.now())
        order.repeats[appeal.appeal_id] = repeat
        self.active_appeals[appeal.appeal_id] = order.no
        return repeat

    def detach(self, order: WorkOrder, repeat: Repeat, reason: str | None) -> None:
        """Detach a repeat from its work order (an auditor's unmerge)."""
        if repeat.status == "detached":
            return
        repeat.status = "detached"
        repeat.detached_at = self.clock.now()
        repeat.detach_reason = reason
        self.active_appeals.pop(repeat.appeal.appeal_id, None)

    def merge(self, order: WorkOrder, into: WorkOrder, merge_id: str, request: dict[str, Any], fingerprint: str):
        """Merge a work order into another: its life ends (status `merged`, no further events), and its first
        appeal and attached repeats become repeats of the other."""
        merge = Merge(order.no, request, fingerprint, self.clock.now())
        self.merges[merge_id] = merge
        order.merge = merge
        order.status = "merged"
        self._plan(order, None, 0)
        moving = [order.appeal] + [r.appeal for r in order.repeats.values() if r.status == "attached"]
        for r in order.repeats.values():
            if r.status == "attached":
                r.status = "merged"
        for appeal in moving:
            self.attach(into, appeal, request, fingerprint)
        return merge

    def share(self, appeal_id: str, request: dict[str, Any], fingerprint: str) -> SharedRecord:
        """Keep a shared record of an interconnect channel."""
        now = self.clock.now()
        record = SharedRecord(
            f"SR{now.astimezone(BEIJING):%Y%m%d}{next(self._shared_serial):06d}",
            appeal_id,
            request,
            fingerprint,
            now,
        )
        self.shared[appeal_id] = record
        self.records[record.record_no] = record
        return record

    def update_record(
        self, record: SharedRecord, update_id: str, at: datetime, request: dict[str, Any], fingerprint: str
    ) -> RecordUpdate:
        """Keep a step of a shared record's progress on its own platform (no event: its platform handles it)."""
        update = RecordUpdate(update_id, record.record_no, request, fingerprint, at, self.clock.now())
        self.record_updates[update_id] = update
        record.updates.append(update)
        return update

    def raise_flag(self, order: WorkOrder, flag_id: str, request: dict[str, Any], fingerprint: str) -> Flag:
        """Put a flag on a work order."""
        flag = Flag(order.no, request, fingerprint, self.clock.now())
        self.flags[flag_id] = flag
        order.flags.append(flag)
        return flag

    def review_return(
        self, order: WorkOrder, return_id: str, request: dict[str, Any], fingerprint: str
    ) -> ReviewReturn:
        """Send a replied work order back after the channel's review rejected the reply (审核退回).

        The `returned` event is emitted at once; the work order is then dispatched again to the unit that
        replied and lives on from there: a new reply, closed, revisited.
        """
        ret = ReviewReturn(order.no, request, fingerprint, self.clock.now())
        self.returns[return_id] = ret
        order.review_returns.append(ret)
        order.rehandling = True
        ret.seq = self._emit(order, "returned", self.clock.now(), partial(self._on_review_returned, ret)).seq
        return ret

    def page(self, after_seq: int, limit: int) -> tuple[list[Event], bool]:
        """The events after a global sequence number, oldest first, at most `limit`; and whether more follow."""
        start = bisect.bisect_right(self._feed_keys, after_seq)
        events = self.feed[start : start + limit]
        return events, start + limit < len(self.feed)

    # -- the life of a work order ---------------------------------------------------------------------------------

    def advance(self, order: WorkOrder, planned: bool = False) -> Event | None:
        """Emit the work order's next event (now, or at its planned time); None when its life is over."""
        kind = order.next_step
        if kind is None:
            return None
        # A planned event happened at its planned time (the timer may fire a moment late, or, by rounding, early).
        at = order.next_at if planned and order.next_at else self.clock.now()
        return self._emit(order, kind, at, getattr(self, f"_on_{kind}"))

    def _emit(self, order: WorkOrder, kind: str, at: datetime, details_of: Callable[..., dict[str, Any]]) -> Event:
        """Record an event of the work order, plan the step after it, and hand it to the sinks."""
        if order.events and at < order.events[-1].at:
            at = order.events[-1].at
        seq = len(order.events) + 1
        rng = random.Random(f"{self.seed}:{order.serial}:{seq}")
        details = details_of(order, at, rng)
        global_seq = next(self._global_seq)
        event = Event(f"{order.no}-{seq:03d}", global_seq, order.no, order.case_id, seq, kind, at, details)
        order.events.append(event)
        order.status = kind
        self.feed.append(event)
        self._feed_keys.append(global_seq)
        self._plan_after(order, kind, at, rng)
        for sink in self.sinks:
            sink(event, order.next_step is not None)
        return event

    def _on_accepted(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        order.deadline = order.created_at + timedelta(seconds=order.tier_seconds())
        return {"deadline": iso(order.deadline)}

    def _on_dispatched(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        order.unit = self._unit(order, order.returns)
        if order.rehandling:  # handled again after a review return: a whole time limit from now
            renewed = at + timedelta(seconds=order.tier_seconds())
            order.deadline = max(order.deadline or renewed, renewed)
        return {"unit": order.unit.as_json(), "deadline": iso(order.deadline or at)}

    def _on_returned(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        unit = order.unit or self._unit(order, order.returns)
        suggested = self._unit(order, order.returns + 1)
        _, district = units.district_of(order.appeal.location.division_code)
        reason, basis = units.return_words(rng, order.departments[order.returns], district, suggested)
        order.returns += 1
        return {
            "by": "unit",
            "unit": unit.as_json(),
            "reason": reason,
            "basis": basis,
            "suggested_unit": suggested.as_json(),
        }

    def _on_review_returned(
        self, ret: ReviewReturn, order: WorkOrder, at: datetime, rng: random.Random
    ) -> dict[str, Any]:
        r = ret.request
        return {
            "by": "review",
            "unit": review_unit(r["channel_id"]),
            "reason": r["comment"],
            "return_id": r["return_id"],
            "appeal_id": r["appeal_id"],
            "channel_id": r["channel_id"],
        }

    def _on_extended(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        order.extended = True
        order.deadline = (order.deadline or at) + timedelta(seconds=order.tier_seconds())
        unit = order.unit or self._unit(order, order.returns)
        return {"unit": unit.as_json(), "deadline": iso(order.deadline), "reason": units.extension_reason(rng)}

    def _on_replied(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        unit = order.unit or self._unit(order, order.returns)
        department = order.departments[order.returns]
        sample = replies.choose(rng, department, avoid=frozenset(order.reply_samples))
        order.reply_samples.append(sample["id"])
        order.rehandling = False
        text = replies.adapt(sample, unit, order.appeal.location.division_code, at)
        return {"unit": unit.as_json(), "text": text}

    def _on_closed(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        return {"resolved": rng.random() < self.knobs.resolution_rate}

    def _on_revisited(self, order: WorkOrder, at: datetime, rng: random.Random) -> dict[str, Any]:
        k = self.knobs
        roll = rng.random()
        if roll < k.unsatisfied_rate:
            satisfaction, note = "unsatisfied", "市民表示问题未得到解决，对办理结果不满意。"
        elif roll < k.unsatisfied_rate + k.basically_satisfied_rate:
            satisfaction, note = "basically_satisfied", "市民表示问题已部分解决，对办理结果基本满意。"
        else:
            satisfaction, note = "satisfied", "市民表示问题已解决，对办理结果满意。"
        return {"satisfaction": satisfaction, "note": note}

    def _unit(self, order: WorkOrder, index: int) -> Unit:
        """The unit of the work order's department at `index` (0 first, 1 after one return by a unit, …)."""
        department = order.departments[min(index, len(order.departments) - 1)]
        return units.unit_for(department, order.appeal.location.division_code, order.appeal.location.township)

    def _plan_after(self, order: WorkOrder, kind: str, at: datetime, rng: random.Random) -> None:
        """Decide the step after the event just emitted (of type `kind`), and when it comes."""
        k = self.knobs
        if kind in ("accepted", "returned"):
            self._plan(order, "dispatched", self._delay(order, k.dispatch_delay_s, "dispatch"), at)
        elif kind == "dispatched":
            left = max(0.0, ((order.deadline or at) - at).total_seconds())
            if order.rehandling:  # the unit answered for it already: it replies again, no return, no extension
                self._plan(order, "replied", self._reply_delay(order, left, rng), at)
            elif order.returns < MAX_RETURNS and rng.random() < k.return_rate:
                self._plan(order, "returned", self._delay(order, k.return_delay_s, "return"), at)
            elif not order.extended and rng.random() < k.extend_rate:
                self._plan(order, "extended", self._delay(order, min(k.extend_delay_s, left / 2), "extend"), at)
            else:
                self._plan(order, "replied", self._reply_delay(order, left, rng), at)
        elif kind == "extended":
            left = max(0.0, ((order.deadline or at) - at).total_seconds())
            self._plan(order, "replied", self._reply_delay(order, left, rng), at)
        elif kind == "replied":
            self._plan(order, "closed", self._delay(order, k.close_delay_s, "close"), at)
        elif kind == "closed":
            self._plan(order, "revisited", self._delay(order, k.revisit_delay_s, "revisit"), at)
        else:
            self._plan(order, None, 0.0, at)

    def _reply_delay(self, order: WorkOrder, left: float, rng: random.Random) -> float:
        """On time: the reply delay, but before the deadline; overdue (overdue_rate): after it."""
        if rng.random() < self.knobs.overdue_rate:
            return left + OVERDUE_SHARE_OF_TIER * order.tier_seconds()
        return min(self._delay(order, self.knobs.reply_delay_s, "reply"), left * REPLY_SHARE_OF_REMAINING)

    def _delay(self, order: WorkOrder, seconds: float, step: str) -> float:
        jitter = self.knobs.jitter
        if jitter <= 0:
            return seconds
        factor = random.Random(f"{self.seed}:{order.serial}:{len(order.events)}:{step}").uniform(
            1 - jitter, 1 + jitter
        )
        return seconds * factor

    def _plan(self, order: WorkOrder, step: str | None, delay_s: float, after: datetime | None = None) -> None:
        order.next_step = step
        order.token += 1
        if step is None:
            order.next_at = None
            return
        base = after or self.clock.now()
        order.next_at = base + timedelta(seconds=delay_s)
        # The wall-clock moment of the business time planned, measured from now.
        wait = self.clock.wall_seconds(max(0.0, (order.next_at - self.clock.now()).total_seconds()))
        due = time.monotonic() + wait
        heapq.heappush(self._timers, (due, next(self._tiebreak), order.no, order.token))
        self._wake.set()

    def wake(self) -> None:
        """Look at the timers again (after a knob changed)."""
        self._wake.set()

    async def run_timers(self) -> None:
        """Emit each planned event when its time comes, until cancelled (only while knobs.auto_advance)."""
        while True:
            self._wake.clear()
            timeout: float | None = None
            if self.knobs.auto_advance:
                now = time.monotonic()
                while self._timers and self._timers[0][0] <= now:
                    _, _, no, token = heapq.heappop(self._timers)
                    order = self.orders.get(no)
                    if order is not None and order.token == token:
                        self.advance(order, planned=True)
                if self._timers:
                    timeout = max(0.0, self._timers[0][0] - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def injected_error(self) -> int | None:
        """An error status to answer instead of the real one (error_rate), or None."""
        k = self.knobs
        if k.error_rate > 0 and self._errors.random() < k.error_rate:
            return self._errors.choice(k.error_statuses)
        return None
