"""MinHash signatures of character n-grams, the same in every process and on every machine.

A text's shingles are its overlapping character 3-grams (the folded text: `record.match`). Each shingle is
hashed from its Unicode code points with fixed 64-bit constants, never Python's per-process `hash()`, so a
signature computed by one gateway instance today equals the one another computes tomorrow; signatures may be
stored and compared later.

A signature holds, for each of `num_perm` hash functions h_i, the smallest h_i over the text's shingles; two
texts agree in one position with probability equal to the Jaccard similarity of their shingle sets. The
h_i are h_i(x) = (a_i * mix(x) + b_i) mod 2^32 with a_i odd: each is a permutation of the 32-bit values (two
different shingles never tie), `mix` is a bijective finaliser that makes any input set look random so that
the minimum falls on a uniformly chosen shingle, and the arithmetic is in uint32. The minima are taken by one
compiled loop (numba) over a text's shingles and the permutations, which the compiler vectorises: about 3 µs
for a 130-character text, where numpy's product-then-min took 22 µs; a rebuild of a million appeals computes
a million signatures, so that difference is most of its time budget. `signatures` does many texts at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

SHINGLE = 3
NUM_PERM = 128
EMPTY = np.uint32(0xFFFFFFFF)  # every position of an empty text's signature

_M64 = (1 << 64) - 1
_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xBF58476D1CE4E5B9)
_S32 = np.uint64(32)
_C1 = np.uint32(0x85EBCA6B)
_C2 = np.uint32(0xC2B2AE35)
_S16 = np.uint32(16)
_S13 = np.uint32(13)


def shingle_hashes(text: str, n: int = SHINGLE) -> np.ndarray:
    """The distinct 32-bit hashes of the text's character n-grams (a shorter text is one shingle), sorted."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    if codes.size == 0:
        return np.empty(0, dtype=np.uint32)
    return distinct_sorted(_ngram_hashes(codes, min(n, codes.size)))


def _ngram_hashes(codes: np.ndarray, n: int) -> np.ndarray:
    """The hash of the n-gram at every position of the code points (uint64) that has n of them."""
    count = codes.size - n + 1
    # A polynomial over the code points mod 2^64, then a multiply-xorshift finaliser: the upper 32 bits.
    h = codes[:count] * _P1
    for j in range(1, n):
        h += codes[j : j + count]
        h *= _P1
    h ^= h >> _S32
    h *= _P2
    return (h >> _S32).astype(np.uint32)


def shingle_hashes_many(
    texts: Sequence[str], n: int = SHINGLE, distinct: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Every text's shingle hashes, concatenated, and the offsets where each text's begin (one more than texts).

    Text by text the hashes are `shingle_hashes`' (distinct and sorted), or, with distinct=False, every
    n-gram's in the text's order (repeats kept: enough for a minimum, and no sort).
    """
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
    counts = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
    out = np.empty(int(counts.sum()), dtype=np.uint32)
    if codes.size >= n:
        h = _ngram_hashes(codes, n)
        whole = np.arange(h.size) + n <= np.repeat(np.cumsum(lengths), lengths)[: h.size]  # within one text
        out[np.repeat(lengths >= n, counts)] = h[whole]
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if short.size:  # a text shorter than a shingle is one shingle of its own length
        out[np.repeat((lengths > 0) & (lengths < n), counts)] = [shingle_hashes(texts[i], n)[0] for i in short]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if not distinct or out.size == 0:
        return out, offsets
    text_of = np.repeat(np.arange(len(texts), dtype=np.uint64), counts)
    keys = distinct_sorted((text_of << _S32) | out.astype(np.uint64))
    offsets[1:] = np.cumsum(np.bincount((keys >> _S32).astype(np.int64), minlength=len(texts)))
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32), offsets


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique's generality costs more than the sort itself on a few hundred
    values, and numpy 2's hashing unique is slower than a sort at every size measured)."""
    values = np.sort(values)
    return values[_firsts(values)]


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values in a sorted array begins (a boolean mask)."""
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


def _mix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit over the output."""
    x = x ^ (x >> _S16)
    x *= _C1
    x ^= x >> _S13
    x *= _C2
    x ^= x >> _S16
    return x


@numba.njit(cache=True, nogil=True)
def _minima(mixed: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out[t, i]: the least (a_i * x + b_i) mod 2^32 over x in mixed[offsets[t]:offsets[t + 1]], or all ones."""
    for t in range(offsets.shape[0] - 1):
        row = out[t]
        row[:] = np.uint32(0xFFFFFFFF)
        for k in range(offsets[t], offsets[t + 1]):
            x = mixed[k]
            for i in range(a.shape[0]):
                v = np.uint32(a[i] * x + b[i])
                if v < row[i]:
                    row[i] = v


def splitmix64(state: int, count: int) -> list[int]:
    """`count` pseudo-random 64-bit integers from `state`: the same on every platform and numpy version."""
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & _M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        out.append(z ^ (z >> 31))
    return out


class MinHasher:
    """Computes MinHash signatures with `num_perm` fixed hash permutations derived from `seed`."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        self.num_perm = num_perm
        self.seed = seed
        words = splitmix64(seed & _M64, num_perm)
        self._a = np.array([(w & 0xFFFFFFFF) | 1 for w in words], dtype=np.uint32)
        self._b = np.array([w >> 32 for w in words], dtype=np.uint32)

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        """The signature (uint32, num_perm) of a set of 32-bit shingle hashes; all 0xFFFFFFFF when empty."""
        x = np.asarray(hashes, dtype=np.uint32)
        out = np.empty((1, self.num_perm), dtype=np.uint32)
        _minima(_mix32(x), np.array([0, x.size], dtype=np.int64), self._a, self._b, out)
        return out[0]

    def signatures(self, texts: Sequence[str], n: int = SHINGLE) -> np.ndarray:
        """The signatures (uint32, len(texts) x num_perm) of many texts' character n-grams, as signature_of."""
        hashes, offsets = shingle_hashes_many(texts, n, distinct=False)
        out = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        _minima(_mix32(hashes), offsets, self._a, self._b, out)
        return out

    def signature_of(self, text: str, n: int = SHINGLE) -> np.ndarray:
        """The signature of a text's character n-grams."""
        return self.signature(shingle_hashes(text, n))


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of positions where two signatures agree: an unbiased estimate of their Jaccard similarity."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"signatures must be non-empty and of one shape, not {a.shape} and {b.shape}")
    return float(np.count_nonzero(a == b)) / a.size
