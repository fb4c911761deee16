"""A hung API server (its process stopped: connections open, nothing answers) is noticed
within twice ``refresh.liveness_seconds``, shown as such, and left behind when it answers
again. Headless, against the simulator in its own process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from llmd_console.config import Config, RefreshConfig
from llmd_console.models import Phase
from llmd_console.session import Session, Target

LIVENESS = 1.0


@pytest.fixture()
def sim_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    kubeconfig = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmd_console", "sim", "--kubeconfig", str(kubeconfig), "--speed", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "Press Ctrl-C" in line:
            break
    try:
        yield proc, kubeconfig
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(20)


async def until(condition: Callable[[], object], what: str, limit: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            raise AssertionError(f"not within {limit} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_stopped_api_server_is_noticed_shown_and_left_behind(
    sim_process: tuple[subprocess.Popen[str], Path],
) -> None:
    proc, kubeconfig = sim_process
    config = replace(Config(), refresh=RefreshConfig(liveness_seconds=LIVENESS))
    session = Session(config, Target(str(kubeconfig), None, None))
    task = asyncio.create_task(session.run())
    try:
        await until(lambda: session.connection.phase is Phase.CONNECTED, "connected", 30)
        pods = len(session.snapshot.pods)
        os.kill(proc.pid, signal.SIGSTOP)
        # The stated bound: one liveness period to ask, one to wait for the answer (plus a batch).
        await until(lambda: session.connection.phase is Phase.RECONNECTING, "the hang noticed", 2 * LIVENESS + 1.5)
        assert "does not answer" in session.connection.reason
        assert len(session.snapshot.pods) == pods  # the last data is kept
        assert session.hub is not None and session.hub.hangs == 1
        os.kill(proc.pid, signal.SIGCONT)
        await until(lambda: session.connection.phase is Phase.CONNECTED, "connected again", 30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.close()
