"""The state of the simulated Open311 city: its service requests, their life, tokens and the knobs.

A service request lives as a city's 311 back office would live it: `open` when it is reported; after
`assign_delay_s` an agency takes it (`agency_responsible` set, and an interim `status_notes` saying so);
after `close_delay_s` more it is `closed` with the agency's reply in `status_notes`. Every step sets
`updated_datetime`. Delays are business seconds on the simulator's clock (simulators/hotline SimClock: 1 /
clock_scale times as fast as the wall clock), so tests compress days into moments.

The life is planned when the request is created (from the knobs of that moment and a random stream fixed by
(seed, request)) and applied lazily: whoever reads a request sees the steps whose planned time has passed,
each stamped with its planned time. There are no timers; the same seed gives the same lives.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from simulators.hotline import replies, units
from simulators.hotline.platform import REQUEST_LOG_MAX, Rate, Seconds, SimClock
from simulators.open311.services import Service

BEIJING = ZoneInfo("Asia/Shanghai")
FIRST_ID = 1_000_001  # ids look like a city's: seven digits
SPEC_MAX_RESULTS = 1_000  # GeoReport v2: "first 1000 requests returned"


class Knobs(BaseModel):
    """What the simulated server does besides answering correctly; changed at run time by PUT /_sim/knobs."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0  # added before every API answer
    error_rate: Rate = 0.0  # fraction of API requests answered with one of error_statuses
    error_statuses: Annotated[list[Annotated[int, Field(ge=400, le=599)]], Field(min_length=1)] = [429, 500, 503]
    outage: bool = False  # every API request 503
    lost_answer_rate: Rate = 0.0  # POST /requests: the request is created, then answered 500 (the answer is lost)
    async_tokens: bool = False  # POST /requests answers a token; the id appears token_delay_s later
    blackbox: bool = False  # POST /requests answers neither id nor token (the spec's blackbox services)
    token_delay_s: Seconds = 60.0
    auto_advance: bool = True  # false: a request stays as it is until POST /_sim/service-requests/{id}/advance
    assign_delay_s: Seconds = 1_800.0  # open -> agency_responsible set
    close_delay_s: Seconds = 172_800.0  # agency set -> closed, with the reply in status_notes
    jitter: Rate = 0.0  # each delay is multiplied by a factor from [1 - jitter, 1 + jitter]
    interim_notes: bool = True  # an assigned, still open request says so in status_notes
    max_results: Annotated[int, Field(ge=1, le=SPEC_MAX_RESULTS)] = SPEC_MAX_RESULTS  # GET /requests cap


KNOB_NAMES = frozenset(Knobs.model_fields)


