"""`gateway.py dedup --input appeals.jsonl --output assignments.jsonl`: the matcher on a file, no database.

The interface is stable and documented (docs/dedup.md): it is also how outsiders evaluate huiju's matching.
Input: one appeal a line, in arrival order, with at least `id`, `channel`, `received_at` (ISO 8601),
`citizen` ({name, phone, id_number, openid, user}, any of them), `type`, `title`, `content`, `address`,
`division_code`; missing fields are allowed and `channel` is free text. Output: one line per appeal, in the
same order, with `id`, `case_id`, `cluster_id` (or null), `decision` and `score`. It runs the same matcher
with the same default thresholds as the live gateway.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from dedup.matcher import Decision, Matcher, Probe, Thresholds
from normalizer.fields import FieldError, normalize_phone
from normalizer.text import fold_for_matching


class BadLine(ValueError):
    """An input line that cannot be read as an appeal (the message names the line)."""


def probe_of(doc: dict[str, Any], line_no: int = 0) -> Probe:
    """A batch input object as the matcher's probe (identifiers normalized as the gateway does)."""
    if not isinstance(doc, dict):
        raise BadLine(f"line {line_no}: not a JSON object")
    appeal_id = doc.get("id")
    if appeal_id in (None, ""):
        raise BadLine(f"line {line_no}: id is required")
    channel = str(doc.get("channel") or "")
    try:
        received = datetime.fromisoformat(str(doc.get("received_at") or ""))
    except ValueError:
        raise BadLine(f"line {line_no}: received_at must be an ISO 8601 time") from None
    if received.tzinfo is None:
        received = received.replace(tzinfo=UTC)
    citizen = doc.get("citizen") if isinstance(doc.get("citizen"), dict) else {}
    text = fold_for_matching(" ".join(str(doc.get(k) or "") for k in ("title", "content")))
    address = fold_for_matching(str(doc.get("address") or "")) or None
    return Probe(
        id=str(appeal_id),
        channel=channel,
        received_at=received,
        text=text,
        identities=identities(citizen, channel),
        division_code=str(doc["division_code"]) if doc.get("division_code") else None,
        township=str(doc["township"]) if doc.get("township") else None,
        address=address,
    )


def identities(citizen: dict[str, Any], channel: str) -> tuple[tuple[str, str], ...]:
    """The identifiers of a citizen object, normalized; a user id counts only on its own channel."""
    out: list[tuple[str, str]] = []
    phone = citizen.get("phone")
    if phone:
        try:
            out.append(("phone", normalize_phone(phone) or str(phone)))
        except FieldError:
            out.append(("phone", str(phone).strip()))
    if citizen.get("id_number"):
        out.append(("id_number", str(citizen["id_number"]).strip().upper()))
    for kind in ("openid", "unionid"):
        if citizen.get(kind):
            out.append((kind, str(citizen[kind]).strip()))
    user = citizen.get("user") or citizen.get("user_id")
    if user:
        out.append(("user", f"{channel}:{user}"))
    return tuple(out)


def decide_all(lines: Iterable[str], matcher: Matcher) -> Iterator[Decision]:
    """Every input line's decision, in order."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadLine(f"line {n}: not JSON: {e}") from None
        yield matcher.decide(probe_of(doc, n))


def run(source: IO[str], sink: IO[str]) -> int:
    """Decide every appeal of the input and write the assignments; how many."""
    matcher = Matcher(Thresholds())
    decisions = list(decide_all(source, matcher))
    for d in decisions:
        # A case that a later appeal linked to a cluster is in that cluster too.
        cluster = matcher.cluster_of_case.get(d.case_id)
        sink.write(
            json.dumps(
                {
                    "id": d.appeal_id,
                    "case_id": d.case_id,
                    "cluster_id": cluster,
                    "decision": d.decision,
                    "score": d.score,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return len(decisions)


def main(input_path: str, output_path: str) -> int:
    """The command: exit 0, or 2 with a message naming the bad line."""
    try:
        with open(input_path, encoding="utf-8") as source, open(output_path, "w", encoding="utf-8") as sink:
            count = run(source, sink)
    except (OSError, BadLine) as e:
        print(f"dedup: {e}", file=sys.stderr)
        return 2
    print(f"dedup: {count} appeals decided", file=sys.stderr)
    return 0
