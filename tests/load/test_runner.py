"""Load runs through the simulated gateway: a burst whose counts match the model servers'
counters exactly, every profile, request ids, and the report's shape."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from pathlib import Path

import pytest

from llmd_console.inference.endpoint import Endpoint
from llmd_console.load.exits import EXIT_OK, EXIT_SLO
from llmd_console.load.profiles import Concurrent, Profile, Rate, Sweep
from llmd_console.load.prompts import PromptSet, builtin_prompts, shared_prefixes
from llmd_console.load.report import REQUEST_SCHEMA, RUN_SCHEMA, pod_split, run_json, verdict, write_jsonl
from llmd_console.load.runner import LoadRunner, RunResult
from llmd_console.load.settings import RunSettings, Slo
from llmd_console.sim.worlds.world import MODEL
from tests.load.conftest import decisions_for, vllm_counters

GENEROUS = Slo(ttft=60.0, itl=60.0)  # no figure of a busy machine misses these


async def run(endpoint: Endpoint, profile: Profile, prefix: str, slo: Slo = GENEROUS, prefixes: int = 0) -> RunResult:
    settings = RunSettings(MODEL, slo, max_tokens=12, request_id_prefix=prefix)
    prompts = PromptSet(tuple(builtin_prompts()), tuple(shared_prefixes(prefixes)))
    async with endpoint.client() as client:
        return await LoadRunner(client, endpoint, prompts, settings).run(profile)


async def test_a_burst_matches_the_model_servers_counters(gateway: Endpoint, kubeconfig: Path) -> None:
    before = await vllm_counters(kubeconfig)
    result = await run(gateway, Concurrent(40, 8), "burst", prefixes=2)
    after = await vllm_counters(kubeconfig)
    s = result.overall
    assert (result.stop_reason, s.sent, s.ok, s.failed, s.cancelled, s.in_flight) == ("completed", 40, 40, 0, 0, 0)
    served = {
        pod: after[pod]["vllm:request_success_total"] - before[pod]["vllm:request_success_total"] for pod in after
    }
    tokens = sum(
        after[pod]["vllm:generation_tokens_total"] - before[pod]["vllm:generation_tokens_total"] for pod in after
    )
    assert sum(served.values()) == 40
    assert tokens == sum(r.output_tokens for r in result.records) == s.output_tokens
    assert sorted(r.request_id for r in result.records) == sorted(f"burst-{n}" for n in range(1, 41))
    # The per-pod split (from the EPP's decisions) matches each pod's own counter.
    decisions = await decisions_for(kubeconfig, {r.request_id for r in result.records})
    split = pod_split(result.records, decisions)
    assert split["source"] == "epp_log" and split["unknown"] == 0
    assert {pod: row["requests"] for pod, row in split["by_pod"].items()} == {p: n for p, n in served.items() if n}
    assert verdict(result).exit_code == EXIT_OK


@pytest.mark.parametrize(
    "profile",
    [Rate(20, requests=8), Rate(20, requests=8, poisson=True, seed=1), Rate(40, duration=0.2)],
    ids=["constant", "poisson", "constant-for-a-duration"],
)
async def test_rate_profiles_run(gateway: Endpoint, profile: Rate) -> None:
    result = await run(gateway, profile, f"rate-{profile.kind}")
    assert result.stop_reason == "completed"
    assert result.overall.ok == result.overall.sent == len(list(profile.arrivals()))


async def test_sweep_within_the_slo_reaches_its_last_rate(gateway: Endpoint) -> None:
    result = await run(gateway, Sweep(5, 5, 15, step_requests=4), "sweep-ok")
    assert [(step.rate, step.met, step.snapshot.ok) for step in result.steps] == [
        (5, True, 4),
        (10, True, 4),
        (15, True, 4),
    ]
    assert result.best_rate == 15 and result.overall.ok == 12
    assert verdict(result).exit_code == EXIT_OK


async def test_a_missed_slo_is_told_by_the_exit_code(gateway: Endpoint) -> None:
    result = await run(gateway, Concurrent(4, 2), "slo", slo=Slo(ttft=1e-6, itl=60))
    v = verdict(result)
    assert (v.exit_code, v.slo_met) == (EXIT_SLO, False)
    assert "TTFT p99" in v.why and result.overall.good == 0


async def test_report_and_per_request_lines_have_their_documented_shape(gateway: Endpoint) -> None:
    result = await run(gateway, Concurrent(6, 3), "shape")
    decisions = {"shape-1": "ns/pod-a", "shape-2": "ns/pod-b"}
    data = json.loads(json.dumps(run_json(result, (gateway.base_url, gateway.how), decisions)))
    assert data["schema"] == RUN_SCHEMA
    assert set(data) >= {
        "request_id_prefix", "started_at", "ended_at", "duration_seconds", "endpoint", "model", "api", "profile",
        "stop_reason", "stop_why", "requests", "errors", "ttft_ms", "itl_ms", "e2e_ms", "throughput", "slo",
        "error_budget", "pods", "records", "exit_code", "verdict",
    }  # fmt: skip
    assert data["profile"] == {"kind": "concurrent", "requests": 6, "concurrency": 3}
    assert data["requests"] == {"sent": 6, "completed": 6, "ok": 6, "failed": 0, "cancelled": 0}
    for key in ("ttft_ms", "itl_ms", "e2e_ms"):
        assert set(data[key]) == {"p50", "p99", "mean", "max"}
        assert 0 < data[key]["p50"] <= data[key]["p99"] <= data[key]["max"]
    assert data["pods"]["source"] == "epp_log" and data["pods"]["unknown"] == 4
    assert {pod: row["requests"] for pod, row in data["pods"]["by_pod"].items()} == {"ns/pod-a": 1, "ns/pod-b": 1}
    assert data["throughput"]["output_tokens"] == 6 * 12
    assert data["exit_code"] == EXIT_OK and "sweep" not in data
    out = io.StringIO()
    write_jsonl(out, result.records, decisions)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == [f"shape-{n}" for n in range(1, 7)]
    assert all(line["schema"] == REQUEST_SCHEMA and line["ok"] and line["output_tokens"] == 12 for line in lines)
    assert lines[0]["pod"] == "ns/pod-a" and lines[2]["pod"] is None
    assert set(lines[0]) == {
        "schema", "request_id", "index", "sent_at", "status", "ok", "failure", "stalled", "ttft_ms", "itl_p50_ms",
        "itl_p99_ms", "e2e_ms", "prompt_tokens", "output_tokens", "finish_reason", "pod",
    }  # fmt: skip


def test_snapshots_from_another_thread_while_the_run_has_its_own_loop(gateway: Endpoint) -> None:
    settings = RunSettings(MODEL, GENEROUS, max_tokens=16, request_id_prefix="thread")
    results: list[RunResult] = []

    async def in_worker() -> None:
        async with gateway.client() as client:
            runner = LoadRunner(client, gateway, PromptSet(tuple(builtin_prompts())), settings)
            holder.append(runner)
            results.append(await runner.run(Concurrent(60, 12)))

    holder: list[LoadRunner] = []
    worker = threading.Thread(target=lambda: asyncio.run(in_worker()))
    worker.start()
    seen: list[int] = []
    while worker.is_alive():
        worker.join(0.005)  # polled as a pane would, only faster
        if holder:
            seen.append(holder[0].stats.snapshot().completed)
    assert seen and seen == sorted(seen)  # it never failed, nor went backwards
    assert results[0].overall.ok == 60
