"""Console tests run the real app (headless) against a simulated cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from llmd_console.config import Config
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.app import ConsoleApp, Target

CONSOLE_SPEED = 100.0  # fast enough for startups, idle enough for Pilot's idle waits


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimCluster, Path]]:
    """A Pattern 1 cluster and its kubeconfig."""
    with SimCluster(SimOptions(speed=CONSOLE_SPEED, seed=3)) as cluster:
        path = cluster.write_kubeconfig(tmp_path_factory.mktemp("console") / "kubeconfig")
        yield cluster, path


def make_app(
    kubeconfig: Path, config: Config | None = None, namespace: str | None = None, **kwargs: object
) -> ConsoleApp:
    """The app as the CLI builds it (``namespace`` as ``-n`` gives it)."""
    return ConsoleApp(config or Config(), Target(str(kubeconfig), None, namespace), **kwargs)  # type: ignore[arg-type]


async def until(pilot: Pilot[Any], condition: Callable[[], object], limit: float = 20.0, what: str = "") -> None:
    """Let the app run until ``condition()`` is truthy, for at most ``limit`` seconds (never a fixed sleep)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}")


def screen_text(app: ConsoleApp) -> str:
    """What the terminal shows of the current screen, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle() -> None:
    """Give other tasks a turn."""
    await asyncio.sleep(0)
