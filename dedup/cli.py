"""`gateway.py audit verify|log|unmerge|merge|distinct|clusters`: check the merge log's hash chain, read or
export it, correct the matcher's decisions (dedup/audit.py), and watch hot issues.

`verify` walks every entry in order and names each one that was edited, or that does not follow the one before
it (an entry inserted or deleted there); exit status 1 when it finds any. `log` lists entries filtered by case,
appeal, channel, time range and actor, as JSON Lines or CSV, with phone and ID numbers masked in the evidence.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clitools import clip, database, print_rows, run_async
from core.config import LoadedConfig
from core.masking import mask_text
from core.models import Appeal, MergeEntry
from dedup import audit
from dedup.mergelog import verify_chain

COLUMNS = (
    "id",
    "created_at",
    "appeal_id",
    "case_id",
    "channel_id",
    "decision",
    "rule",
    "rule_version",
    "score",
    "actor",
    "evidence",
    "hash",
)


def add_audit_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `audit verify` and `audit log` to the CLI."""
    au = sub.add_parser(
        "audit",
        parents=[common],
        help="the merge log: verify its hash chain, read and export it",
        description="The merge log: every case decision, hash-chained. verify names any edited, inserted or "
        "deleted entry (exit 1); log lists entries as JSON Lines or CSV, personal data masked.",
    )
    asub = au.add_subparsers(title="audit commands", metavar="ACTION", required=True)
    av = asub.add_parser(
        "verify", parents=[common], help="check every entry's hash and its link to the one before"
    )
    av.set_defaults(func=lambda loaded, args: run_async(_verify, loaded))
    al = asub.add_parser("log", parents=[common], help="entries, oldest first, filtered")
    al.add_argument("--case", metavar="CASE_ID")
    al.add_argument("--appeal", metavar="APPEAL_ID")
    al.add_argument("--channel")
    al.add_argument("--actor", help="system, or an auditor's token:<name> / cli:<user>")
    al.add_argument("--since", metavar="ISO8601")
    al.add_argument("--until", metavar="ISO8601")
    al.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    al.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    al.set_defaults(func=lambda loaded, args: run_async(_log, loaded, args))
    um = asub.add_parser(
        "unmerge",
        parents=[common],
        help="take an appeal out of its case into a case of its own (the platform detaches the repeat)",
    )
    um.add_argument("appeal", metavar="APPEAL_ID")
    um.add_argument("--reason", required=True, help="why (kept in the merge log)")
    mg = asub.add_parser("merge", parents=[common], help="merge every appeal of a case into another case")
    mg.add_argument("case", metavar="CASE_ID")
    mg.add_argument("into", metavar="INTO_CASE_ID")
    mg.add_argument("--reason", required=True, help="why (kept in the merge log)")
    di = asub.add_parser(
        "distinct",
        parents=[common],
        help='mark two appeals "not the same matter" (parted if they share a case), never merged again',
    )
    di.add_argument("appeal", metavar="APPEAL_ID")
    di.add_argument("other", metavar="OTHER_APPEAL_ID")
    di.add_argument("--reason", required=True, help="why (kept in the merge log)")
    for action, p in (("unmerge", um), ("merge", mg), ("distinct", di)):
        p.add_argument("--actor", help="who acts (default: cli:<login name>)")
        p.set_defaults(func=lambda loaded, args, a=action: run_async(_act, loaded, args, a))
    cl = asub.add_parser("clusters", parents=[common], help="hot issues: clusters by size or growth")
    cl.add_argument("--sort", choices=("size", "growth"), default="size")
    cl.add_argument("--hours", type=float, default=24.0, help="growth: appeals in the last HOURS (and before)")
    cl.add_argument("--limit", type=int, default=50)
    cl.add_argument("--json", action="store_true", help="print JSON objects, one a line")
    cl.set_defaults(func=lambda loaded, args: run_async(_clusters, loaded, args))


async def _verify(loaded: LoadedConfig) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        count, problems = await verify(conn)
    for p in problems:
        print(p)
    print(f"{count} entries, {'chain intact' if not problems else f'{len(problems)} problems'}", file=sys.stderr)
    return 1 if problems else 0


