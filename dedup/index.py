"""A locality-sensitive hashing index over MinHash signatures, compact enough for 10 million appeals.

Banding. A signature's first `bands * rows` values are cut into `bands` bands of `rows` values; each band is
hashed to a 32-bit key, and two appeals are candidates when they share at least one key. Two texts whose
shingle sets have Jaccard similarity s share a given band with probability s^rows, so they become candidates
with probability P(s) = 1 - (1 - s^rows)^bands. The defaults, 20 bands of 3 rows:

    s     0.2    0.3    0.4    0.5    0.6    0.7    0.8
    P(s)  0.15   0.42   0.73   0.93   0.99   0.9998 1.0

A near duplicate at s = 0.5 (the same complaint retyped, or a form letter with another address) is found
93 % of the time and one at s >= 0.6 practically always. Unrelated appeals from one city's message board
(附件4 of teddy2020) have a median similarity near 0 and a 99.99th percentile near 0.06; measured over all
4.8 million pairs of those 3,116 real texts, unrelated pairs (s < 0.2) share a band at a rate of 2.5e-6,
about 2.5 chance candidates in a 30-day window of a million appeals. Four rows a band would cut that rate
further but find an s = 0.5 pair only 72 % of the time; two rows would find it 99.7 % of the time but make
60 times as many chance candidates (1.5e-4 a pair, 150 in that window). Twenty bands is what the memory
budget allows (below).

Storage, per appeal (no Python object per appeal):

    band entries   bands x 8 bytes   a sorted uint64 (band key << 32 | row) per segment: 160 bytes
    sketch         64 bytes          the low 8 bits of the signature's last 64 values
    day            4 bytes           the day of receipt (days since 1970-01-01, say), for the time window
    ------------------------------------------------------------------------------------------------
                   228 bytes, plus the unfilled rest of the last block of 16,384 rows (at most 1.1 MB)

Appeals enter a small unsorted buffer (searched by one vectorised comparison, so an appeal is found by the
very next lookup); a full buffer is sorted into a segment, and the two newest segments merge (a linear merge
of two sorted runs) while the older is no larger than the newer, up to `segment_rows` rows: a log-structured
layout whose segments each cover a stretch of arrival time, so a lookup limited to the last 30 days skips
every older segment outright. A lookup is one `searchsorted` per live segment for all bands at once.

Similarity is estimated from the sketch, which uses signature positions the bands do not: two appeals agree
in one 8-bit position with probability m = s + (1 - s) / 256 (chance agreement of different minima), so
s = (m - 1/256) / (1 - 1/256); with 64 positions the standard error is about 0.06 at s = 0.5.
"""

from __future__ import annotations

import io
import itertools
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from dedup.minhash import EMPTY, NUM_PERM, distinct_sorted, splitmix64

BANDS = 20
ROWS = 3
SKETCH = 64
BUFFER_ROWS = 1024
SEGMENT_ROWS = 1 << 18  # merging two segments of half this costs about 0.15 s, once every 262,144 appeals
MAX_ROW = 0xFFFFFFFE  # rows are stored in 32 bits; all ones is the end marker of a band key's range
NO_DAY = int(np.iinfo(np.int32).min)  # the day of a row never added
BLOCK_SHIFT = 14  # per-row arrays grow by blocks of 16,384 rows (1.1 MB), so a live add never copies them
BLOCK_ROWS = 1 << BLOCK_SHIFT
_BLOCK_MASK = BLOCK_ROWS - 1

_MAGIC = b"HUIJULSH"
_FORMAT = 1
_CHANCE = 1.0 / 256.0  # two different minima agree in their low 8 bits this often
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_BAND_SEED = 0x6875696A756C7368  # "huijulsh": band keys are the same in every process


@dataclass(slots=True)
class _Segment:
    """Sorted band entries (key << 32 | row) of a run of appeals, and the days of receipt they span."""

    entries: np.ndarray
    rows: int
    first_day: int
    last_day: int


