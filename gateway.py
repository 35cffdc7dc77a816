#!/usr/bin/env python3
"""huiju (汇聚): the 12345 omnichannel aggregation gateway — command line.

Every command takes --config PATH (default ./config.toml, or $HUIJU_CONFIG). A config that cannot be used
stops every command with one message naming the key, and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.clitools import clip, database, local_time, run_async
from core.config import ConfigError, LoadedConfig, load_config
from core.logs import setup_logging

log = logging.getLogger("huiju")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "standalone", False):  # needs no config file and no database
        return args.func(None, args)
    try:
        loaded = load_config(args.config)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr)
        return 2
    setup_logging(loaded.config.logging.format, loaded.config.logging.level)
    serves = args.func is cmd_run or getattr(args.func, "__module__", "") == "simulators.cli"
    if not serves and threading.current_thread() is threading.main_thread():
        # A listing piped into `head` ends quietly, like any Unix tool; servers keep Python's default.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return args.func(loaded, args)


def build_parser() -> argparse.ArgumentParser:
    """The CLI: one sub-command per job, each with its own --help."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: $HUIJU_CONFIG or ./config.toml)")
    p = argparse.ArgumentParser(
        prog="gateway.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    run = sub.add_parser(
        "run",
        parents=[common],
        help="start the gateway (HTTP server and channel jobs)",
        description="Start the gateway on [gateway] host:port. The database must be migrated.",
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="also start the simulators on loopback so that appeals really arrive",
    )
    run.set_defaults(func=cmd_run)

    mig = sub.add_parser(
        "migrate",
        parents=[common],
        help="upgrade the database schema to the newest migration",
        description="Apply every pending alembic migration to [database] url.",
    )
    mig.set_defaults(func=cmd_migrate)

    chk = sub.add_parser(
        "check-config",
        parents=[common],
        help="validate the config file and exit",
        description="Load and validate the whole config file, secrets included; exit 0 if usable, "
        "2 with a message naming the bad key if not.",
    )
    chk.set_defaults(func=cmd_check_config)

    appeals = sub.add_parser(
        "appeals",
        parents=[common],
        help="look at stored appeals",
        description="List or show normalized appeals (personal data masked).",
    )
    asub = appeals.add_subparsers(title="appeals commands", metavar="ACTION", required=True)
    al = asub.add_parser("list", parents=[common], help="one appeal a line, newest first")
    al.add_argument("--channel", help="only this channel id")
    al.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    al.set_defaults(func=cmd_appeals_list)
    ash = asub.add_parser("show", parents=[common], help="one appeal in full, as JSON")
    ash.add_argument("id", help="the gateway id")
    ash.set_defaults(func=cmd_appeals_show)

    q = sub.add_parser(
        "quarantine",
        parents=[common],
        help="items that could not be normalized",
        description="Inbound items kept verbatim because they could not be mapped or normalized.",
    )
    qsub = q.add_subparsers(title="quarantine commands", metavar="ACTION", required=True)
    ql = qsub.add_parser("list", parents=[common], help="one quarantined item a line, with the reason")
    ql.add_argument("--limit", type=int, default=100, help="how many (default 100)")
    ql.set_defaults(func=cmd_quarantine_list)
    qr = qsub.add_parser(
        "retry",
        parents=[common],
        help="map and normalize quarantined items again (after a fix or a config change)",
    )
    qr.add_argument("ids", nargs="*", help="gateway ids to retry (default: all quarantined items)")
    qr.set_defaults(func=cmd_quarantine_retry)
    ch = sub.add_parser(
        "channels",
        parents=[common],
        help="see and switch channels at run time",
        description="List channels with their health, or switch one. Changes persist, are "
        "recorded with who made them, and reach a running gateway within seconds.",
    )
    csub = ch.add_subparsers(title="channels commands", metavar="ACTION", required=True)
    cl = csub.add_parser("list", parents=[common], help="every channel with its state and health")
    cl.add_argument("--json", action="store_true", help="print JSON instead of one line per channel")
    cl.set_defaults(func=cmd_channels_list)
    for action, text in (
        ("enable", "let the channel take appeals again"),
        ("disable", "switch the channel off"),
        ("pause", "stop polling without disabling"),
        ("resume", "poll again (also after an auth failure was fixed)"),
        ("poll", "poll now, without waiting for the schedule"),
        ("reset-cursor", "read the channel's feed again from a point (never stores twice)"),
    ):
        c = csub.add_parser(action, parents=[common], help=text, description=text)
        c.add_argument("channel_id")
        c.add_argument("--actor", help="who is making the change (default: cli:<login name>)")
        if action == "pause":
            c.add_argument("--reason", help="why, shown in the channel's health")
        if action == "reset-cursor":
            c.add_argument("--to", metavar="ISO8601", help="re-read from this update time (default: the start)")
        c.set_defaults(func=cmd_channel_action, action=action)

    cc = csub.add_parser(
        "check",
        parents=[common],
        help="make the channel's cheap authenticated call now",
        description="Call the channel once with its credentials and say whether it answered "
        "(exit 0) or how it failed (exit 1). Changes nothing.",
    )
    cc.add_argument("channel_id")
    cc.set_defaults(func=cmd_channel_check)

    from dedup.cli import add_audit_parser
    from simulators.cli import add_simulate_parser
    from sync.cli import add_sync_parsers

    dd = sub.add_parser(
        "dedup",
        help="decide repeated appeals in a file (no database, no config)",
        description="Run huiju's matcher on a JSONL file of appeals in arrival order and write one assignment a "
        "line: id, case_id, cluster_id, decision (absorb | merge | link | new), score. See docs/dedup.md.",
    )
    dd.add_argument("--input", required=True, metavar="APPEALS.jsonl")
    dd.add_argument("--output", required=True, metavar="ASSIGNMENTS.jsonl")
    dd.set_defaults(func=cmd_dedup, standalone=True)

    add_sync_parsers(sub, common)
    add_audit_parser(sub, common)
    add_simulate_parser(sub, common)
    return p


