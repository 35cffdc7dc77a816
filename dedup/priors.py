"""The appeals a matcher remembers (its priors), in columns.

A matcher keeps every appeal it decided or replayed, millions of them, and asks of a few dozen at a time: their
case, person, channel, time, place and cluster, and, while they are within the window, their text and address.
One Python object per appeal, with its own case id string and datetime, cost about 450 bytes beside the index.
Here an appeal is a row of compact columns (array.array), where its case, channel, division code, township and
cluster are numbers naming strings stored once, and its time is microseconds since the epoch; its id is kept
as it came, and its text and address only while `forget` has not been called for it.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NONE = -1  # the code of a missing person, place or cluster


@dataclass(slots=True)
class Prior:
    """An appeal already decided, as later decisions read it (a copy of its row: change it through Priors)."""

    row: int
    id: str
    case_id: str
    person: int | None
    channel: str
    received_at: datetime
    text: str
    division_code: str | None
    township: str | None
    address: str | None
    cluster_id: str | None = None


class Names(dict[str | None, int]):
    """Strings stored once, each named by a small number, its code (looked up as names[string]: a dict's lookup,
    in C, which adds a string not seen before). None and "" have the code NONE."""

    def __init__(self) -> None:
        super().__init__({None: NONE, "": NONE})
        self.names: list[str] = []

    def __missing__(self, name: str) -> int:
        code = self[name] = len(self.names)
        self.names.append(name)
        return code

    def name(self, code: int) -> str | None:
        return None if code == NONE else self.names[code]


class Priors:
    """Rows of remembered appeals, numbered from 0 in the order they were kept."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.cases = Names()
        self.clusters = Names()
        self.places = Names()  # channels, division codes and townships
        self._case = array("i")
        self._person = array("i")
        self._channel = array("i")
        self._micros = array("q")
        self._division = array("i")
        self._township = array("i")
        self._cluster = array("i")
        self._texts: dict[int, tuple[str, str | None]] = {}  # row -> (text, address), until forgotten

    def __len__(self) -> int:
        return len(self.ids)

    def append(
        self,
        appeal_id: str,
        case_id: str,
        person: int | None,
        channel: str,
        received_at: datetime,
        text: str,
        division_code: str | None,
        township: str | None,
        address: str | None,
        cluster_id: str | None,
    ) -> int:
        """Keep an appeal; its row."""
        row = len(self.ids)
        self.ids.append(appeal_id)
        self._case.append(self.cases[case_id])
        self._person.append(NONE if person is None else person)
        self._channel.append(self.places[channel])
        self._micros.append(micros(received_at))
        self._division.append(self.places[division_code])
        self._township.append(self.places[township])
        self._cluster.append(self.clusters[cluster_id])
        self._texts[row] = (text, address)
        return row

    def __iter__(self) -> Iterator[Prior]:
        return map(self.__getitem__, range(len(self)))

    def __getitem__(self, row: int) -> Prior:
        if row < 0:
            row += len(self)
        text, address = self._texts.get(row, ("", None))
        return Prior(
            row,
            self.ids[row],
            self.case_id(row),
            self.person(row),
            self.channel(row),
            at_micros(self._micros[row]),
            text,
            self.places.name(self._division[row]),
            self.places.name(self._township[row]),
            address,
            self.clusters.name(self._cluster[row]),
        )

    def case_id(self, row: int) -> str:
        return self.cases.names[self._case[row]]

    def case_code(self, row: int) -> int:
        return self._case[row]

    def code_of_case(self, case_id: str) -> int | None:
        """The code of a case some row has had (None for one never seen: looking it up adds no code)."""
        return self.cases.get(case_id)

    def set_case(self, row: int, case_id: str) -> None:
        self._case[row] = self.cases[case_id]

    def set_cluster(self, row: int, cluster_id: str | None) -> None:
        self._cluster[row] = self.clusters[cluster_id]

    def person(self, row: int) -> int | None:
        person = self._person[row]
        return None if person == NONE else person

    def channel(self, row: int) -> str:
        return self.places.names[self._channel[row]]

    def micros(self, row: int) -> int:
        """The row's time of receipt, in microseconds since the epoch."""
        return self._micros[row]

    def forget(self, row: int) -> None:
        """Drop the row's text and address (it left the window)."""
        self._texts.pop(row, None)


class Chains:
    """Rows listed under keys (a case's code, a person), as links in arrays rather than a list per key: each
    row's previous row under its key, and each key's last row. A row is under one key at a time; keys are small
    numbers (codes and persons count up from 0)."""

    def __init__(self) -> None:
        self._prev = array("i")  # by row
        self._last = array("i")  # by key

    def append(self, key: int, row: int) -> None:
        """List the row last under the key."""
        last, prev = self._last, self._prev
        if key >= len(last):
            last.extend(repeat(NONE, key + 1 - len(last)))
        if row == len(prev):  # the usual case: the newest row
            prev.append(last[key])
        else:
            if row > len(prev):
                prev.extend(repeat(NONE, row + 1 - len(prev)))
            prev[row] = last[key]
        last[key] = row

    def rows(self, key: int | None, most: int | None = None) -> list[int]:
        """The rows under the key in the order they were listed (only the last `most`, if given)."""
        if key is None or not 0 <= key < len(self._last):
            return []
        out, row, prev = [], self._last[key], self._prev
        while row != NONE and (most is None or len(out) < most):
            out.append(row)
            row = prev[row]
        out.reverse()
        return out

    def last(self, key: int | None) -> int | None:
        """The row listed last under the key."""
        if key is None or not 0 <= key < len(self._last) or self._last[key] == NONE:
            return None
        return self._last[key]

    def remove(self, key: int, row: int) -> None:
        """Take the row from under the key (it is there)."""
        after, at = NONE, self._last[key]
        while at != row:
            after, at = at, self._prev[at]
        if after == NONE:
            self._last[key] = self._prev[row]
        else:
            self._prev[after] = self._prev[row]
        self._prev[row] = NONE

    def merge(self, into: int, absorbed: int) -> None:
        """List the absorbed key's rows under `into`, all of them then in row order."""
        rows = sorted(self.rows(into) + self.rows(absorbed))
        if max(into, absorbed) >= len(self._last):
            self._last.extend(repeat(NONE, max(into, absorbed) + 1 - len(self._last)))
        self._last[absorbed] = NONE
        prev = NONE
        for row in rows:
            self._prev[row] = prev
            prev = row
        self._last[into] = prev


def micros(t: datetime) -> int:
    """Microseconds since the epoch (a time without a zone is taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (t - EPOCH) // timedelta(microseconds=1)


def at_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)
