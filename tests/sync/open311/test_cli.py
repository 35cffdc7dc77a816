"""`gateway.py simulate open311`: the Open311 simulator from the command line."""

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
from simulators.cli import DEMO_OPEN311_KEY, OPEN311_KEY_ENV, OPEN311_PORT, add_simulate_parser, main
from tests.process import free_port


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_parser(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    return parser.parse_args(["simulate", *argv])


def test_simulate_open311_flags_parse():
    args = parse("open311", "--api-key", "k", "--jurisdiction-id", "ruijin.gov.cn", "--async-tokens")
    assert (args.kind, args.api_key, args.jurisdiction_id, args.async_tokens) == (
        "open311",
        "k",
        "ruijin.gov.cn",
        True,
    )
    assert parse("open311").jurisdiction_id == "ganzhou.gov.cn" and OPEN311_PORT == 8311


def test_the_other_kinds_still_parse():
    assert parse("hotline", "--return-rate", "0.5").return_rate == 0.5
    assert parse("12315", "--drift", "0.2").drift == 0.2


async def test_simulate_open311_serves_until_interrupted_and_takes_the_demo_key():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != OPEN311_KEY_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "simulate", "open311", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/requests.json"
            for _ in range(100):
                try:
                    form = {"api_key": DEMO_OPEN311_KEY, "service_code": "001", "address_string": "红旗大道1号"}
                    async with session.post(url, data=form) as resp:
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
    assert DEMO_OPEN311_KEY in out.decode()


def test_a_bad_clock_scale_is_refused():
    assert main(["simulate", "open311", "--clock-scale", "0"]) == 2
