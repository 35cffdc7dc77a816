"""`gateway.py outbox|deliveries|cases|review`: the sync commands, doing what the admin and review APIs do
(sync/control.py, sync/review.py), for an operator at the server. A running gateway picks up a requeued message
within `[sync] idle_seconds`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from datetime import timedelta
from typing import Any

from core.clitools import clip, database, local_time, print_rows, run_async
from core.config import LoadedConfig
from sync import control, review


def add_sync_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the outbox, deliveries, cases and review commands to the CLI."""
    ob = sub.add_parser(
        "outbox",
        parents=[common],
        help="messages owed to the 12345 platform",
        description="The outbox: one line per message, its state, attempts and last error; send dead ones "
        "again (retry) or send a sent one once more, the very same request (replay).",
    )
    osub = ob.add_subparsers(title="outbox commands", metavar="ACTION", required=True)
    ol = osub.add_parser("list", parents=[common], help="messages, newest first")
    ol.add_argument("--status", choices=control.OUTBOX_STATES)
    ol.add_argument("--case", metavar="CASE_ID")
    ol.add_argument("--limit", type=int, default=100)
    ol.add_argument("--json", action="store_true", help="print JSON objects, one a line")
    ol.set_defaults(func=lambda loaded, args: run_async(_outbox_list, loaded, args))
    orr = osub.add_parser("retry", parents=[common], help="send dead messages again (default: every dead one)")
    orr.add_argument("ids", nargs="*", type=int)
    orr.add_argument("--rerender", action="store_true", help="render the requests anew instead of the frozen ones")
    orr.add_argument("--actor", help="who asks (default: cli:<login name>)")
    orr.set_defaults(func=lambda loaded, args: run_async(_requeue, loaded, args, "outbox-retry"))
    od = osub.add_parser(
        "discard", parents=[common], help="give up on dead messages for good (the case's next messages go on)"
    )
    od.add_argument("ids", nargs="+", type=int)
    od.add_argument("--reason", required=True, help="why they are given up (kept on the case's timeline)")
    od.add_argument("--actor", help="who asks (default: cli:<login name>)")
    od.set_defaults(func=lambda loaded, args: run_async(_requeue, loaded, args, "outbox-discard"))
    orp = osub.add_parser("replay", parents=[common], help="send one message again, the very same request")
    orp.add_argument("id", type=int)
    orp.add_argument("--actor", help="who asks (default: cli:<login name>)")
    orp.set_defaults(func=lambda loaded, args: run_async(_requeue, loaded, args, "outbox-replay"))

    dl = sub.add_parser(
        "deliveries",
        parents=[common],
        help="status and replies owed to the channels",
        description="Deliveries back to the channels: one per appeal and event, with state, attempts, receipt "
        "and deadline; deliver dead ones again.",
    )
    dsub = dl.add_subparsers(title="deliveries commands", metavar="ACTION", required=True)
    dls = dsub.add_parser("list", parents=[common], help="deliveries, newest first")
    dls.add_argument("--state", choices=control.DELIVERY_STATES)
    dls.add_argument("--channel")
    dls.add_argument("--case", metavar="CASE_ID")
    dls.add_argument("--limit", type=int, default=100)
    dls.add_argument("--json", action="store_true", help="print JSON objects, one a line")
    dls.set_defaults(func=lambda loaded, args: run_async(_deliveries_list, loaded, args))
    drt = dsub.add_parser("retry", parents=[common], help="deliver dead deliveries again (default: every one)")
    drt.add_argument("ids", nargs="*", type=int)
    drt.add_argument("--actor", help="who asks (default: cli:<login name>)")
    drt.set_defaults(func=lambda loaded, args: run_async(_requeue, loaded, args, "deliveries-retry"))

    cs = sub.add_parser("cases", parents=[common], help="cases and their timelines")
    csub = cs.add_subparsers(title="cases commands", metavar="ACTION", required=True)
    csh = csub.add_parser(
        "show", parents=[common], help="one case as JSON: state, deadlines, appeals (masked), flags, timeline"
    )
    csh.add_argument("id", metavar="CASE_ID")
    csh.set_defaults(func=lambda loaded, args: run_async(_case_show, loaded, args))

    rv = sub.add_parser(
        "review",
        parents=[common],
        help="replies of merged-mode channels awaiting review",
        description="For the managing body of a merged-mode channel: approve a reply (it is published on the "
        "channel) or reject it with a comment (it goes back to the 12345 platform as a return).",
    )
    rsub = rv.add_subparsers(title="review commands", metavar="ACTION", required=True)
    rl = rsub.add_parser("list", parents=[common], help="replies awaiting review on these channels")
    rl.add_argument("channels", nargs="+", metavar="CHANNEL_ID")
    rl.set_defaults(func=lambda loaded, args: run_async(_review_list, loaded, args))
    for verdict in ("approve", "reject"):
        r = rsub.add_parser(verdict, parents=[common], help=f"{verdict} one reply")
        r.add_argument("id", type=int, metavar="DELIVERY_ID")
        r.add_argument("--actor", help="who reviews (default: cli:<login name>)")
        if verdict == "reject":
            r.add_argument("--comment", required=True, help="why the reply is rejected")
        r.set_defaults(func=lambda loaded, args, v=verdict: run_async(_review, loaded, args, v))


