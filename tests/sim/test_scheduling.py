"""A decode pod that cannot fit waits Pending with FailedScheduling; a TPU node fixes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.storage.objects import condition
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import TEST_SPEED, wait_for

DECODE = {"llm-d.ai/inferenceServing": "true"}


@pytest.fixture()
def cluster() -> Iterator[SimCluster]:
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=3)) as c:
        yield c


def _decode_pods(c: SimCluster) -> list[dict[str, object]]:
    from llmd_console.sim.storage.selectors import Requirement

    reqs = [Requirement(k, "in", (v,)) for k, v in DECODE.items()]
    return c.call(
        lambda: [p for p in c.ctx.store.list("pods", NAMESPACE, reqs) if not p["metadata"].get("deletionTimestamp")]
    )


def _ready(pod: dict[str, object]) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def _events(c: SimCluster, reason: str) -> list[str]:
    return c.call(lambda: [e["message"] for e in c.ctx.store.list("events", NAMESPACE) if e["reason"] == reason])


def test_pending_without_a_tpu_node_then_ready_once_one_exists(cluster: SimCluster) -> None:
    wait_for(lambda: _decode_pods(cluster) and _ready(_decode_pods(cluster)[0]), 30, message="first decode pod Ready")
    tpu_node = cluster.call(lambda: cluster.node_pools.nodes_of("tpu-v6e-pool")[0]["metadata"]["name"])
    cluster.call(lambda: cluster.node_pools.remove_node_now(tpu_node))

    def pending() -> dict[str, object] | None:
        pods = _decode_pods(cluster)
        status: dict[str, object] = pods[0].get("status", {}) if pods else {}  # type: ignore[assignment]
        if pods and status.get("phase") == "Pending" and condition(pods[0], "PodScheduled"):
            return pods[0]
        return None

    pod = wait_for(pending, message="replacement decode pod Pending")
    scheduled = condition(pod, "PodScheduled")
    assert scheduled is not None and scheduled["reason"] == "Unschedulable"
    message = wait_for(lambda: _events(cluster, "FailedScheduling"), message="FailedScheduling event")[0]
    assert message == (
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    cluster.call(lambda: cluster.node_pools.resize("tpu-v6e-pool", 1))
    ready = wait_for(lambda: [p for p in _decode_pods(cluster) if _ready(p)], 60, message="decode pod Ready again")
    uid = ready[0]["metadata"]["uid"]  # type: ignore[index]
    lines = cluster.call(lambda: [t for _, t in cluster.ctx.logs.current(uid, "vllm").lines])  # type: ignore[union-attr]
    text = "\n".join(lines)
    for phase in (
        "Initializing TPU",
        "Downloading model",
        "Loading model on TPU",
        "Precompile all the subgraphs",
        "init engine (profile, create kv cache, warmup model) took",
        "Application startup complete",
    ):
        assert phase in text, f"missing startup phase {phase!r}"
    assert text.index("Initializing TPU") < text.index("Downloading model") < text.index("Precompile all")


def test_second_replica_finds_the_tpu_node_full(cluster: SimCluster) -> None:
    from llmd_console.sim.worlds.world import DECODE_NAME

    wait_for(lambda: _decode_pods(cluster) and _ready(_decode_pods(cluster)[0]), 30, message="first decode pod Ready")
    deployments = cluster.ctx.rt("deployments.apps")
    cluster.call(
        lambda: cluster.ctx.store.mutate(
            deployments, NAMESPACE, DECODE_NAME, lambda d: d["spec"].__setitem__("replicas", 2)
        )
    )
    message = wait_for(lambda: _events(cluster, "FailedScheduling"), message="FailedScheduling event")[0]
    assert message == (
        "0/2 nodes are available: 1 Insufficient google.com/tpu, 1 node(s) didn't match Pod's node "
        "affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found for "
        "incoming pod, 1 Preemption is not helpful for scheduling."
    )


def test_gpu_world_uses_h100_nodes() -> None:
    with SimCluster(SimOptions(speed=TEST_SPEED, accelerator="gpu")) as c:
        nodes = c.call(lambda: c.ctx.store.list("nodes"))
        gpu = [
            n for n in nodes if n["metadata"]["labels"].get("cloud.google.com/gke-accelerator") == "nvidia-h100-80gb"
        ]
        assert len(gpu) == 1 and gpu[0]["status"]["allocatable"]["nvidia.com/gpu"] == "4"
        wait_for(lambda: _decode_pods(c) and _ready(_decode_pods(c)[0]), 30, message="GPU decode pod Ready")
