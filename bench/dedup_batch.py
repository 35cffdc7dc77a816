#!/usr/bin/env python3
"""Speed of the dedup batch interface: `python gateway.py dedup` on 100,000 appeals.

    .venv/bin/python bench/dedup_batch.py                                  # 100,000 appeals, built in a temp dir
    .venv/bin/python bench/dedup_batch.py --corpus var/dedup-100k --size 100000   # keep the corpus for next time
    .venv/bin/python bench/dedup_batch.py --corpus var/dedup-100k --profile var/batch.prof

The appeals are bench/dedup_corpus.py's labelled corpus (the one bench/dedup_quality.py scores), built into
--corpus if that folder has none yet. Runs `gateway.py dedup --input appeals.jsonl --output assignments.jsonl`
as a subprocess and prints appeals per second and the total time, and a digest of the decisions: the same
digest from two versions of the matcher means the same decisions (case and cluster ids are random, so each is
named by its first appeal). --profile runs the batch in this process under cProfile instead, writes the
profile there and prints where the time went.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dedup_corpus import build_corpus
from bench.dedup_quality import read_jsonl, run_batch
from dedup import batch

GATEWAY = f"{shlex.quote(sys.executable)} gateway.py dedup --input {{input}} --output {{output}}"


def decisions_digest(assignments: list[dict]) -> str:
    """SHA-256 of every decision, with each case and cluster named by the first appeal that has it."""
    names: dict[tuple[str, str], str] = {}
    h = hashlib.sha256()
    for a in assignments:
        case = names.setdefault(("case", a["case_id"]), a["id"])
        cluster = names.setdefault(("cluster", a["cluster_id"]), a["id"]) if a["cluster_id"] else None
        h.update(json.dumps([a["id"], a["decision"], case, cluster, a["score"]]).encode())
    return h.hexdigest()[:16]


def profiled(appeals: Path, output: Path, profile: Path) -> float:
    """Run the batch in this process under cProfile; the seconds it took."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with open(appeals, encoding="utf-8") as source, open(output, "w", encoding="utf-8") as sink:
        profiler.runcall(batch.run, source, sink)
    seconds = time.perf_counter() - started
    profiler.dump_stats(profile)
    text = io.StringIO()
    pstats.Stats(str(profile), stream=text).sort_stats("tottime").print_stats(20)
    print(text.getvalue())
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Build or reuse the corpus, run the batch, print the figures."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--corpus", type=Path, help="folder with appeals.jsonl (built there if absent)")
    p.add_argument("--size", type=int, default=100_000, help="appeals in a corpus built here (default 100,000)")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--command", default=GATEWAY, help="batch command with {input} and {output}")
    p.add_argument("--profile", type=Path, help="profile the batch in this process, written to this file")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dedup-batch-") as scratch:
        folder = args.corpus or Path(scratch)
        appeals = folder / "appeals.jsonl"
        if not appeals.is_file():
            build_corpus(args.seed, args.size).write(folder)
        output = folder / "assignments.jsonl"
        if args.profile:
            seconds = profiled(appeals, output, args.profile)
        else:
            seconds = run_batch(args.command, appeals, output)
        decided = read_jsonl(output)
        print(
            f"dedup batch: {len(decided):,} appeals in {seconds:.1f} s ({len(decided) / seconds:,.0f} appeals/s); "
            f"decisions {decisions_digest(decided)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
