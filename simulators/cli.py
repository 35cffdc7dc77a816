"""`gateway.py simulate KIND`: run a national platform's or the 12345 platform's simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

from core.signing import SIGN_METHODS

DEMO_APP_KEY = "huiju-demo"
DEMO_SECRET = "demo-national-secret-0123456789"  # published in the docs; never a real secret
SECRET_ENV = "HUIJU_SIM_SECRET"
KINDS = ("12315", "12333", "12328", "hotline", "open311")
HOTLINE_PORT = 8400  # [platform] base_url in config.toml
OPEN311_PORT = 8311
DEMO_OPEN311_KEY = "demo-open311-key-0123456789"  # published in the docs; never a real key
OPEN311_KEY_ENV = "HUIJU_SIM_OPEN311_KEY"
DEMO_CALLBACK_APP_KEY = "12345-platform-demo"
DEMO_CALLBACK_SECRET = "demo-platform-callback-secret-0123"  # published in the docs; never a real secret
CALLBACK_SECRET_ENV = "HUIJU_SIM_CALLBACK_SECRET"


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def add_simulate_parser(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `simulate KIND` to a sub-command table; returns the new parser."""
    p = subparsers.add_parser(
        "simulate",
        parents=[common_parent],
        help="run a simulator of the 12315, 12333 or 12328 platform, of the unified 12345 platform, or of an "
        "Open311 server",
        description="Serve a simulated national hotline platform (signed interconnect, generated work orders, "
        "knobs for failures and schema drift, control API under /_sim/) until Ctrl-C; "
        "see docs/channels/national-protocol.md. KIND hotline serves the unified 12345 platform that huiju "
        "pushes cases to (work orders that live on their own, signed callbacks, an event feed); "
        "see docs/platform12345.md. KIND open311 serves an Open311 GeoReport v2 server, the other kind of target "
        "(service requests that are assigned and closed on their own, tokens, the spec's errors); "
        "see docs/targets/open311.md.",
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help="12315, 12333, 12328, hotline or open311")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, help="port (default 8315, 8333, 8328, 8400 or 8311 by kind; 0 for any free port)"
    )
    p.add_argument("--app-key", default=DEMO_APP_KEY, help=f"the app key to accept (default {DEMO_APP_KEY})")
    p.add_argument(
        "--app-secret", help=f"the shared secret (default ${SECRET_ENV}, else a fixed demo value, printed)"
    )
    p.add_argument("--sign-method", choices=SIGN_METHODS, default="hmac-sha256", help="default hmac-sha256")
    p.add_argument(
        "--rate", type=_non_negative, default=0.5, help="new work orders per second (default 0.5; not hotline)"
    )
    p.add_argument(
        "--initial", type=int, default=20, help="work orders made at start, over the last hour (20; not hotline)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generated content (default 0)")
    p.add_argument("--latency-ms", type=_non_negative, default=0.0, help="delay before every answer")
    p.add_argument("--error-rate", type=_rate, default=0.0, help="fraction answered 429, 500 or 503")
    p.add_argument("--outage", action="store_true", help="answer every platform request 503")
    p.add_argument("--reject-auth", action="store_true", help="answer every platform request 401")
    p.add_argument(
        "--drift", type=_rate, default=0.0, metavar="RATE", help="rate of each kind of schema drift (not hotline)"
    )
    h = p.add_argument_group("hotline only")
    h.add_argument("--callback-url", help="POST every event here, signed (default: none; huiju polls the feed)")
    h.add_argument(
        "--callback-app-key",
        default=DEMO_CALLBACK_APP_KEY,
        help=f"the platform's own app key for callbacks (default {DEMO_CALLBACK_APP_KEY})",
    )
    h.add_argument(
        "--callback-secret",
        help=f"the callback secret (default ${CALLBACK_SECRET_ENV}, else a demo value, printed)",
    )
    h.add_argument(
        "--clock-scale",
        type=float,
        default=1.0,
        help="wall seconds per business second: 0.01 makes a day 14.4 minutes (default 1.0)",
    )
    h.add_argument("--return-rate", type=_rate, help="fraction of dispatches returned (退单) (default 0.1)")
    o = p.add_argument_group(
        "open311 only", "--clock-scale, --seed, --latency-ms, --error-rate and --outage apply to open311 too."
    )
    o.add_argument(
        "--api-key", help=f"the api_key to accept (default ${OPEN311_KEY_ENV}, else a demo value, printed)"
    )
    o.add_argument("--jurisdiction-id", default="ganzhou.gov.cn", help="the jurisdiction served (ganzhou.gov.cn)")
    o.add_argument(
        "--async-tokens", action="store_true", help="answer a new request with a token (a batch server)"
    )
    p.set_defaults(func=cmd_simulate)
    return p


