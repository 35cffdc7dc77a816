"""`gateway.py audit verify|log`: check the merge log's hash chain, and read or export the log for auditors.

`verify` walks every entry in order and names each one that was edited, or that does not follow the one before
it (an entry inserted or deleted there); exit status 1 when it finds any. `log` lists entries filtered by case,
appeal, channel, time range and actor, as JSON Lines or CSV, with phone and ID numbers masked in the evidence.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import uuid
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select

from core.clitools import database, run_async
from core.config import LoadedConfig
from core.masking import mask_text
from core.models import Appeal, MergeEntry
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


async def _verify(loaded: LoadedConfig) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        rows = [dict(r._mapping) for r in await conn.execute(select(MergeEntry).order_by(MergeEntry.id))]
    problems = verify_chain(rows)
    for p in problems:
        print(p)
    print(
        f"{len(rows)} entries, {'chain intact' if not problems else f'{len(problems)} problems'}", file=sys.stderr
    )
    return 1 if problems else 0


def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise SystemExit(f"--{name}: give the time with its offset, e.g. 2024-11-25T09:00:00+08:00")
    return t


def _id(text: str | None, name: str) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise SystemExit(f"--{name}: not an id: {text!r}") from None


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


async def _log(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    query = (
        select(MergeEntry, Appeal.channel_id)
        .outerjoin(Appeal, Appeal.id == MergeEntry.appeal_id)
        .order_by(MergeEntry.id)
    )
    for column, value in (
        (MergeEntry.case_id, _id(args.case, "case")),
        (MergeEntry.appeal_id, _id(args.appeal, "appeal")),
        (Appeal.channel_id, args.channel),
        (MergeEntry.actor, args.actor),
    ):
        if value is not None:
            query = query.where(column == value)
    if (since := _when(args.since, "since")) is not None:
        query = query.where(MergeEntry.created_at >= since)
    if (until := _when(args.until, "until")) is not None:
        query = query.where(MergeEntry.created_at < until)
    async with database(loaded) as engine, engine.connect() as conn:
        rows = [row_out(r) for r in (await conn.execute(query)).all()]
    sink: IO[str] = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        write(rows, args.format, sink)
    finally:
        if args.output:
            sink.close()
    return 0


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
