"""`gateway.py simulate KIND`: run a national platform's simulator on its own until Ctrl-C."""

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
KINDS = ("12315", "12333", "12328")


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
        help="run a simulator of the 12315, 12333 or 12328 platform",
        description="Serve a simulated national hotline platform (signed interconnect, generated work orders, "
        "knobs for failures and schema drift, control API under /_sim/) until Ctrl-C. "
        "See docs/channels/national-protocol.md.",
    )
    p.add_argument("kind", choices=KINDS, metavar="KIND", help="12315, 12333 or 12328")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8315, 8333 or 8328 by kind; 0 for any free port)")
    p.add_argument("--app-key", default=DEMO_APP_KEY, help=f"the app key to accept (default {DEMO_APP_KEY})")
    p.add_argument(
        "--app-secret", help=f"the shared secret (default ${SECRET_ENV}, else a fixed demo value, printed)"
    )
    p.add_argument("--sign-method", choices=SIGN_METHODS, default="hmac-sha256", help="default hmac-sha256")
    p.add_argument("--rate", type=_non_negative, default=0.5, help="new work orders per second (default 0.5)")
    p.add_argument("--initial", type=int, default=20, help="work orders made at start, over the last hour (20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated content (default 0)")
    p.add_argument("--latency-ms", type=_non_negative, default=0.0, help="delay before every answer")
    p.add_argument("--error-rate", type=_rate, default=0.0, help="fraction answered 429, 500 or 503")
    p.add_argument("--outage", action="store_true", help="answer every platform request 503")
    p.add_argument("--reject-auth", action="store_true", help="answer every platform request 401")
    p.add_argument("--drift", type=_rate, default=0.0, metavar="RATE", help="rate of each kind of schema drift")
    p.set_defaults(func=cmd_simulate)
    return p


def cmd_simulate(_loaded: Any, args: argparse.Namespace) -> int:
    """Run the simulator until Ctrl-C (the gateway's config is not used)."""
    from simulators.national.run import DEFAULT_PORTS, build_simulator, serve

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
    try:
        asyncio.run(serve(app, args.host, port))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print(f"cannot listen on {args.host}:{port}: {e}", file=sys.stderr)
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