def cmd_dedup(loaded: LoadedConfig | None, args: argparse.Namespace) -> int:
    """The batch matcher on a file."""
    from dedup.batch import main as dedup_main

    return dedup_main(args.input, args.output)


def cmd_check_config(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Print a summary of a valid config."""
    c = loaded.config
    print(f"{loaded.path}: ok")
    print(f"  gateway   {c.gateway.host}:{c.gateway.port} ({c.gateway.public_base_url})")
    print(f"  database  {_redact_url(c.database.url)}")
    print(f"  platform  {c.platform.base_url} (signing {c.platform.sign_method})")
    for ch in c.channels:
        state = "enabled" if ch.enabled else "disabled"
        print(f"  channel   {ch.id:<16} kind={ch.kind:<8} mode={ch.mode.value:<13} {state}")
    _report_generated(loaded)
    return 0


def _report_generated(loaded: LoadedConfig) -> None:
    if loaded.generated_secrets:
        log.warning(
            "demo secrets generated into %s/demo-secrets.env for: %s; set them in the environment "
            "and turn [gateway] demo_secrets off for production",
            loaded.config.gateway.var_dir,
            ", ".join(loaded.generated_secrets),
        )


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_migrate(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Upgrade the database to head."""
    from core.db import head_revision, upgrade_to_head

    upgrade_to_head(loaded.config.database.url)
    log.info(
        "database migrated to %s",
        head_revision(),
        extra={"database": _redact_url(loaded.config.database.url)},
    )
    return 0


def cmd_run(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM."""
    _report_generated(loaded)
    return run_async(_serve, loaded, args.demo)


async def _serve(loaded: LoadedConfig, demo: bool) -> int:
    from aiohttp import web

    from core.db import AnotherInstance, current_revision, head_revision, make_engine, single_instance_lock
    from web.app import create_app

    config = loaded.config
    try:
        lock = single_instance_lock(config.database.url)
    except AnotherInstance as e:
        print(str(e), file=sys.stderr)
        return 2
    engine = make_engine(config.database.url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    if current != head_revision():
        print(
            f"database schema is at {current}, not {head_revision()}: run `gateway.py migrate` first",
            file=sys.stderr,
        )
        return 2

    app = create_app(config)
    if demo:
        from simulators.demo import demo_ctx

        app.cleanup_ctx.insert(0, demo_ctx(config))  # simulators up before the first poll
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.gateway.host, config.gateway.port)
    await site.start()
    log.info(
        "huiju listening on http://%s:%s",
        config.gateway.host,
        config.gateway.port,
        extra={"channels": [c.id for c in config.channels if c.enabled], "demo": demo},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("huiju stopping")
    await runner.cleanup()
    if lock is not None:
        lock.close()
    return 0


def cmd_channels_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Print every channel with its health."""
    return run_async(_channels_list, loaded, args.json)


async def _channels_list(loaded: LoadedConfig, as_json: bool) -> int:
    from core import channels

    async with database(loaded) as engine:
        views = await channels.list_channels(engine, loaded.config)
    if as_json:
        print(json.dumps([v.to_json() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        if v.health == "push":
            since = "receives pushes"
        else:
            since = f"last ok {local_time(v.last_success_at)}" if v.last_success_at else "never polled"
        error = f"  last error: {v.last_error}" if v.last_error and v.health != "ok" else ""
        lag = f"  lag {v.lag_seconds:.0f}s" if v.lag_seconds is not None else ""
        print(f"{v.id:<16} {v.kind:<6} {v.mode:<13} {v.health:<9} items {v.items_total:<8} {since}{lag}{error}")
    return 0


def cmd_channel_action(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Switch one channel and record who did it."""
    return run_async(_channel_action, loaded, args)


async def _channel_action(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    import getpass

    from core import channels

    detail: dict[str, Any] = {}
    if getattr(args, "reason", None):
        detail["reason"] = args.reason
    if getattr(args, "to", None):
        try:
            at = datetime.fromisoformat(args.to)
        except ValueError:
            print(f"--to: not an ISO 8601 time: {args.to!r}", file=sys.stderr)
            return 2
        detail["to"] = {"updated_at": (at if at.tzinfo else at.replace(tzinfo=SHANGHAI)).isoformat(), "id": ""}
    actor = args.actor or f"cli:{getpass.getuser()}"
    async with database(loaded) as engine:
        try:
            view = await channels.apply(engine, loaded.config, args.channel_id, args.action, actor, detail)
        except channels.UnknownChannel:
            print(f"no channel {args.channel_id!r} in {loaded.path}", file=sys.stderr)
            return 1
    print(f"{view.id}: {args.action} done by {actor}; now {view.health}")
    return 0


def cmd_channel_check(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Check one channel's credentials against the real source."""
    return run_async(_channel_check, loaded, args.channel_id)


async def _channel_check(loaded: LoadedConfig, channel_id: str) -> int:
    import aiohttp

    from core import channels
    from core.errors import ChannelError
    from core.http import HttpClient

    async with aiohttp.ClientSession() as session:
        try:
            await channels.check(loaded.config, channel_id, HttpClient(session))
        except channels.UnknownChannel:
            print(f"no channel {channel_id!r} in {loaded.path}", file=sys.stderr)
            return 1
        except ChannelError as e:
            print(f"{channel_id}: {e.kind} failure: {e}", file=sys.stderr)
            return 1
    print(f"{channel_id}: ok")
    return 0


def cmd_appeals_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Print one appeal a line."""
    return run_async(_appeals_list, loaded, args)


async def _appeals_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.models import Appeal

    query = select(
        Appeal.id,
        Appeal.received_at,
        Appeal.channel_id,
        Appeal.type,
        Appeal.time_tier,
        Appeal.emergency,
        Appeal.case_id,
        Appeal.title,
    ).order_by(Appeal.received_at.desc())
    if args.channel:
        query = query.where(Appeal.channel_id == args.channel)

    def line(r: Any) -> str:
        flag = f" !{r.emergency}" if r.emergency else ""
        return (
            f"{r.id}  {local_time(r.received_at)}  {r.channel_id:<14} {r.type:<12} {r.time_tier:>3}{flag}  "
            f"case {r.case_id}  {clip(r.title, 40)}"
        )

    return await _print_rows(loaded, query.limit(args.limit), line, "no appeals")


async def _print_rows(loaded: LoadedConfig, query: Any, line: Callable[[Any], str], empty: str) -> int:
    """Print one line per row of a query (or say that there are none, on stderr)."""
    async with database(loaded) as engine, engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    for r in rows:
        print(line(r))
    if not rows:
        print(empty, file=sys.stderr)
    return 0


def cmd_appeals_show(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Print one appeal as JSON, personal data masked."""
    return run_async(_appeals_show, loaded, args.id)


async def _appeals_show(loaded: LoadedConfig, appeal_id: str) -> int:
    from sqlalchemy import select

    from core.exports import appeal_export
    from core.models import Appeal, RawItem

    gid = _parse_id(appeal_id)
    if gid is None:
        return 2
    async with database(loaded) as engine, engine.connect() as conn:
        row = (await conn.execute(select(Appeal).where(Appeal.id == gid))).first()
        raw = (await conn.execute(select(RawItem.status, RawItem.error).where(RawItem.id == gid))).first()
    if row is None:
        if raw is not None:
            print(f"{appeal_id} is in quarantine: {raw.error}", file=sys.stderr)
        else:
            print(f"no appeal {appeal_id}", file=sys.stderr)
        return 1
    print(json.dumps(appeal_export(row._mapping), ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_quarantine_list(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Print one quarantined item a line with its reason."""
    return run_async(_quarantine_list, loaded, args.limit)


async def _quarantine_list(loaded: LoadedConfig, limit: int) -> int:
    from sqlalchemy import select

    from core.masking import mask_text
    from core.models import RawItem

    query = (
        select(
            RawItem.id,
            RawItem.channel_id,
            RawItem.source_id,
            RawItem.received_at,
            RawItem.attempts,
            RawItem.error,
        )
        .where(RawItem.status == "quarantined")
        .order_by(RawItem.received_at)
        .limit(limit)
    )

    def line(r: Any) -> str:
        return (
            f"{r.id}  {local_time(r.received_at)}  {r.channel_id:<14} source={r.source_id}  "
            f"attempts={r.attempts}  {mask_text(r.error or '')}"
        )

    return await _print_rows(loaded, query, line, "quarantine is empty")


def cmd_quarantine_retry(loaded: LoadedConfig, args: argparse.Namespace) -> int:
    """Retry quarantined items; exit 1 if some are still quarantined."""
    return run_async(_quarantine_retry, loaded, args.ids)


async def _quarantine_retry(loaded: LoadedConfig, ids: list[str]) -> int:
    from core.ingest import Pipeline

    gids = [_parse_id(i) for i in ids]
    if None in gids:
        return 2
    pipeline = Pipeline(loaded.config, loaded.config.tier_rules())
    async with database(loaded) as engine, engine.begin() as conn:
        results = await pipeline.retry_quarantined(conn, gids or None)
    ok = sum(r.outcome == "accepted" for r in results)
    for r in results:
        print(f"{r.id}  {r.outcome}" + (f"  {r.error}" if r.error else ""))
    print(f"{ok} of {len(results)} items normalized", file=sys.stderr)
    return 0 if ok == len(results) else 1


def _parse_id(text: str) -> uuid.UUID | None:
    from core.ids import parse_id

    gid = parse_id(text)
    if gid is None:
        print(f"not a gateway id: {text!r}", file=sys.stderr)
    return gid


if __name__ == "__main__":
    sys.exit(main())
