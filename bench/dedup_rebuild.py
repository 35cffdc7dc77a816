#!/usr/bin/env python3
"""The live matcher's cold start: how long MatchingAssigner takes to rebuild its memory from the database.

    .venv/bin/python bench/dedup_rebuild.py --keep                          # 1,000,000 appeals, SQLite and PG
    .venv/bin/python bench/dedup_rebuild.py --count 100000 --db sqlite --keep
    .venv/bin/python bench/dedup_rebuild.py --database-url postgresql+asyncpg://u@host/db --count 200000

The issue's requirement: the index is rebuilt from the database at start-up within 60 s for 1 million
appeals. The first `assign` of a gateway process replays every stored appeal in the merge log's order
(dedup/assign.py); this script fills a database with `--count` appeals, then times that first call in a
process of its own and prints rows per second, the seconds it took, the process's peak resident memory and
its growth per appeal; then how long the rebuilt matcher takes to decide each of 2,000 new appeals (a fresh
corpus slice arriving after the stored ones), p50 and p99.

The fill writes raw_items, cases, appeals and merge_log rows directly, in bulk (no matcher runs: 1 million
decisions would take most of an hour). The appeals are bench/dedup_corpus.py's labelled corpus, built in
slices of `--slice` appeals, each with its own seed and shifted 300 days after the one before, so that texts
have real lengths and variety (board posts, WeChat messages, call transcripts, form letters, real posts of
the Teddy board) and persons repeat as they do there: their cases follow the corpus's labels (a merge or an
absorb joins the case of the same person's same matter, a link opens a case in the matter's cluster). The
merge log is hash-chained as the gateway chains it.

Databases: a SQLite file under var/ and a PostgreSQL database of its own on the server of
HUIJU_TEST_POSTGRES_URL (created, and dropped afterwards unless --keep), or each --database-url given. With
--keep a database that already holds `--count` appeals is reused, so the fill is paid once.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bench.dedup_corpus import build_corpus
from core.db import make_engine, resolve_url, upgrade_to_head
from core.ingest import appeal_row, case_row, opening
from core.models import Appeal, Case, MergeEntry, RawItem
from dedup import mergelog
from dedup.assign import MatchingAssigner, fields_of, probe_of_row
from normalizer.record import AppealRecord, AppealType, Citizen, IntegrationMode, Location, MatchText, TimeTier
from normalizer.text import fold_for_matching

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("HUIJU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SHIFT = timedelta(days=300)  # one corpus slice after the other, in arrival order
MODES = {"leaders-board": "interconnect", "petition": "interconnect", "wechat": "hotline_flow"}
PAGE = 2000  # rows a bulk insert
_LIBC = ctypes.CDLL("libc.so.6")


def default_urls(count: int, kinds: list[str]) -> list[str]:
    """The bench's own databases for this size: a SQLite file under var/, a PostgreSQL database."""
    urls = []
    if "sqlite" in kinds:
        urls.append(resolve_url(f"sqlite+aiosqlite:///var/bench-rebuild-{count}.db"))
    if "postgresql" in kinds:
        urls.append(make_url(PG_URL).set(database=f"huiju_rebuild_{count}").render_as_string(hide_password=False))
    return urls


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


async def create_database(url: str) -> None:
    """Create the database of a PostgreSQL URL (nothing for SQLite, whose file is created on connect)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return
    conn = await asyncpg.connect(_admin_dsn(url), timeout=5)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", u.database):
            await conn.execute(f'CREATE DATABASE "{u.database}"')
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Remove the bench's database (the SQLite file and its WAL, or the PostgreSQL database)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{u.database}{suffix}").unlink(missing_ok=True)
        return
    conn = await asyncpg.connect(_admin_dsn(url), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def appeal_count(url: str) -> int | None:
    """How many appeals the database holds (None when it has no schema yet)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(Appeal))).scalar_one()
    except Exception:
        return None
    finally:
        await engine.dispose()


