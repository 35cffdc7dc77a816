#!/usr/bin/env python3
"""Scale of the dedup index: build time, resident memory per appeal, lookup latency; datasketch beside it.

    .venv/bin/python bench/dedup_scale.py                                # 1M and 10M, 2,000 queries
    .venv/bin/python bench/dedup_scale.py --sizes 100000 --queries 500 --baseline-sizes 10000

Real texts: signature_of is timed on the 300 posts in simulators/data and the 2,816 of teddy2020 附件4
(../shared/data), folded as the matcher folds them; their all-pairs band collisions calibrate the synthetic
signatures below.

Synthetic appeals: the 1M and 10M indexes are built from signatures generated directly with numpy (computing
10 million real signatures would time the hasher, not the index). Each value is, with probability 1/2, one
of 50 values common to that position (as the minima of frequent phrases are) and otherwise random, so that
two unrelated appeals share a band at about the rate measured among the real posts. Appeals arrive at 30,000
a day (Beijing's ordinary volume), so 10M span 333 days. A query is an appeal checked against the index:
`candidates` in the last 30 days, or over all history, then `estimate` of each candidate; half the queries are
retellings of an indexed appeal received in the window (Jaccard 0.5: each value kept with probability 1/2),
half are new matters.

Each measurement runs in a process of its own: resident memory is the growth of RSS (/proc/self/statm)
from before the build to after it, beside the index's own count of its arrays (nbytes). Rebuild is
`add_many` from signatures in memory (reading them from the database is not included).
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from dedup.index import SEGMENT_ROWS, LshIndex
from dedup.minhash import MinHasher, jaccard_estimate
from normalizer.text import fold_for_matching
from simulators.corpus import board_messages

TEDDY = Path(__file__).resolve().parents[2] / "shared" / "data" / "teddy2020" / "附件4.csv"
PER_DAY = 30_000
WINDOW_DAYS = 30
CHUNK = 1 << 18
COMMON_SHARE, COMMON_VALUES = 0.5, 50
NUM_PERM = 128
_LIBC = ctypes.CDLL("libc.so.6")


def rss() -> int:
    """Resident bytes of this process, after the C allocator returns what is free (malloc_trim)."""
    gc.collect()
    _LIBC.malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """The highest resident bytes this process has reached (VmHWM)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))


def available() -> int:
    """Memory available to new allocations (MemAvailable)."""
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    p50, p99 = np.percentile(np.array(samples_ns) / 1000, [50, 99])
    return float(p50), float(p99)


def timed(call, items) -> tuple[list, list[int]]:
    """call(item) for each item: the results, and each call's nanoseconds."""
    results, times = [], []
    for item in items:
        t0 = time.perf_counter_ns()
        results.append(call(item))
        times.append(time.perf_counter_ns() - t0)
    return results, times


def real_texts() -> list[str]:
    """Real appeals, title and content, folded for matching."""
    texts = [m["title"] + " " + m["content"] for m in board_messages()]
    if TEDDY.exists():
        with TEDDY.open(encoding="utf-8") as f:
            texts += [r["留言主题"] + " " + r["留言详情"] for r in csv.DictReader(f)]
    return [fold_for_matching(t) for t in texts]


def real_signatures() -> str:
    """signature_of on real texts: latency, and how often unrelated real posts share a band."""
    texts = real_texts()
    hasher = MinHasher()
    signatures, times = timed(hasher.signature_of, texts)
    _, times200 = timed(hasher.signature_of, [t[:200] for t in texts if len(t) >= 200])
    index = LshIndex()
    index.add_many(np.arange(len(texts)), np.array(signatures), np.zeros(len(texts), np.int64))
    unrelated = 0
    for row, sig in enumerate(signatures):
        unrelated += sum(
            jaccard_estimate(sig, signatures[c]) < 0.2 for c in index.candidates(sig).tolist() if c != row
        )
    pairs = len(texts) * (len(texts) - 1)
    p50, p99 = percentiles(times)
    c50, c99 = percentiles(times200)
    return (
        f"real texts: {len(texts)} ({'board 300 + teddy2020 附件4' if TEDDY.exists() else 'board 300 only'}), "
        f"median {int(np.median([len(t) for t in texts]))} chars; signature_of p50 {p50:.0f} µs p99 {p99:.0f} µs; "
        f"first 200 chars p50 {c50:.0f} µs p99 {c99:.0f} µs; "
        f"unrelated pairs (J < 0.2) sharing a band: {unrelated / pairs:.1e} a pair"
    )