def aware(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 time that names its offset (ValueError otherwise); None for None."""
    if text is None:
        return None
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise ValueError(f"{name}: give the time with its offset, e.g. 2024-11-25T09:00:00+08:00")
    return t


def parse_id(value: Any, name: str) -> uuid.UUID:
    """An appeal's or a case's id (ValueError naming `name` otherwise)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{name}: not an id: {str(value)[:64]!r}") from None


def _when(text: str | None, name: str) -> datetime | None:
    try:
        return aware(text, f"--{name}")
    except ValueError as e:
        raise SystemExit(str(e)) from None


def _id(text: str | None, name: str) -> uuid.UUID | None:
    try:
        return None if text is None else parse_id(text, f"--{name}")
    except ValueError as e:
        raise SystemExit(str(e)) from None


def masked(evidence: Any) -> Any:
    """The evidence with every text in it masked (excerpts may quote a phone or an ID number)."""
    if isinstance(evidence, dict):
        return {k: masked(v) for k, v in evidence.items()}
    if isinstance(evidence, list):
        return [masked(v) for v in evidence]
    return mask_text(evidence) if isinstance(evidence, str) else evidence


def row_out(r: Any) -> dict[str, Any]:
    """One entry as exported."""
    return {
        "id": r.id,
        "created_at": r.created_at.isoformat(),
        "appeal_id": str(r.appeal_id) if r.appeal_id else None,
        "case_id": str(r.case_id),
        "channel_id": r.channel_id,
        "decision": r.decision,
        "rule": r.rule,
        "rule_version": r.rule_version,
        "score": r.score,
        "actor": r.actor,
        "evidence": masked(r.evidence),
        "hash": r.hash,
    }


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which merge-log entries to read (every field optional)."""

    case: uuid.UUID | None = None
    appeal: uuid.UUID | None = None
    channel: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def log_rows(conn: AsyncConnection, f: LogFilter, limit: int | None = None) -> list[dict[str, Any]]:
    """Merge-log entries, oldest first, as exported (evidence masked)."""
    query = (
        select(MergeEntry, Appeal.channel_id)
        .outerjoin(Appeal, Appeal.id == MergeEntry.appeal_id)
        .order_by(MergeEntry.id)
    )
    for column, value in (
        (MergeEntry.case_id, f.case),
        (MergeEntry.appeal_id, f.appeal),
        (Appeal.channel_id, f.channel),
        (MergeEntry.actor, f.actor),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(MergeEntry.created_at >= f.since)
    if f.until is not None:
        query = query.where(MergeEntry.created_at < f.until)
    if limit is not None:
        query = query.limit(limit)
    return [row_out(r) for r in (await conn.execute(query)).all()]


async def verify(conn: AsyncConnection) -> tuple[int, list[str]]:
    """How many entries the log has, and the problems its hash chain shows (none when intact)."""
    rows = [dict(r._mapping) for r in await conn.execute(select(MergeEntry).order_by(MergeEntry.id))]
    return len(rows), verify_chain(rows)


async def _log(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    f = LogFilter(
        _id(args.case, "case"),
        _id(args.appeal, "appeal"),
        args.channel,
        args.actor,
        _when(args.since, "since"),
        _when(args.until, "until"),
    )
    async with database(loaded) as engine, engine.connect() as conn:
        rows = await log_rows(conn, f)
    sink: IO[str] = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        write(rows, args.format, sink)
    finally:
        if args.output:
            sink.close()
    return 0


async def _act(loaded: LoadedConfig, args: argparse.Namespace, what: str) -> int:
    auditor = audit.auditor_for(loaded.config, args.actor or f"cli:{getpass.getuser()}")
    async with database(loaded) as engine:
        try:
            async with engine.begin() as conn:
                if what == "unmerge":
                    done = await auditor.unmerge(conn, parse_id(args.appeal, "APPEAL_ID"), args.reason)
                elif what == "merge":
                    done = await auditor.merge(
                        conn, parse_id(args.case, "CASE_ID"), parse_id(args.into, "INTO_CASE_ID"), args.reason
                    )
                else:
                    done = await auditor.distinct(
                        conn,
                        parse_id(args.appeal, "APPEAL_ID"),
                        parse_id(args.other, "OTHER_APPEAL_ID"),
                        args.reason,
                    )
        except (audit.NotFound, ValueError) as e:  # audit.Refused is a ValueError
            print(e, file=sys.stderr)
            return 1
    print(json.dumps(done, ensure_ascii=False, indent=2))
    return 0


async def _clusters(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        rows = await audit.hot_issues(conn, sort=args.sort, hours=args.hours, limit=args.limit)

    def line(c: dict[str, Any]) -> str:
        g, flag = c["growth"], " 群体诉求" if c["group_appeal"] else ""
        return (
            f"{c['cluster_id']}  {c['people']:>4} people {c['cases']:>4} cases {c['appeals']:>5} appeals  "
            f"+{g['appeals']} in {g['hours']:g} h (before: {g['previous']}){flag}  {clip(c['title'] or '', 40)}"
        )

    return print_rows(rows, args.json, line, "no hot issues")


def write(rows: list[dict[str, Any]], fmt: str, sink: IO[str]) -> None:
    """Entries as JSON Lines or CSV (evidence as a JSON cell)."""
    if fmt == "jsonl":
        for r in rows:
            sink.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    out = csv.DictWriter(sink, fieldnames=COLUMNS)
    out.writeheader()
    for r in rows:
        out.writerow({**r, "evidence": json.dumps(r["evidence"], ensure_ascii=False)})
