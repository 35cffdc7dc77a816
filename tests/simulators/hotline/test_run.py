"""Building and starting the 12345 platform simulator: build_platform, its data, `gateway.py simulate hotline`."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from core.config import ROOT
from simulators.cli import DEMO_SECRET, HOTLINE_PORT, add_simulate_parser
from simulators.hotline import build_platform
from simulators.hotline.app import PLATFORM
from simulators.hotline.replies import DATA, adapt, replies
from simulators.hotline.units import unit_for
from tests.process import free_port
from tests.simulators.hotline.support import APP_SECRET, sign


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_simulate_parser(parser.add_subparsers(), argparse.ArgumentParser(add_help=False))
    return parser.parse_args(["simulate", *argv])


def test_an_unknown_knob_is_refused():
    with pytest.raises(TypeError, match="unknown knob"):
        build_platform("k", APP_SECRET, retrun_rate=0.5)


def test_a_bad_knob_value_is_refused():
    with pytest.raises(ValueError, match="return_rate"):
        build_platform("k", APP_SECRET, return_rate=2)


def test_a_callback_url_needs_the_platforms_own_credentials():
    with pytest.raises(ValueError, match="callback_app_key and callback_secret"):
        build_platform("k", APP_SECRET, callback_url="http://127.0.0.1:1/api/v1/platform/events")


def test_knobs_and_the_clock_scale_are_passed_on():
    app = build_platform("k", APP_SECRET, clock_scale=0.01, return_rate=0.3, outage=True)
    platform = app[PLATFORM]
    assert platform.clock.scale == 0.01
    assert (platform.knobs.return_rate, platform.knobs.outage) == (0.3, True)


def test_the_shipped_replies_are_real_ones_with_their_reply_times():
    items = replies()
    assert 150 <= len(items) <= 250
    for item in items:
        assert set(item) == {"id", "title", "asked_at", "reply", "replied_at", "unit", "category"}
        assert item["unit"] in "".join(item["reply"].split())
        assert item["replied_at"][:2] == "20"


def test_the_simulator_reads_no_data_from_outside_the_repository():
    assert DATA.is_relative_to(ROOT)
    for source in Path(ROOT / "simulators" / "hotline").glob("*.py"):
        assert "/work/shared" not in source.read_text(encoding="utf-8"), source


def test_simulate_hotline_flags_parse_and_the_national_kinds_still_do():
    args = parse(
        "hotline", "--clock-scale", "0.01", "--callback-url", "http://127.0.0.1:8345/x", "--return-rate", "0.5"
    )
    assert (args.kind, args.clock_scale, args.callback_url, args.return_rate) == (
        "hotline",
        0.01,
        "http://127.0.0.1:8345/x",
        0.5,
    )
    assert parse("12315", "--drift", "0.2").drift == 0.2
    with pytest.raises(SystemExit):
        parse("hotline", "--return-rate", "2")


async def test_simulate_hotline_serves_on_its_port_until_interrupted():
    assert HOTLINE_PORT == 8400
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "HUIJU_SIM_SECRET"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", "simulate", "hotline", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                headers = sign("GET", "/api/v1/ping", {}, b"", app_key="huiju-demo", secret=DEMO_SECRET)
                try:
                    async with session.get(f"http://127.0.0.1:{port}/api/v1/ping", headers=headers) as resp:
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


@pytest.mark.parametrize(
    ("department", "division", "township"), [("housing", "360702", None), ("township", "610113", "小寨街道")]
)
def test_every_shipped_reply_adapts_to_the_unit_without_the_data_sets_placeholders(department, division, township):
    unit = unit_for(department, division, township)
    for item in replies():
        text = adapt(item, unit, division, datetime(2024, 11, 27, 7, 30, tzinfo=UTC))
        assert unit.name in text
        assert not re.search(r"[A-Z]\d*[市县区]|UU\d{3,}|西地省", text), text[:80]
        assert text.endswith("2024年11月27日")
