"""The startup tracker against the xla-timeout scenario: the startup probe kills vLLM while it
precompiles, again and again. The tracker follows each new instance (its phases start when the
instance started, never carried over), the budget shows only while a container starts, and
phase times are the log's own, whatever the console believes the cluster's speed to be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.models import Container
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.views.common import human_age
from llmd_console.views.startup import probe_budget
from tests.console.conftest import CONSOLE_SPEED, make_app, until

SPEED = CONSOLE_SPEED


@pytest.fixture(scope="module")
def xla_timeout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Pattern 1 with a startup probe shorter than XLA precompilation."""
    with SimCluster(SimOptions(speed=SPEED, seed=11, scenario="xla-timeout")) as cluster:
        yield cluster.write_kubeconfig(tmp_path_factory.mktemp("xla") / "kubeconfig")


def decode_container(logs: LogsPane) -> Container | None:
    """The followed container, when the pane follows the decode pod."""
    pod = logs.snapshot.pods.get(logs.target.key) if logs.target is not None else None
    return pod.container(logs.container or None) if pod is not None and pod.role == "decode" else None


async def test_the_tracker_follows_each_instance_across_restarts(xla_timeout: Path) -> None:
    app = make_app(xla_timeout, layout="oncall", time_scale=SPEED)
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        compile_starts: dict[int, float] = {}  # restart count -> when that instance's precompile began
        waiting_seen: list[str] = []

        def observe() -> bool:
            container = decode_container(logs)
            if container is None:
                return False
            if container.waiting:
                # Between instances: no budget, the phase it died in has stopped, the reason is said.
                assert probe_budget(container, app.now(), SPEED) is None
                states = [state for _, _, state in logs.tracker.durations(app.now(), running=False)]
                assert "running" not in states
                logs._draw_startup()
                waiting_seen.append(str(logs.startup.render()))
            elif container.running_since is not None and 3 in logs.tracker.started and logs.tracker.since:
                # Everything the tracker holds was logged by the running instance.
                assert min(logs.tracker.started.values()) >= container.running_since
                compile_starts.setdefault(container.restarts, logs.tracker.started[3])
            return len(compile_starts) >= 2 and bool(waiting_seen) and max(compile_starts) >= 2

        await until(pilot, observe, limit=60, what="two restarts seen by the tracker, and a back-off")
        starts = [compile_starts[k] for k in sorted(compile_starts)]
        assert starts == sorted(set(starts)), "each instance has its own precompile start"
        assert any("not running: CrashLoopBackOff" in text for text in waiting_seen)
        assert not any("startup probe budget" in text for text in waiting_seen)

        # While an instance precompiles, its compile phase is bounded by the probe's allowance (on the
        # log's clock: the spec's 165 s over the cluster's speed), not the sum of every instance's.
        def precompiling() -> bool:
            container = decode_container(logs)
            return bool(container and not container.waiting and logs.tracker.current() == 3)

        await until(pilot, precompiling, limit=30, what="an instance precompiling")
        container = decode_container(logs)
        assert container is not None and container.startup_probe is not None
        allowance = container.startup_probe.budget / SPEED
        compile_seconds = logs.tracker.durations(app.now())[3][1]
        assert compile_seconds is not None and compile_seconds <= allowance + 1.0
        budget = probe_budget(container, app.now(), SPEED)
        if budget is not None:  # it may have been killed meanwhile
            logs._draw_startup()
            assert "startup probe budget" in str(logs.startup.render())


async def test_phase_times_are_the_log_own_times(xla_timeout: Path) -> None:
    # The console is told a speed-up the cluster does not have: phase times must not change with it.
    app = make_app(xla_timeout, layout="oncall", time_scale=1000.0)
    async with app.run_test(size=(160, 45)) as pilot:
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: 1 in logs.tracker.started and 2 in logs.tracker.started, limit=30, what="a download")
        lines = list(logs.lines)
        version = max(i for i, (_, text) in enumerate(lines) if "vLLM API server version" in text)
        first = lines[version][0]
        download = next(at for at, text in lines[version:] if "Downloading model" in text)
        assert first is not None and download is not None
        assert logs.tracker.started[0] == first and logs.tracker.started[1] == download
        device_init = logs.tracker.durations(app.now())[0]
        assert device_init[1] == download - first
        logs._draw_startup()
        assert f"device init {human_age(download - first)}" in str(logs.startup.render())