def synthetic(rng: np.random.Generator, count: int, common: np.ndarray) -> np.ndarray:
    """Signatures of unrelated appeals: a value is one of its position's common values half of the time."""
    sigs = rng.integers(0, 2**32 - 1, (count, NUM_PERM), dtype=np.uint32)
    pick = rng.random((count, NUM_PERM)) < COMMON_SHARE
    which = rng.integers(0, COMMON_VALUES, (count, NUM_PERM))
    sigs[pick] = common[which, np.arange(NUM_PERM)][pick]
    return sigs


def retold(rng: np.random.Generator, sig: np.ndarray) -> np.ndarray:
    """A retelling at Jaccard 0.5: each value kept with probability 1/2, else a fresh one."""
    fresh = rng.integers(0, 2**32 - 1, NUM_PERM, dtype=np.uint32)
    return np.where(rng.random(NUM_PERM) < 0.5, sig, fresh)


def run_huiju(n: int, queries: int) -> dict:
    """Build an index of n synthetic appeals and measure it."""
    rng = np.random.default_rng(20240501)
    common = rng.integers(0, 2**32 - 1, (COMMON_VALUES, NUM_PERM), dtype=np.uint32)
    days = np.arange(n, dtype=np.int64) // PER_DAY
    last_day = int(days[-1])
    since = last_day - WINDOW_DAYS + 1
    window_start = int(np.searchsorted(days, since))
    sources = np.sort(rng.integers(window_start, n, queries // 2))
    kept = []
    before = rss()
    index = LshIndex()
    index.reserve(n)
    build = 0.0
    for start in range(0, n, CHUNK):
        rows = np.arange(start, min(n, start + CHUNK))
        sigs = synthetic(rng, rows.shape[0], common)
        lo, hi = np.searchsorted(sources, [rows[0], rows[-1] + 1])
        kept += [(int(r), sigs[r - start].copy()) for r in sources[lo:hi]]
        t0 = time.perf_counter()
        index.add_many(rows, sigs, days[rows])
        build += time.perf_counter() - t0
        del sigs
    grown = rss() - before
    probes = [(row, retold(rng, sig)) for row, sig in kept]
    probes += [(None, s) for s in synthetic(rng, queries - len(probes), common)]
    rng.shuffle(probes)
    result = {"n": n, "build_s": build, "nbytes_row": index.nbytes() / n, "rss_row": grown / n}
    for label, window in (("window", since), ("all", None)):

        def lookup(probe: tuple, window: int | None = window) -> np.ndarray:
            rows = index.candidates(probe[1], window)
            index.estimate(rows, probe[1])
            return rows

        found, times = timed(lookup, probes)
        hits = sum(row is not None and row in rows for (row, _), rows in zip(probes, found, strict=True))
        result[label] = (*percentiles(times), hits / len(kept), sum(r.shape[0] for r in found) / len(probes))
    path = Path(f"/tmp/huiju-dedup-scale-{os.getpid()}.lsh")
    try:
        t0 = time.perf_counter()
        index.save(path)
        result["save_s"] = time.perf_counter() - t0
        del index
        t0 = time.perf_counter()
        index = LshIndex.load(path)
        result["load_s"] = time.perf_counter() - t0
        result["file_mb"] = path.stat().st_size / 1e6
    finally:
        path.unlink(missing_ok=True)
    # Enough one-by-one adds (to the loaded index) for the largest merge of segments to happen among them.
    fresh = synthetic(rng, SEGMENT_ROWS, common)
    _, adds = timed(lambda i: index.add(n + i, fresh[i], last_day), range(SEGMENT_ROWS))
    result["add"] = (*percentiles(adds), max(adds) / 1e6)
    result["peak_gb"] = peak_rss() / 1e9
    return result


def run_datasketch(n: int, queries: int) -> dict:
    """datasketch's MinHashLSH with the same 20 bands of 3 rows, on the same kind of synthetic signatures."""
    from datasketch import LeanMinHash, MinHashLSH

    rng = np.random.default_rng(20240501)
    common = rng.integers(0, 2**32 - 1, (COMMON_VALUES, NUM_PERM), dtype=np.uint32)
    sigs = synthetic(rng, n, common)
    minhashes = [LeanMinHash(seed=1, hashvalues=s, scheme="affine32") for s in sigs]
    del sigs
    before = rss()
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(20, 3))
    t0 = time.perf_counter()
    with lsh.insertion_session() as session:
        for row, m in enumerate(minhashes):
            session.insert(row, m, check_duplication=False)
    build = time.perf_counter() - t0
    grown = rss() - before
    fresh = synthetic(rng, queries, common)
    probes = [
        minhashes[row] if i % 2 else LeanMinHash(seed=1, hashvalues=fresh[i], scheme="affine32")
        for i, row in enumerate(rng.integers(0, n, queries).tolist())
    ]
    _, times = timed(lsh.query, probes)
    return {"n": n, "build_s": build, "rss_row": grown / n, "query": percentiles(times)}


def worker(kind: str, n: int, queries: int) -> dict:
    """One measurement in a fresh process, so that RSS growth is this build's alone."""
    args = [sys.executable, __file__, "--worker", kind, "--sizes", str(n), "--queries", str(queries)]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout)