def w3c(moment: datetime) -> str:
    """A time as the server writes it: W3C date-time in Beijing time, to the second."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


@dataclass(slots=True)
class ServiceRequest:
    """One service request and where it is in its life."""

    serial: int
    id: str
    service: Service
    form: dict[str, str]  # every field as POSTed (api_key left out)
    attributes: dict[str, list[str]]
    requested_at: datetime
    visible_at: datetime  # when its id is known (at once, or when its token resolves)
    token: str | None
    assign_at: datetime | None  # planned steps (None: not planned; manual advance only)
    close_at: datetime | None
    status: str = "open"
    agency: str | None = None
    notes: str | None = None
    updated_at: datetime | None = None
    steps: list[dict[str, str]] = field(default_factory=list)  # what happened when, for the control API

    def as_json(self) -> dict[str, Any]:
        """The request as GET /requests.json and GET /requests/{id}.json show it (no submitter's data)."""
        f = self.form
        lat, lon = f.get("lat"), f.get("long")
        return {
            "service_request_id": self.id,
            "status": self.status,
            "status_notes": self.notes,
            "service_name": self.service.name,
            "service_code": self.service.code,
            "description": f.get("description") or None,
            "agency_responsible": self.agency,
            "service_notice": self.service.notice(),
            "requested_datetime": w3c(self.requested_at),
            "updated_datetime": w3c(self.updated_at or self.requested_at),
            "expected_datetime": w3c(self.requested_at + timedelta(days=self.service.days)),
            "address": f.get("address_string") or None,
            "address_id": f.get("address_id") or None,
            "zipcode": None,
            "lat": float(lat) if lat else None,
            "long": float(lon) if lon else None,
            "media_url": f.get("media_url") or None,
        }

    def as_control_json(self) -> dict[str, Any]:
        """Everything the server knows, for the control API: the form as received (with the submitter's data)."""
        return self.as_json() | {
            "token": self.token,
            "visible_at": w3c(self.visible_at),
            "form": self.form,
            "attributes": self.attributes,
            "next_step": self.next_step(),
            "steps": self.steps,
        }

    def next_step(self) -> str | None:
        """assigned, closed, or None once closed."""
        if self.status == "closed":
            return None
        return "assigned" if self.agency is None else "closed"


class City:
    """The simulated city's service requests, tokens and wire log."""

    def __init__(
        self,
        *,
        api_key: str,
        jurisdiction_id: str,
        division_code: str = "360702",
        seed: int = 0,
        clock: SimClock | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        self.api_key = api_key
        self.jurisdiction_id = jurisdiction_id
        self.division_code = division_code
        self.seed = seed
        self.clock = clock or SimClock()
        self.knobs = knobs or Knobs()
        self.requests: dict[str, ServiceRequest] = {}
        self.tokens: dict[str, ServiceRequest] = {}
        self.wire: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_MAX)
        self._serial = itertools.count(1)
        self._errors = random.Random(f"{seed}:errors")

    def create(self, service: Service, form: dict[str, str], attributes: dict[str, list[str]]) -> ServiceRequest:
        """Take a validated request in; its life is planned now, from the knobs of this moment."""
        k = self.knobs
        now = self.clock.now()
        serial = next(self._serial)
        rng = random.Random(f"{self.seed}:{serial}")
        token = f"{rng.getrandbits(64):016x}" if k.async_tokens else None
        visible_at = now + timedelta(seconds=self._jittered(rng, k.token_delay_s)) if token else now
        assign_at = close_at = None
        if k.auto_advance:
            assign_at = visible_at + timedelta(seconds=self._jittered(rng, k.assign_delay_s))
            close_at = assign_at + timedelta(seconds=self._jittered(rng, k.close_delay_s))
        sr = ServiceRequest(
            serial=serial,
            id=str(FIRST_ID + serial - 1),
            service=service,
            form=form,
            attributes=attributes,
            requested_at=now,
            visible_at=visible_at,
            token=token,
            assign_at=assign_at,
            close_at=close_at,
        )
        sr.steps.append({"step": "reported", "at": w3c(now)})
        self.requests[sr.id] = sr
        if token:
            self.tokens[token] = sr
        return sr

    def _jittered(self, rng: random.Random, seconds: float) -> float:
        jitter = self.knobs.jitter
        return seconds * rng.uniform(1 - jitter, 1 + jitter) if jitter > 0 else seconds

    # -- reading: the steps whose time has come are applied first ------------------------------------------------

    def visible(self, now: datetime | None = None) -> list[ServiceRequest]:
        """Every request whose id is known now, brought up to date."""
        now = now or self.clock.now()
        return [self.refresh(sr, now) for sr in self.requests.values() if sr.visible_at <= now]

    def get(self, request_id: str) -> ServiceRequest | None:
        """One request by id, up to date; None when unknown or its token has not resolved yet."""
        now = self.clock.now()
        sr = self.requests.get(request_id)
        return self.refresh(sr, now) if sr is not None and sr.visible_at <= now else None

    def refresh(self, sr: ServiceRequest, now: datetime) -> ServiceRequest:
        """Apply the planned steps whose time has passed, each at its planned time."""
        if sr.assign_at is not None and sr.agency is None and sr.assign_at <= now:
            self._assign(sr, sr.assign_at)
        if sr.close_at is not None and sr.status == "open" and sr.close_at <= now:
            self._close(sr, sr.close_at)
        return sr

    def advance(self, sr: ServiceRequest) -> str | None:
        """Take a visible request's next step now (the control API); the step, or None when it is closed."""
        now = self.clock.now()
        self.refresh(sr, now)
        step = sr.next_step()
        if step is None:
            return None
        at = max(now, sr.updated_at or sr.requested_at)
        sr.assign_at = sr.close_at = None  # advanced by hand from now on
        if step == "assigned":
            self._assign(sr, at)
        else:
            self._close(sr, at)
        return step

    def _assign(self, sr: ServiceRequest, at: datetime) -> None:
        unit = units.unit_for(sr.service.department, self.division_code, None)
        sr.agency = unit.name
        if self.knobs.interim_notes:
            sr.notes = f"已转交{unit.name}办理。"
        sr.updated_at = at
        sr.steps.append({"step": "assigned", "at": w3c(at)})

    def _close(self, sr: ServiceRequest, at: datetime) -> None:
        if sr.agency is None:
            self._assign(sr, at)
        unit = units.unit_for(sr.service.department, self.division_code, None)
        rng = random.Random(f"{self.seed}:{sr.serial}:reply")
        sample = replies.choose(rng, sr.service.department)
        sr.status = "closed"
        sr.notes = replies.adapt(sample, unit, self.division_code, at)
        sr.updated_at = at
        sr.steps.append({"step": "closed", "at": w3c(at)})

    def search(
        self,
        *,
        codes: set[str] | None,
        start: datetime,
        end: datetime,
        statuses: set[str] | None,
    ) -> list[ServiceRequest]:
        """GET /requests.json without ids: requested in [start, end], newest first, at most max_results."""
        found = [
            sr
            for sr in self.visible()
            if start <= sr.requested_at <= end
            and (codes is None or sr.service.code in codes)
            and (statuses is None or sr.status in statuses)
        ]
        found.sort(key=lambda sr: (sr.requested_at, sr.serial), reverse=True)
        return found[: self.knobs.max_results]

    def by_ids(self, ids: list[str]) -> list[ServiceRequest]:
        """GET /requests.json?service_request_id=…: the known ones, in the order asked (this overrides filters)."""
        seen: dict[str, ServiceRequest] = {}
        for request_id in ids:
            sr = self.get(request_id)
            if sr is not None:
                seen.setdefault(sr.id, sr)
        return list(seen.values())[: self.knobs.max_results]

    def injected_error(self) -> int | None:
        """An error status to answer instead of the real one (error_rate), or None."""
        k = self.knobs
        if k.error_rate > 0 and self._errors.random() < k.error_rate:
            return self._errors.choice(k.error_statuses)
        return None

    def lose_answer(self) -> bool:
        """Whether the answer to a request just created is lost (lost_answer_rate)."""
        k = self.knobs
        return k.lost_answer_rate > 0 and self._errors.random() < k.lost_answer_rate
