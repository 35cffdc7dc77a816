"""Running real gateway processes in tests: start, wait until healthy, kill."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from core.config import ROOT
from tests.helpers import ENV


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(config: Path, *extra: str, log: Path | None = None) -> subprocess.Popen:
    """`gateway.py run` in a process of its own, with the test secrets in its environment."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [sys.executable, str(ROOT / "gateway.py"), "run", "--config", str(config), *extra],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=out,
        stderr=subprocess.STDOUT,
    )


async def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until /healthz answers (or fail if the process died)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gateway exited with status {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("gateway did not become healthy")
            await asyncio.sleep(0.1)
