"""The merge log's hash chain: each entry's hash covers its content and the previous entry's hash.

Editing, inserting or deleting an entry breaks the chain at that point, which `verify_chain` reports.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.models import MergeEntry
from core.sql import advisory_xact_lock, insert_new

GENESIS = "0" * 64
LOCK_KEY = 0x68756A75  # "huju": one merge-log writer at a time across gateway instances

HASHED_FIELDS = (
    "appeal_id",
    "case_id",
    "decision",
    "rule",
    "rule_version",
    "score",
    "evidence",
    "actor",
    "created_at",
)


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON (UTF-8, sorted keys, no spaces)."""
    body = {k: _plain(entry.get(k)) for k in HASHED_FIELDS}
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


# orjson writes these as they are; a uuid.UUID as str(uuid) would be, so it need not be converted first.
_AS_IS = frozenset({str, int, float, bool, dict, list, type(None), uuid.UUID})


def _plain(v: Any) -> Any:
    if type(v) in _AS_IS:
        return v
    if isinstance(v, datetime):
        return v.isoformat(timespec="microseconds")
    if isinstance(v, (str, int, float, bool, dict, list)):
        return v
    return str(v)


async def append(conn: AsyncConnection, entries: list[dict[str, Any]]) -> None:
    """Chain and insert entries (in order) in the caller's transaction."""
    if entries:
        await insert_new(conn, MergeEntry, chain(await last_hash(conn), entries))


async def last_hash(conn: AsyncConnection) -> str:
    """Take the merge log for this transaction (other writers wait for its end); the hash to chain on."""
    await advisory_xact_lock(conn, LOCK_KEY)
    prev = (await conn.execute(select(MergeEntry.hash).order_by(MergeEntry.id.desc()).limit(1))).scalar()
    return prev or GENESIS


def chain(prev_hash: str, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries as merge-log rows, in order, the first chained on prev_hash and each on the one before."""
    rows = []
    for e in entries:
        h = entry_hash(prev_hash, e)
        rows.append({**e, "prev_hash": prev_hash, "hash": h})
        prev_hash = h
    return rows


def verify_chain(entries: Iterable[dict[str, Any]]) -> list[str]:
    """Problems found walking entries in id order; empty when the chain is intact."""
    problems: list[str] = []
    prev = GENESIS
    for e in entries:
        if e["prev_hash"] != prev:
            problems.append(f"entry {e['id']}: does not follow the entry before it (one was inserted or deleted)")
        elif entry_hash(prev, e) != e["hash"]:
            problems.append(f"entry {e['id']}: content does not match its hash (edited)")
        prev = e["hash"]
    return problems