class LshIndex:
    """Candidate lookup by banded MinHash signatures, with a b-bit sketch per row to estimate similarity.

    Rows are dense integers (0, 1, 2, ...) that the caller maps to appeal ids; each row is added once.
    An empty text's signature (all 0xFFFFFFFF) is kept for `estimate` but is nobody's candidate.
    """

    def __init__(
        self,
        bands: int = BANDS,
        rows: int = ROWS,
        num_perm: int = NUM_PERM,
        sketch: int = SKETCH,
        buffer_rows: int = BUFFER_ROWS,
        segment_rows: int = SEGMENT_ROWS,
    ) -> None:
        if min(bands, rows, sketch, buffer_rows) < 1 or segment_rows < buffer_rows:
            raise ValueError("bands, rows, sketch and buffer_rows must be positive, segment_rows >= buffer_rows")
        if bands * rows + sketch > num_perm:
            # Disjoint positions keep the sketch's estimate unbiased for rows found through a shared band.
            raise ValueError(f"bands * rows + sketch ({bands * rows} + {sketch}) exceeds num_perm ({num_perm})")
        self.bands = bands
        self.rows = rows
        self.num_perm = num_perm
        self.sketch = sketch
        self.buffer_rows = buffer_rows
        self.segment_rows = segment_rows
        words = splitmix64(_BAND_SEED, bands * (rows + 1))
        self._band_seeds = np.array(words[:bands], dtype=np.uint64)
        self._band_multipliers = np.array(words[bands:], dtype=np.uint64).reshape(bands, rows)
        self._per_row = _RowBlocks(sketch)
        self._count = 0
        self._segments: list[_Segment] = []
        self._buffer_keys = np.empty((bands, buffer_rows), dtype=np.uint32)  # by band: one compare a band
        self._buffer_rows = np.empty(buffer_rows, dtype=np.uint32)
        self._buffered = 0

    def __len__(self) -> int:
        """The number of rows added."""
        return self._count

    def nbytes(self) -> int:
        """Bytes held by the index's arrays (allocated capacity, not only what is filled)."""
        arrays = [self._buffer_keys, self._buffer_rows, self._band_seeds, self._band_multipliers]
        arrays += [s.entries for s in self._segments]
        return sum(a.nbytes for a in arrays) + self._per_row.nbytes()

    def reserve(self, rows: int) -> None:
        """Allocate the per-row arrays for rows 0..rows-1 up front (a rebuild that knows its size)."""
        self._per_row.reserve(rows)

    def add(self, row: int, signature: np.ndarray, day: int) -> None:
        """Index one appeal; the next `candidates` call sees it."""
        self.add_many(np.array([row], dtype=np.int64), self._one(signature)[None, :], np.array([day]))

    def add_many(self, rows: np.ndarray, signatures: np.ndarray, days: np.ndarray) -> None:
        """Index many appeals at once (a rebuild), in arrival order."""
        rows = np.asarray(rows, dtype=np.int64)
        signatures = np.asarray(signatures)
        days = np.asarray(days, dtype=np.int64)
        n = rows.shape[0]
        if rows.shape != (n,) or days.shape != (n,) or signatures.shape != (n, self.num_perm):
            raise ValueError(
                f"expected rows ({n},), signatures ({n}, {self.num_perm}), days ({n},); "
                f"got {rows.shape}, {signatures.shape}, {days.shape}"
            )
        if n == 0:
            return
        if rows.min() < 0 or rows.max() > MAX_ROW:
            raise ValueError(f"rows must be in 0..{MAX_ROW}")
        if days.min() <= NO_DAY or days.max() > np.iinfo(np.int32).max:
            raise ValueError("days must fit in a signed 32-bit integer")
        # Chunks bound the temporary (n, bands) uint64 arrays of the band keys.
        for start in range(0, n, self.segment_rows):
            part = slice(start, start + self.segment_rows)
            sigs = signatures[part].astype(np.uint32, copy=False)
            self._per_row.put(rows[part], sigs[:, -self.sketch :].astype(np.uint8), days[part])  # low 8 bits
            banded = ~(sigs == EMPTY).all(axis=1)
            self._take(self._band_keys(sigs[banded]), rows[part][banded].astype(np.uint32))
        self._count += n

    def candidates(self, signature: np.ndarray, since_day: int | None = None) -> np.ndarray:
        """Rows (sorted int64) sharing at least one band with the signature, received on or after since_day."""
        sig = self._one(signature)
        if (sig == EMPTY).all():
            return np.empty(0, dtype=np.int64)
        keys = self._band_keys(sig[None, :])[0]
        low = keys.astype(np.uint64) << _S32
        # A key's entries lie in [key << 32, key << 32 | 0xFFFFFFFF); no row is 0xFFFFFFFF.
        bounds = np.concatenate((low, low | _LOW32))
        live = [s for s in self._segments if since_day is None or s.last_day >= since_day]
        rows = []
        if live:
            at = np.array([s.entries.searchsorted(bounds) for s in live])
            starts, ends = at[:, : self.bands].ravel(), at[:, self.bands :].ravel()
            hit = np.flatnonzero(ends > starts)  # segment * bands + band
            for k, start, end in zip(hit.tolist(), starts[hit].tolist(), ends[hit].tolist(), strict=True):
                rows.append(live[k // self.bands].entries[start:end] & _LOW32)
        if self._buffered:
            hits = np.logical_or.reduce(self._buffer_keys[:, : self._buffered] == keys[:, None], axis=0)
            rows.append(self._buffer_rows[: self._buffered][hits])
        if not rows:
            return np.empty(0, dtype=np.int64)
        result = distinct_sorted(np.concatenate(rows).astype(np.int64))  # np.unique: 180 µs here on numpy 2.4
        if since_day is not None:
            result = result[self._per_row.days(result) >= since_day]
        return result

    def estimate(self, rows: np.ndarray, signature: np.ndarray) -> np.ndarray:
        """Estimated Jaccard similarity (float64, 0..1) of each row's text to the signature's, from the sketch."""
        rows = np.asarray(rows, dtype=np.int64)
        query = self._one(signature)[-self.sketch :].astype(np.uint8)
        agree = np.count_nonzero(self._per_row.sketches(rows) == query, axis=1) / self.sketch
        return np.clip((agree - _CHANCE) / (1.0 - _CHANCE), 0.0, 1.0)

    def day_of(self, rows: np.ndarray) -> np.ndarray:
        """The day of receipt stored for each row (NO_DAY for a row never added)."""
        return self._per_row.days(np.asarray(rows, dtype=np.int64))

    def save(self, path: str | Path) -> None:
        """Write the index to a file (native little-endian arrays after a JSON header)."""
        with open(path, "wb") as f:
            self._write(f)

    @classmethod
    def load(cls, path: str | Path) -> LshIndex:
        """Read an index written by `save`."""
        with open(path, "rb") as f:
            return cls._read(f)

    def to_bytes(self) -> bytes:
        """The index as bytes, in the format of `save`."""
        out = io.BytesIO()
        self._write(out)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LshIndex:
        """An index from `to_bytes` output."""
        return cls._read(io.BytesIO(data))

    def _one(self, signature: np.ndarray) -> np.ndarray:
        sig = np.asarray(signature)
        if sig.shape != (self.num_perm,):
            raise ValueError(f"a signature has shape ({self.num_perm},), not {sig.shape}")
        return sig.astype(np.uint32, copy=False)

    def _band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint32 keys: the upper half of (m_0 + sum m_j x_j) mod 2^64, strongly universal."""
        n = signatures.shape[0]
        values = signatures[:, : self.bands * self.rows].reshape(n, self.bands, self.rows)
        h = (values * self._band_multipliers).sum(axis=2)
        h += self._band_seeds
        return (h >> _S32).astype(np.uint32)

    def _take(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Band keys of rows, in order: through the buffer, or as segments of their own when they fill one."""
        i, n = 0, rows.shape[0]
        while i < n:
            if self._buffered == 0 and n - i >= self.buffer_rows:
                j = min(n, i + self.segment_rows)
                self._segments.append(self._segment(keys[i:j], rows[i:j]))
                self._compact()
            else:
                j = min(n, i + self.buffer_rows - self._buffered)
                self._buffer_keys[:, self._buffered : self._buffered + j - i] = keys[i:j].T
                self._buffer_rows[self._buffered : self._buffered + j - i] = rows[i:j]
                self._buffered += j - i
                if self._buffered == self.buffer_rows:
                    self._segments.append(self._segment(self._buffer_keys.T, self._buffer_rows))
                    self._buffered = 0
                    self._compact()
            i = j

    def _segment(self, keys: np.ndarray, rows: np.ndarray) -> _Segment:
        entries = (keys.astype(np.uint64) << _S32) | rows.astype(np.uint64)[:, None]
        entries = entries.ravel()
        entries.sort()
        days = self._per_row.days(rows)
        return _Segment(entries, rows.shape[0], int(days.min()), int(days.max()))

    def _compact(self) -> None:
        """Merge the two newest segments while the older is no larger and the result fits in one segment."""
        segs = self._segments
        while len(segs) >= 2 and segs[-2].rows <= segs[-1].rows <= self.segment_rows - segs[-2].rows:
            newer, older = segs.pop(), segs.pop()
            merged = np.concatenate((older.entries, newer.entries))
            merged.sort(kind="stable")  # timsort: a linear merge of the two sorted runs
            segs.append(
                _Segment(
                    merged,
                    older.rows + newer.rows,
                    min(older.first_day, newer.first_day),
                    max(older.last_day, newer.last_day),
                )
            )

    def _header(self) -> dict:
        return {
            "format": _FORMAT,
            "bands": self.bands,
            "rows": self.rows,
            "num_perm": self.num_perm,
            "sketch": self.sketch,
            "buffer_rows": self.buffer_rows,
            "segment_rows": self.segment_rows,
            "count": self._count,
            "size": self._per_row.size,
            "buffered": self._buffered,
            "segments": [[s.rows, s.entries.shape[0], s.first_day, s.last_day] for s in self._segments],
        }

    def _write(self, f: BinaryIO) -> None:
        header = json.dumps(self._header()).encode()
        f.write(_MAGIC + struct.pack("<I", len(header)) + header)
        arrays = [*self._per_row.filled(), *(s.entries for s in self._segments)]
        arrays += [
            np.ascontiguousarray(self._buffer_keys[:, : self._buffered]),
            self._buffer_rows[: self._buffered],
        ]
        for a in arrays:
            if a.size:  # memoryview cannot cast an empty multi-dimensional view
                f.write(memoryview(a).cast("B"))

    @classmethod
    def _read(cls, f: BinaryIO) -> LshIndex:
        if f.read(len(_MAGIC)) != _MAGIC:
            raise ValueError("not a huiju LSH index")
        (length,) = struct.unpack("<I", f.read(4))
        head = json.loads(f.read(length))
        if head.get("format") != _FORMAT:
            raise ValueError(f"index format {head.get('format')!r}, expected {_FORMAT}")
        index = cls(
            head["bands"],
            head["rows"],
            head["num_perm"],
            head["sketch"],
            head["buffer_rows"],
            head["segment_rows"],
        )
        for part in index._per_row.extend_to(head["size"]):
            _fill(f, part)
        for rows, length, first_day, last_day in head["segments"]:
            entries = np.empty(length, dtype=np.uint64)
            _fill(f, entries)
            index._segments.append(_Segment(entries, rows, first_day, last_day))
        index._buffered = head["buffered"]
        buffered_keys = np.empty((index.bands, index._buffered), dtype=np.uint32)
        _fill(f, buffered_keys)
        index._buffer_keys[:, : index._buffered] = buffered_keys
        _fill(f, index._buffer_rows[: index._buffered])
        if f.read(1):
            raise ValueError("trailing bytes after the index")
        index._count = head["count"]
        return index


class _RowBlocks:
    """Each row's sketch and day, in blocks of BLOCK_ROWS rows: growing adds a block and never copies."""

    def __init__(self, sketch: int) -> None:
        self.sketch = sketch
        self.size = 0  # one past the highest row stored
        self._sketches: list[np.ndarray] = []
        self._days: list[np.ndarray] = []

    def nbytes(self) -> int:
        """Bytes of all blocks."""
        return sum(a.nbytes for a in self._sketches) + sum(a.nbytes for a in self._days)

    def reserve(self, rows: int) -> None:
        """Blocks for rows below `rows`."""
        while len(self._days) * BLOCK_ROWS < rows:
            self._sketches.append(np.zeros((BLOCK_ROWS, self.sketch), dtype=np.uint8))
            self._days.append(np.full(BLOCK_ROWS, NO_DAY, dtype=np.int32))

    def put(self, rows: np.ndarray, sketches: np.ndarray, days: np.ndarray) -> None:
        """Store the rows' sketches and days."""
        self.reserve(int(rows.max()) + 1)
        self.size = max(self.size, int(rows.max()) + 1)
        for block, part in _by_block(rows):
            at = rows[part] & _BLOCK_MASK
            self._sketches[block][at] = sketches[part]
            self._days[block][at] = days[part]

    def sketches(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), sketch) uint8."""
        out = np.empty((rows.shape[0], self.sketch), dtype=np.uint8)
        for block, part in _by_block(rows):
            out[part] = self._sketches[block][rows[part] & _BLOCK_MASK]
        return out

    def days(self, rows: np.ndarray) -> np.ndarray:
        """The rows' days (int32)."""
        out = np.empty(rows.shape[0], dtype=np.int32)
        for block, part in _by_block(rows):
            out[part] = self._days[block][rows[part] & _BLOCK_MASK]
        return out

    def filled(self) -> list[np.ndarray]:
        """The stored part of every block: all sketches in row order, then all days."""
        parts = range(0, self.size, BLOCK_ROWS)
        sketches = [self._sketches[i // BLOCK_ROWS][: self.size - i] for i in parts]
        return sketches + [self._days[i // BLOCK_ROWS][: self.size - i] for i in parts]

    def extend_to(self, size: int) -> list[np.ndarray]:
        """Room for rows below `size`, as `filled` will list it: the arrays to read a saved index into."""
        self.reserve(size)
        self.size = max(self.size, size)
        return self.filled()


def _by_block(rows: np.ndarray) -> Iterator[tuple[int, slice | np.ndarray]]:
    """(block, the positions in rows of that block's rows) for each block the rows fall in."""
    blocks = rows >> BLOCK_SHIFT
    if blocks.shape[0] == 0:
        return
    if blocks[0] == blocks[-1] and (blocks.shape[0] < 3 or (blocks == blocks[0]).all()):
        yield int(blocks[0]), slice(None)
        return
    order = np.argsort(blocks, kind="stable")
    ordered = blocks[order]
    cuts = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist(), ordered.shape[0]]
    for start, end in itertools.pairwise(cuts):
        yield int(ordered[start]), order[start:end]


def _fill(f: BinaryIO, array: np.ndarray) -> None:
    """Read exactly the array's bytes from f into it."""
    if not array.size:
        return
    view = memoryview(array).cast("B")
    done = 0
    while done < len(view):
        got = f.readinto(view[done:])
        if not got:
            raise ValueError("the index is truncated")
        done += got