def cmd_simulate(_loaded: Any, args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C (the gateway's config is not used)."""
    if args.kind == "hotline":
        return cmd_simulate_hotline(args)
    if args.kind == "open311":
        return cmd_simulate_open311(args)
    from simulators.national.run import DEFAULT_PORTS, build_simulator

    secret = args.app_secret or os.environ.get(SECRET_ENV) or DEMO_SECRET
    app = build_simulator(
        args.kind,
        app_key=args.app_key,
        app_secret=secret,
        sign_method=args.sign_method,
        seed=args.seed,
        rate_per_second=args.rate,
        initial_orders=max(0, args.initial),
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        outage=args.outage,
        reject_auth=args.reject_auth,
        drift_unknown_fields=args.drift,
        drift_missing_optional=args.drift,
        drift_bad_dates=args.drift,
        drift_wrong_types=args.drift,
    )
    port = DEFAULT_PORTS[args.kind] if args.port is None else args.port
    print(f"{args.kind} simulator: app key {args.app_key!r}, sign method {args.sign_method}", flush=True)
    if args.app_secret:
        print("  app secret from --app-secret", flush=True)
    elif os.environ.get(SECRET_ENV):
        print(f"  app secret from ${SECRET_ENV}", flush=True)
    else:
        print(f"  app secret (demo value): {DEMO_SECRET}", flush=True)
    print("  control API: /_sim/knobs, /_sim/orders, /_sim/events, /_sim/stats; Ctrl-C stops", flush=True)
    return _serve(app, args.host, port)


def cmd_simulate_hotline(args: argparse.Namespace) -> int:
    """Run the unified 12345 platform's simulator until Ctrl-C."""
    from simulators.hotline import build_platform

    if not 0 < args.clock_scale <= 1000:
        print("--clock-scale must be > 0 and at most 1000", file=sys.stderr)
        return 2
    secret = args.app_secret or os.environ.get(SECRET_ENV) or DEMO_SECRET
    callback_secret = args.callback_secret or os.environ.get(CALLBACK_SECRET_ENV) or DEMO_CALLBACK_SECRET
    knobs: dict[str, Any] = {
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "outage": args.outage,
        "reject_auth": args.reject_auth,
    }
    if args.return_rate is not None:
        knobs["return_rate"] = args.return_rate
    try:
        app = build_platform(
            args.app_key,
            secret,
            args.sign_method,
            callback_url=args.callback_url,
            callback_app_key=args.callback_app_key,
            callback_secret=callback_secret,
            seed=args.seed,
            clock_scale=args.clock_scale,
            **knobs,
        )
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    port = HOTLINE_PORT if args.port is None else args.port
    print(f"12345 platform simulator: app key {args.app_key!r}, sign method {args.sign_method}", flush=True)
    if args.app_secret:
        print("  app secret from --app-secret", flush=True)
    elif os.environ.get(SECRET_ENV):
        print(f"  app secret from ${SECRET_ENV}", flush=True)
    else:
        print(f"  app secret (demo value): {DEMO_SECRET}", flush=True)
    if args.callback_url:
        print(f"  callbacks to {args.callback_url}, app key {args.callback_app_key!r}", flush=True)
        if not (args.callback_secret or os.environ.get(CALLBACK_SECRET_ENV)):
            print(f"  callback secret (demo value): {DEMO_CALLBACK_SECRET}", flush=True)
    else:
        print("  no callbacks: events are in GET /api/v1/work-orders/events", flush=True)
    print(f"  clock scale {args.clock_scale}", flush=True)
    print("  control API: /_sim/work-orders, /_sim/requests, /_sim/knobs, /_sim/stats; Ctrl-C stops", flush=True)
    return _serve(app, args.host, port)


def cmd_simulate_open311(args: argparse.Namespace) -> int:
    """Run the Open311 GeoReport v2 server's simulator until Ctrl-C."""
    from simulators.open311 import build_open311

    if not 0 < args.clock_scale <= 1000:
        print("--clock-scale must be > 0 and at most 1000", file=sys.stderr)
        return 2
    api_key = args.api_key or os.environ.get(OPEN311_KEY_ENV) or DEMO_OPEN311_KEY
    app = build_open311(
        api_key,
        args.jurisdiction_id,
        seed=args.seed,
        clock_scale=args.clock_scale,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        outage=args.outage,
        async_tokens=args.async_tokens,
    )
    port = OPEN311_PORT if args.port is None else args.port
    print(f"Open311 simulator: jurisdiction {args.jurisdiction_id!r}", flush=True)
    if args.api_key:
        print("  api_key from --api-key", flush=True)
    elif os.environ.get(OPEN311_KEY_ENV):
        print(f"  api_key from ${OPEN311_KEY_ENV}", flush=True)
    else:
        print(f"  api_key (demo value): {DEMO_OPEN311_KEY}", flush=True)
    print(f"  clock scale {args.clock_scale}; tokens {'on' if args.async_tokens else 'off'}", flush=True)
    print(
        "  control API: /_sim/service-requests, /_sim/requests, /_sim/knobs, /_sim/stats; Ctrl-C stops", flush=True
    )
    return _serve(app, args.host, port)


def _serve(app: Any, host: str, port: int) -> int:
    from simulators.national.run import serve

    try:
        asyncio.run(serve(app, host, port))
    except KeyboardInterrupt:  # Ctrl-C is how a simulator is stopped
        return 0
    except OSError as e:
        print(f"cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m simulators.cli simulate 12315`."""
    common = argparse.ArgumentParser(add_help=False)
    parser = argparse.ArgumentParser(prog="python -m simulators.cli")
    add_simulate_parser(parser.add_subparsers(required=True, metavar="COMMAND"), common)
    args = parser.parse_args(argv)
    return args.func(None, args)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
