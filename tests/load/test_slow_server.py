"""Against a slow model server (prefill alone takes longer than the TTFT SLO): a sweep stops at
its first step and says no rate met the SLO, and requests past their deadline or silent past the
stall limit end as such, counted by kind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmd_console.inference.endpoint import Endpoint
from llmd_console.load.exits import EXIT_SLO
from llmd_console.load.profiles import Concurrent, Sweep
from llmd_console.load.prompts import PromptSet, builtin_prompts
from llmd_console.load.report import run_json, verdict
from llmd_console.load.runner import LoadRunner, RunResult
from llmd_console.load.settings import RunSettings, Slo
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import MODEL
from tests.conftest import TEST_SPEED
from tests.load.test_runner import run

SLOW = 10.0  # prefill takes at least 350 ms


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    """A Pattern 1 cluster whose inference is ten times slower than the latency model."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=7, latency_scale=SLOW)) as cluster:
        yield cluster


async def test_the_sweep_stops_at_the_first_step_over_the_slo(gateway: Endpoint) -> None:
    result = await run(gateway, Sweep(2, 2, 10, step_requests=3), "slow", slo=Slo(ttft=0.2, itl=60))
    assert len(result.steps) == 1 and result.best_rate is None
    step = result.steps[0]
    assert not step.met and step.rate == 2 and step.snapshot.ok == 3
    assert step.why.startswith("TTFT p99") and "over the SLO 200 ms" in step.why
    v = verdict(result)
    assert v.exit_code == EXIT_SLO and v.why.startswith("no rate met the SLOs: at 2/s TTFT p99")
    data = run_json(result, (gateway.base_url, gateway.how), {})
    assert data["sweep"]["best_rate"] is None and [s["met"] for s in data["sweep"]["steps"]] == [False]


async def test_a_sweep_keeps_stepping_while_the_slo_holds(gateway: Endpoint) -> None:
    result = await run(gateway, Sweep(2, 2, 6, step_requests=3), "slow-ok", slo=Slo(ttft=60, itl=60))
    assert [(s.rate, s.met) for s in result.steps] == [(2, True), (4, True), (6, True)]
    assert result.best_rate == 6


async def limited_run(endpoint: Endpoint, prefix: str, *, deadline: float, stall: float) -> RunResult:
    settings = RunSettings(
        MODEL, Slo(60, 60), max_tokens=8, request_id_prefix=prefix, deadline_seconds=deadline, stall_seconds=stall
    )
    async with endpoint.client() as client:
        runner = LoadRunner(client, endpoint, PromptSet(tuple(builtin_prompts())), settings)
        return await runner.run(Concurrent(3, 3))


async def test_requests_past_their_deadline_fail_as_timeouts(gateway: Endpoint) -> None:
    result = await limited_run(gateway, "deadline", deadline=0.1, stall=60)
    s = result.overall
    assert (s.failed, s.errors) == (3, {"timeout": 3})
    assert all(r.failure == "timeout" and not r.stalled for r in result.records)
    assert "timeout" in result.failures


async def test_a_silent_stream_ends_as_stalled(gateway: Endpoint) -> None:
    # The chat stream's first chunk (the role) comes at once, then nothing during the prefill.
    result = await limited_run(gateway, "stall", deadline=60, stall=0.1)
    s = result.overall
    assert (s.failed, s.errors) == (3, {"stalled": 3})
    assert all(r.stalled for r in result.records)