def slices(count: int, size: int, seed: int) -> Iterator[list[tuple[dict[str, Any], dict[str, str]]]]:
    """(appeal, label) pairs of corpus slices until `count` appeals, each slice with its own seed and time."""
    done, k = 0, 0
    while done < count:
        corpus = build_corpus(seed + k, size)
        take = min(len(corpus.appeals), count - done)
        shift = SHIFT * k
        out = []
        for appeal, label in zip(corpus.appeals[:take], corpus.labels[:take], strict=True):
            appeal = {**appeal, "id": f"s{k}-{appeal['id']}"}
            appeal["received_at"] = datetime.fromisoformat(str(appeal["received_at"])).astimezone(UTC) + shift
            out.append((appeal, {**label, "matter": f"{k}:{label['matter']}", "person": f"{k}:{label['person']}"}))
        yield out
        done += take
        k += 1


class Filler:
    """Turns labelled corpus appeals into the rows the gateway would have stored, with cases by the labels."""

    def __init__(self) -> None:
        self.case_of: dict[tuple[str, str], uuid.UUID] = {}  # (matter, person) -> its latest case
        self.cluster_of: dict[str, uuid.UUID] = {}  # matter -> its hot-issue cluster
        self.cases_of_matter: dict[str, list[uuid.UUID]] = {}
        self.prev_hash = mergelog.GENESIS
        self.appeals = 0

    def rows(self, pairs: list[tuple[dict[str, Any], dict[str, str]]]) -> dict[str, list[dict[str, Any]]]:
        """The raw_items, cases, appeals and merge_log rows of a slice (cases may gain a cluster later)."""
        raw, cases, appeals, log = [], {}, [], []
        joined: dict[uuid.UUID, uuid.UUID] = {}
        for doc, label in pairs:
            gid = uuid.UUID(bytes=hashlib.sha256(doc["id"].encode()).digest()[:16], version=4)
            at: datetime = doc["received_at"]
            key = (label["matter"], label["person"])
            record = record_of(gid, doc, at)
            decision = label["expected"]
            case_id = self.case_of.get(key) if decision in ("merge", "absorb") else None
            cluster = None
            if case_id is None:
                decision = "link" if decision == "link" else "new"
                case_id = uuid.UUID(bytes=hashlib.sha256(b"case" + gid.bytes).digest()[:16], version=4)
                self.case_of[key] = case_id
                if decision == "link":
                    cluster = self.cluster_of.setdefault(label["matter"], uuid.uuid4())
                    for earlier in self.cases_of_matter.get(label["matter"], []):
                        joined[earlier] = cluster
                self.cases_of_matter.setdefault(label["matter"], []).append(case_id)
                cases[case_id] = case_row(case_id, opening(record), at, cluster)
            raw.append(raw_row(gid, doc, at))
            appeals.append(appeal_row(record, case_id))
            entry = {
                "appeal_id": gid,
                "case_id": case_id,
                "decision": decision,
                "rule": "text-identity-place",
                "rule_version": "1",
                "score": None if decision == "new" else 0.5,
                "evidence": {"reason": "bench fill", "scenario": label["scenario"]},
                "actor": "system",
                "created_at": at,
            }
            entry["hash"] = mergelog.entry_hash(self.prev_hash, entry)
            entry["prev_hash"], self.prev_hash = self.prev_hash, entry["hash"]
            log.append(entry)
        for case_id, cluster in joined.items():
            if case_id in cases:
                cases[case_id]["cluster_id"] = cluster
        self.appeals += len(appeals)
        return {"raw": raw, "cases": list(cases.values()), "appeals": appeals, "log": log, "joined": joined}