def huiju_line(r: dict) -> str:
    w, a = r["window"], r["all"]
    return (
        f"huiju LshIndex n={r['n']:,}: build {r['build_s']:.1f} s; {r['nbytes_row']:.0f} B/appeal (nbytes), "
        f"{r['rss_row']:.0f} B/appeal (RSS growth); peak RSS {r['peak_gb']:.2f} GB; "
        f"save {r['save_s']:.1f} s, load {r['load_s']:.1f} s ({r['file_mb']:.0f} MB)\n"
        f"  candidates+estimate, last {WINDOW_DAYS} days: p50 {w[0]:.0f} µs p99 {w[1]:.0f} µs "
        f"(retellings found {w[2]:.1%}, {w[3]:.1f} candidates/query); all history: p50 {a[0]:.0f} µs "
        f"p99 {a[1]:.0f} µs ({a[3]:.1f} candidates/query); {SEGMENT_ROWS:,} adds one by one: "
        f"p50 {r['add'][0]:.0f} µs p99 {r['add'][1]:.0f} µs max {r['add'][2]:.0f} ms"
    )


def datasketch_line(r: dict) -> str:
    return (
        f"datasketch MinHashLSH n={r['n']:,}: build {r['build_s']:.1f} s; {r['rss_row']:.0f} B/appeal (RSS growth,"
        f" index only); query p50 {r['query'][0]:.0f} µs p99 {r['query'][1]:.0f} µs (no estimate)"
    )


def main() -> None:
    """Parse the options and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="index sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=2000, help="lookups timed at each size")
    parser.add_argument("--baseline-sizes", default="10000,100000", help="datasketch sizes ('' for none)")
    parser.add_argument("--worker", choices=["huiju", "datasketch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.worker:
        run = run_huiju if args.worker == "huiju" else run_datasketch
        print(json.dumps(run(sizes[0], args.queries)))
        return
    print(real_signatures())
    for n in [int(s) for s in args.baseline_sizes.split(",") if s]:
        r = worker("datasketch", n, args.queries)
        print(datasketch_line(r) if "n" in r else f"datasketch n={n:,}: {r['error']}")
    for n in sizes:
        need = n * 300 + 2 * CHUNK * NUM_PERM * 16  # the index, growth room and one chunk's generation
        if need > available():
            free = available() / 1e9
            print(f"huiju LshIndex n={n:,}: skipped, needs about {need / 1e9:.1f} GB and {free:.1f} GB are free")
            continue
        r = worker("huiju", n, args.queries)
        print(huiju_line(r) if "n" in r else f"huiju LshIndex n={n:,}: {r['error']}")


if __name__ == "__main__":
    main()
