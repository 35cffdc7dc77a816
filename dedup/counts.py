"""How many appeals have each character bigram, and the weights the text score gives bigrams by that count.

A text's bigrams are weighted by rarity: a name, a shop, a road tells more than 小区, 反映 or 请求. The weight
of a bigram is log((N + 1) / (df + 1)) + 1, where df is how many of N appeals have it, both taken at the last
*refresh* (dedup/matcher.py refreshes at fixed counts of appeals), so that weights depend on the order of
arrival only and every instance, restarted or not, computes the same ones.

The counts live in one open-addressing hash table of numpy arrays, keyed by the bigrams' 32-bit hashes
(dedup/minhash.py), with two counts per bigram: now, and at the last refresh. Lookups, additions and weights of
a whole text are one compiled loop (numba) each. A dict of Python ints cost about 250 bytes per bigram across
the counts, the counts at the refresh and the weights, and a long text's 2,000 bigrams cost a millisecond of
dict operations in a table of millions; here a bigram costs 26 bytes at most and a long text some
microseconds.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_FIRST_SLOTS = 1 << 16
_MIX = np.uint32(0x9E3779B1)  # Fibonacci hashing: the slot is the top bits of key * 2^32/phi


class GramCounts:
    """Bigram hash -> (appeals that have it now, appeals that had it at the last refresh)."""

    def __init__(self) -> None:
        self._allocate(_FIRST_SLOTS)
        self.size = 0  # distinct bigrams
        self.documents = 0  # appeals counted
        self.refreshed_at = 0  # appeals counted at the last refresh

    def _allocate(self, slots: int) -> None:
        self.keys = np.zeros(slots, dtype=np.uint32)
        self.used = np.zeros(slots, dtype=np.bool_)
        self.now = np.zeros(slots, dtype=np.uint32)
        self.then = np.zeros(slots, dtype=np.uint32)
        self.shift = np.uint32(32 - (slots.bit_length() - 1))

    def add(self, grams: np.ndarray, documents: int) -> None:
        """Count `documents` more appeals whose distinct bigrams, concatenated, are `grams` (uint32)."""
        grams = np.ascontiguousarray(grams, dtype=np.uint32)
        start = 0
        while start < grams.size:  # in parts that cannot fill the table past half, however many are new
            room = self.keys.size // 2 - self.size
            if room < min(grams.size - start, self.keys.size // 8):
                self._grow()
                continue
            part = grams[start : start + room]
            self.size += _add(self.keys, self.used, self.now, self.shift, part)
            start += part.size
        self.documents += documents

    def refresh(self) -> None:
        """Weights follow the counts as they are now."""
        np.copyto(self.then, self.now)
        self.refreshed_at = self.documents

    def weights(self, grams: np.ndarray) -> np.ndarray:
        """The weights (float64) of bigrams, by the counts at the last refresh (an unseen bigram has count 0)."""
        grams = np.ascontiguousarray(grams, dtype=np.uint32)
        return _weights(self.keys, self.used, self.then, self.shift, grams, float(self.refreshed_at + 1))

    def counts(self) -> dict[int, tuple[int, int]]:
        """Every bigram's (count now, count at the last refresh): for comparing two tables."""
        at = np.flatnonzero(self.used)
        pairs = zip(self.now[at].tolist(), self.then[at].tolist(), strict=True)
        return dict(zip(self.keys[at].tolist(), pairs, strict=True))

    def nbytes(self) -> int:
        return self.keys.nbytes + self.used.nbytes + self.now.nbytes + self.then.nbytes

    def _grow(self) -> None:
        """Twice the slots (a million bigrams rehash in some milliseconds)."""
        old = (self.keys, self.used, self.now, self.then)
        self._allocate(self.keys.size * 2)
        _rehash(*old, self.keys, self.used, self.now, self.then, self.shift)


def total(weights: np.ndarray) -> float:
    """The sum of weights, added in order (the shared weight of two texts is added the same way, so that a text
    contained in another has a shared weight equal to its total)."""
    return float(_total(weights))


def shared(mine: np.ndarray, my_weights: np.ndarray, theirs: np.ndarray) -> tuple[int, float]:
    """How many bigrams two texts share (sorted distinct uint32 hashes each) and the weight of those, by
    `my_weights` (aligned with `mine`)."""
    n, w = _shared(mine, my_weights, theirs)
    return int(n), float(w)


@numba.njit(cache=True, nogil=True)
def _slot(key: np.uint32, shift: np.uint32, mask: int) -> int:
    return int(np.uint32(key * _MIX) >> shift) & mask


@numba.njit(cache=True, nogil=True)
def _add(keys, used, now, shift, grams) -> int:  # type: ignore[no-untyped-def]
    mask = keys.size - 1
    new = 0
    for g in grams:
        i = _slot(g, shift, mask)
        while used[i] and keys[i] != g:
            i = (i + 1) & mask
        if not used[i]:
            used[i] = True
            keys[i] = g
            new += 1
        now[i] += 1
    return new


@numba.njit(cache=True, nogil=True)
def _weights(keys, used, then, shift, grams, numerator):  # type: ignore[no-untyped-def]
    mask = keys.size - 1
    out = np.empty(grams.size, dtype=np.float64)
    for k in range(grams.size):
        g = grams[k]
        i = _slot(g, shift, mask)
        while used[i] and keys[i] != g:
            i = (i + 1) & mask
        df = then[i] if used[i] else 0
        out[k] = math.log(numerator / (df + 1.0)) + 1.0
    return out


@numba.njit(cache=True, nogil=True)
def _rehash(keys, used, now, then, new_keys, new_used, new_now, new_then, shift) -> None:  # type: ignore[no-untyped-def]
    mask = new_keys.size - 1
    for j in range(keys.size):
        if used[j]:
            i = _slot(keys[j], shift, mask)
            while new_used[i]:
                i = (i + 1) & mask
            new_used[i] = True
            new_keys[i] = keys[j]
            new_now[i] = now[j]
            new_then[i] = then[j]


@numba.njit(cache=True, nogil=True)
def _total(weights) -> float:  # type: ignore[no-untyped-def]
    s = 0.0
    for w in weights:
        s += w
    return s


@numba.njit(cache=True, nogil=True)
def _shared(mine, my_weights, theirs):  # type: ignore[no-untyped-def]
    i = j = n = 0
    s = 0.0
    while i < mine.size and j < theirs.size:
        a, b = mine[i], theirs[j]
        if a == b:
            n += 1
            s += my_weights[i]
            i += 1
            j += 1
        elif a < b:
            i += 1
        else:
            j += 1
    return n, s