def raw_row(gid: uuid.UUID, doc: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The raw inbox row: the appeal as the channel sent it."""
    payload = json.dumps({k: v for k, v in doc.items() if k != "received_at"}, ensure_ascii=False)
    return {
        "id": gid,
        "channel_id": doc["channel"],
        "source_id": doc["id"],
        "content_type": "application/json",
        "payload": payload,
        "received_at": at,
        "status": "normalized",
        "error": None,
        "attempts": 1,
        "updated_at": at,
        "digest": hashlib.sha256(payload.encode()).hexdigest(),
    }


def record_of(gid: uuid.UUID, doc: dict[str, Any], at: datetime) -> AppealRecord:
    """The normalized record the gateway would have made of a corpus appeal (match text folded)."""
    citizen = doc.get("citizen") or {}
    title, content = str(doc.get("title") or ""), str(doc.get("content") or "")
    return AppealRecord(
        id=str(gid),
        channel_id=doc["channel"],
        source_id=doc["id"],
        mode=IntegrationMode(MODES.get(doc["channel"], "merged")),
        received_at=at,
        occurred_at=None,
        type=AppealType(doc.get("type") or "other"),
        title=title,
        content=content,
        citizen=Citizen(
            name=citizen.get("name"),
            phone=citizen.get("phone"),
            id_number=citizen.get("id_number"),
            openid=citizen.get("openid"),
            user_id=citizen.get("user"),
        ),
        confidential=False,
        enterprise=None,
        location=Location(address=doc.get("address"), division_code=doc.get("division_code")),
        channel_category=None,
        category=None,
        time_tier=TimeTier.D7,
        tier_reason="ordinary matter",
        emergency=None,
        attachments=(),
        raw_ref=str(gid),
        sources={},
        extra={},
        warnings=(),
        match=MatchText(fold_for_matching(title), fold_for_matching(content)),
    )


async def fill(url: str, count: int, size: int, seed: int) -> None:
    """Migrate the database and store `count` appeals with their cases and merge log, in bulk."""
    await asyncio.to_thread(upgrade_to_head, url)
    engine = make_engine(url)
    filler = Filler()
    started = time.perf_counter()
    try:
        for pairs in slices(count, size, seed):
            rows = filler.rows(pairs)
            async with engine.begin() as conn:
                if make_url(url).get_backend_name() == "sqlite":
                    await conn.exec_driver_sql("PRAGMA synchronous=OFF")
                for table, key in ((RawItem, "raw"), (Case, "cases"), (Appeal, "appeals"), (MergeEntry, "log")):
                    for i in range(0, len(rows[key]), PAGE):
                        await conn.execute(insert(table.__table__), rows[key][i : i + PAGE])
                for case_id, cluster in rows["joined"].items():
                    update = Case.__table__.update().where(Case.id == case_id)
                    await conn.execute(update.values(cluster_id=cluster))
            rate = filler.appeals / (time.perf_counter() - started)
            print(f"  filled {filler.appeals:,} of {count:,} appeals ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    finally:
        await engine.dispose()


def rss_bytes() -> int:
    """Resident bytes now, after the C allocator returns what it holds free."""
    gc.collect()
    _LIBC.malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def rebuild(url: str, profile: str | None) -> dict[str, Any]:
    """Time a cold MatchingAssigner's first assign (its rebuild), rolled back: the database is left as it was."""
    engine = make_engine(url)
    async with engine.connect() as conn:
        appeals = (await conn.execute(select(func.count()).select_from(Appeal))).scalar_one()
    before = rss_bytes()
    assigner = MatchingAssigner()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    async with engine.connect() as conn, conn.begin():
        await assigner.assign(conn, [])
        seconds = time.perf_counter() - started
        matcher = assigner.matcher
        assert matcher is not None
        after = rss_bytes()
        remembered = len(matcher.priors)
        index_bytes = matcher.index.nbytes()
        last = (await conn.execute(select(func.max(Appeal.received_at)))).scalar_one()
        decisions = decision_latencies(matcher, last)
        await conn.rollback()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    await engine.dispose()
    return {
        "appeals": appeals,
        "remembered": remembered,
        "seconds": seconds,
        "rss_before": before,
        "rss_after": after,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "index_bytes": index_bytes,
        "decide_p50_us": decisions[len(decisions) // 2],
        "decide_p99_us": decisions[int(len(decisions) * 0.99)],
        "decided": len(decisions),
    }


DECIDED = 2_000  # new appeals decided after the rebuild, each timed


def decision_latencies(matcher: Any, last: datetime) -> list[float]:
    """Microseconds the rebuilt matcher takes to decide each of DECIDED new appeals (a fresh corpus slice that
    arrives after the last stored appeal), sorted."""
    corpus = build_corpus(7_919, DECIDED)
    start = min(datetime.fromisoformat(str(a["received_at"])) for a in corpus.appeals)
    out = []
    for doc in corpus.appeals:
        at = last + (datetime.fromisoformat(str(doc["received_at"])) - start) + timedelta(seconds=1)
        probe = probe_of_row(fields_of(record_of(uuid.uuid4(), {**doc, "id": f"new-{doc['id']}"}, at)))
        began = time.perf_counter()
        matcher.decide(probe)
        out.append((time.perf_counter() - began) * 1e6)
    return sorted(out)


def measure(url: str, profile: str | None) -> dict[str, Any]:
    """The rebuild measured in a fresh process (cold, its memory its own)."""
    cmd = [sys.executable, __file__, "--rebuild-only", url] + (["--profile", profile] if profile else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(url: str, r: dict[str, Any]) -> str:
    """One line of figures."""
    engine = make_url(url).get_backend_name()
    per = (r["rss_after"] - r["rss_before"]) / max(r["remembered"], 1)
    return (
        f"{engine:<10} {r['appeals']:>9,} appeals  rebuild {r['seconds']:6.1f} s  "
        f"{r['remembered'] / r['seconds']:>9,.0f} rows/s  peak RSS {r['peak_rss'] / 2**20:,.0f} MiB  "
        f"RSS growth {per:,.0f} B/appeal (index {r['index_bytes'] / max(r['remembered'], 1):,.0f} B); then "
        f"{r['decided']:,} new appeals decided: p50 {r['decide_p50_us'] / 1000:.2f} ms "
        f"p99 {r['decide_p99_us'] / 1000:.2f} ms"
    )


async def prepare(url: str, count: int, size: int, seed: int, keep: bool, own: bool) -> None:
    """A database holding exactly `count` appeals: reused with --keep, else filled afresh.

    Only the bench's own databases are dropped first; one given with --database-url must be empty."""
    held = await appeal_count(url)
    if keep and held == count:
        print(f"reusing {make_url(url).render_as_string()} ({count:,} appeals)", file=sys.stderr)
        return
    if not own and held:
        where = make_url(url).render_as_string()
        raise SystemExit(f"{where} holds {held:,} appeals, not {count:,}: give an empty database")
    if own:
        await drop_database(url)
    await create_database(url)
    started = time.perf_counter()
    await fill(url, count, size, seed)
    print(f"filled {count:,} appeals in {time.perf_counter() - started:,.0f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Fill (or reuse) each database, then time the rebuild in a process of its own, --repeat times."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--count", type=int, default=1_000_000, help="appeals in the database (default 1,000,000)")
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--database-url", action="append", help="a database to fill and time (repeatable)")
    p.add_argument("--keep", action="store_true", help="keep the filled database, and reuse one of this size")
    p.add_argument("--repeat", type=int, default=2, help="rebuilds timed per database (default 2)")
    p.add_argument("--slice", type=int, default=50_000, help="appeals per corpus slice (default 50,000)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--profile", help="write a cProfile of the (last) rebuild to this file")
    p.add_argument("--rebuild-only", metavar="URL", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rebuild_only:
        print(json.dumps(asyncio.run(rebuild(args.rebuild_only, args.profile))))
        return 0
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    own = not args.database_url
    urls = args.database_url or default_urls(args.count, kinds)
    for url in urls:
        asyncio.run(prepare(url, args.count, args.slice, args.seed, args.keep, own))
        try:
            for _ in range(args.repeat):
                print(report(url, measure(url, args.profile)), flush=True)
        finally:
            if own and not args.keep:
                asyncio.run(drop_database(url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