def _actor(args: argparse.Namespace) -> str:
    return args.actor or f"cli:{getpass.getuser()}"


def _case_id(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise SystemExit(f"not a case id: {text!r}") from None


def _t(value: str | None) -> str:
    from datetime import datetime

    return local_time(datetime.fromisoformat(value)) if value else "-"


async def _outbox_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        rows = await control.list_outbox(conn, args.status, _case_id(args.case), args.limit)

    def line(r: dict[str, Any]) -> str:
        tail = (r["response"] or {}).get("work_order_no") or (r["response"] or {}).get("record_no") or ""
        error = clip(r["last_error"] or "", 80)
        return (
            f"{r['id']:>7}  {r['status']:<8} {r['kind']:<20} case={r['case_id']}  attempts={r['attempts']}  "
            f"next={_t(r['next_attempt_at'])}  {tail}{'  ' + error if error and r['status'] != 'sent' else ''}"
        )

    return print_rows(rows, args.json, line, "the outbox is empty")


async def _deliveries_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        rows = await control.list_deliveries(conn, args.state, args.channel, _case_id(args.case), args.limit)

    def line(r: dict[str, Any]) -> str:
        late = "  LATE" if r["late"] else ""
        error = f"  {clip(r['last_error'], 80)}" if r["last_error"] and r["state"] != "delivered" else ""
        return (
            f"{r['id']:>7}  {r['state']:<15} {r['channel_id']:<14} {r['status']:<10} case={r['case_id']}  "
            f"attempts={r['attempts']}  deadline={_t(r['deadline'])}{late}{error}"
        )

    return print_rows(rows, args.json, line, "no deliveries")


async def _requeue(loaded: LoadedConfig, args: argparse.Namespace, what: str) -> int:
    async with database(loaded) as engine, engine.begin() as conn:
        try:
            if what == "outbox-retry":
                ids = await control.retry_outbox(conn, args.ids or None, _actor(args), args.rerender)
            elif what == "outbox-discard":
                ids = await control.discard_outbox(conn, args.ids, _actor(args), args.reason)
            elif what == "outbox-replay":
                ids = await control.replay_outbox(conn, args.id, _actor(args))
            else:
                ids = await control.retry_deliveries(conn, args.ids or None, _actor(args))
        except (control.NotFound, ValueError) as e:
            print(e, file=sys.stderr)
            return 1
    done = "discarded" if what == "outbox-discard" else "requeued"
    print(f"{done}: {', '.join(map(str, ids)) or 'nothing'}")
    return 0


async def _case_show(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        try:
            view = await control.case_view(conn, _case_id(args.id))  # type: ignore[arg-type]
        except control.NotFound as e:
            print(e, file=sys.stderr)
            return 1
    print(json.dumps(view, ensure_ascii=False, indent=2))
    return 0


async def _review_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    async with database(loaded) as engine, engine.connect() as conn:
        rows = [control.delivery_view(r) for r in await review.awaiting(conn, args.channels)]

    def line(r: dict[str, Any]) -> str:
        text = clip(r["text"] or "", 60)
        return f"{r['id']:>7}  {r['channel_id']:<14} case={r['case_id']}  {r['unit'] or '-'}: {text}"

    return print_rows(rows, False, line, "no replies await review")


async def _review(loaded: LoadedConfig, args: argparse.Namespace, verdict: str) -> int:
    async with database(loaded) as engine, engine.begin() as conn:
        channels = [c.id for c in loaded.config.channels]
        try:
            if verdict == "approve":
                within = timedelta(seconds=loaded.config.sync.delivery_deadline_seconds)
                await review.approve(conn, args.id, channels, _actor(args), within)
            else:
                await review.reject(conn, args.id, channels, _actor(args), args.comment)
        except review.ReviewError as e:
            print(e, file=sys.stderr)
            return 1
    print(f"reply {args.id}: {'approved' if verdict == 'approve' else 'rejected'}")
    return 0
