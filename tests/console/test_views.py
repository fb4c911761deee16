"""The Textual-free views: rows, chips, costs, request path, startup phases."""

from __future__ import annotations

from typing import Any

from llmd_console.cluster.logs import split_timestamp
from llmd_console.views.gateway import PathInput, request_path
from llmd_console.views.nodes import chip_map, live_pods_on, node_rows, pool_rows
from llmd_console.views.pods import pod_model
from llmd_console.views.startup import StartupTracker


def node(name: str, labels: dict[str, str], resource: str | None = None, chips: int = 0) -> dict[str, Any]:
    alloc = {resource: str(chips)} if resource else {}
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": alloc, "conditions": [{"type": "Ready", "status": "True"}]},
    }


def pod(name: str, node_name: str, chips: int, resource: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
        "spec": {"nodeName": node_name, "containers": [{"name": "c", "resources": {"limits": {resource: str(chips)}}}]},
        "status": {"phase": "Running"},
    }


def test_gpu_chips_by_count_and_cost() -> None:
    gpu = node(
        "g1",
        {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb", "cloud.google.com/gke-nodepool": "gpu"},
        "nvidia.com/gpu",
        8,
    )
    pods = [
        pod("a", "g1", 2, "nvidia.com/gpu", "2026-01-01T00:00:00Z"),
        pod("b", "g1", 4, "nvidia.com/gpu", "2026-01-01T00:01:00Z"),
    ]
    chips = chip_map(gpu, live_pods_on(pods)["g1"])
    assert chips is not None
    assert (chips.kind, chips.columns, chips.rows) == ("GPU", 4, 2)
    assert chips.owners == ("a", "a", "b", "b", "b", "b", "", "")
    rows = node_rows([gpu], live_pods_on(pods))
    assert (rows[0].chips_used, rows[0].chips_total) == (6, 8)
    [pool] = pool_rows(rows, {"nvidia-h100-80gb": 11.0})
    assert pool.cost_per_hour == 88.0


def test_pod_status_reasons() -> None:
    crash = {
        "metadata": {"name": "p", "namespace": "ns", "labels": {"llm-d.ai/role": "decode"}},
        "spec": {"containers": [{"name": "vllm"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "vllm",
                    "ready": False,
                    "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
        },
    }
    row = pod_model(crash, "ns/p")
    assert (row.role, row.status, row.severity, row.restarts, row.ready) == (
        "decode",
        "CrashLoopBackOff (OOMKilled)",
        "error",
        3,
        "0/1",
    )
    pending = {
        "metadata": {"name": "q", "namespace": "ns"},
        "spec": {"containers": [{"name": "c"}]},
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    }
    assert pod_model(pending, "ns/q").status == "Pending (Unschedulable)"


def test_route_with_a_port_on_the_pool_is_flagged() -> None:
    route = {
        "metadata": {"name": "r", "namespace": "ns"},
        "spec": {"rules": [{"backendRefs": [{"kind": "InferencePool", "name": "p", "port": 8000}]}]},
        "status": {
            "parents": [
                {
                    "parentRef": {"name": "gw"},
                    "conditions": [
                        {
                            "type": "Accepted",
                            "status": "False",
                            "reason": "UnsupportedValue",
                            "message": "must not set a port",
                        },
                        {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
                    ],
                }
            ]
        },
    }
    hops = request_path(PathInput("gw", "r", "p", "epp", "ns", {}, {"ns/r": route}, {}, {}, {}, {}, {}))
    route_hop = hops[1]
    assert route_hop.light == "error"
    assert "sets a port" in route_hop.problem and "remove backendRefs[].port" in route_hop.fix
    assert hops[0].problem.startswith("Gateway gw does not exist")


def test_startup_tracker_phases_and_failure() -> None:
    tracker = StartupTracker()
    lines = [
        "2026-01-01T00:00:00.000000000Z (APIServer pid=1) INFO [api_server.py:1351] vLLM API server version 0.11.1",
        "2026-01-01T00:00:20.000000000Z (EngineCore_DP0 pid=261) INFO [weight_utils.py:402] Downloading model Qwen",
        "2026-01-01T00:01:30.000000000Z (EngineCore_DP0 pid=261) INFO [model_loader.py:381] Loading model on TPU",
        "2026-01-01T00:01:40.000000000Z (EngineCore_DP0 pid=261) INFO [compilation_manager.py:236] Precompile all",
        "2026-01-01T00:04:11.000000000Z Traceback (most recent call last):",
        "2026-01-01T00:04:11.000000000Z ValueError: shard_map applied to the function",
    ]
    for line in lines:
        at, text = split_timestamp(line)
        tracker.feed(at, text)
    phases = tracker.durations(now=1767225900.0)
    assert [(label, state) for label, _, state in phases][:4] == [
        ("device init", "done"),
        ("download", "done"),
        ("weights", "done"),
        ("compile/warm-up", "failed"),
    ]
    assert [seconds for _, seconds, _ in phases][:4] == [20.0, 70.0, 10.0, 151.0]
    assert tracker.failure.startswith("ValueError: shard_map")
