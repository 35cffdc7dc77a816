"""Building, serving and starting a platform simulator: build_simulator, running, the `simulate` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
import pytest

from core.config import ROOT
from simulators.cli import DEMO_SECRET, add_simulate_parser
from simulators.national.engine import SIMULATOR
from simulators.national.run import build_simulator, running, server_dialect
from tests.process import free_port
from tests.simulators.support import APP_KEY, APP_SECRET, Signer


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_parser(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    return parser.parse_args(["simulate", *argv])


def test_build_simulator_serves_the_dialect_of_the_kind():
    app = build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET)
    assert app[SIMULATOR].dialect.name == "12315"
    assert app[SIMULATOR].dialect.poll_path == "/open/v1/workorders"


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown platform '12306'"):
        server_dialect("12306")


def test_an_unknown_knob_is_refused():
    with pytest.raises(TypeError, match="unknown knob"):
        build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET, error_rte=0.1)


def test_knobs_and_rate_are_passed_to_the_engine():
    app = build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET, rate_per_second=2.5, outage=True)
    knobs = app[SIMULATOR].knobs
    assert knobs.rate_per_second == 2.5 and knobs.outage is True


def test_initial_orders_are_spread_over_the_past_oldest_first():
    app = build_simulator(
        "12315", app_key=APP_KEY, app_secret=APP_SECRET, initial_orders=10, initial_spread_seconds=1000
    )
    sim = app[SIMULATOR]
    times = [k[0] for k in sim.feed_keys()]
    assert len(times) == 10 and times == sorted(times)
    assert 850 <= (times[-1] - times[0]).total_seconds() <= 950


async def test_running_serves_on_a_free_loopback_port():
    app = build_simulator("12315", app_key=APP_KEY, app_secret=APP_SECRET)
    async with running(app) as url, aiohttp.ClientSession() as session:
        assert url.startswith("http://127.0.0.1:")
        headers = Signer().headers("GET", "/open/v1/ping")
        async with session.get(url + "/open/v1/ping", headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.json())["code"] == 0


def test_simulate_flags_parse():
    args = parse(
        "12315", "--port", "0", "--drift", "0.2", "--error-rate", "0.1", "--outage", "--sign-method", "sm3"
    )
    assert (args.kind, args.port, args.drift, args.error_rate, args.outage, args.sign_method) == (
        "12315", 0, 0.2, 0.1, True, "sm3"
    )
    assert args.host == "127.0.0.1" and args.reject_auth is False


@pytest.mark.parametrize("argv", [("12306",), ("12315", "--drift", "1.5"), ("12315", "--rate", "-1")])
def test_simulate_refuses_bad_flags(argv):
    with pytest.raises(SystemExit):
        parse(*argv)


async def test_simulate_runs_until_interrupted_and_prints_the_demo_secret():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "HUIJU_SIM_SECRET"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "simulate", "12315", "--port", str(port), "--initial", "3"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        headers = Signer(app_key="huiju-demo", secret=DEMO_SECRET).headers("GET", "/open/v1/ping")
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/open/v1/ping", headers=headers) as resp:
                        assert resp.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the simulator did not start")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert DEMO_SECRET in out.decode()
