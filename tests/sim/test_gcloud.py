"""The real gcloud resizes the simulated TPU node pool through the Container API."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import CLUSTER, LOCATION, PROJECT
from tests.conftest import TEST_SPEED, Kubectl, require_tool, wait_for

TPU_POOL = "tpu-v6e-pool"


@pytest.fixture(scope="module")
def cluster() -> Iterator[SimCluster]:
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=11)) as c:
        yield c


@pytest.fixture(scope="module")
def gcloud(cluster: SimCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    binary = require_tool("gcloud")
    env = {
        **os.environ,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER": cluster.url + "/",
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
        "CLOUDSDK_CONFIG": str(tmp_path_factory.mktemp("gcloud")),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("CLOUDSDK_")})
    yield [binary]
    for key in env:
        if key.startswith("CLOUDSDK_"):
            os.environ.pop(key, None)


def run(cmd: list[str], *args: str) -> str:
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_node_pools_list_and_describe(gcloud: list[str]) -> None:
    where = ["--cluster", CLUSTER, "--zone", LOCATION, "--project", PROJECT, "--format=json"]
    out = run(gcloud, "container", "node-pools", "list", *where)
    pools = {p["name"]: p for p in json.loads(out)}
    assert set(pools) == {"default-pool", TPU_POOL}
    assert pools[TPU_POOL]["config"]["machineType"] == "ct6e-standard-4t"
    described = json.loads(run(gcloud, "container", "node-pools", "describe", TPU_POOL, *where))
    assert described["placementPolicy"]["tpuTopology"] == "2x2"
    assert described["config"]["taints"] == [{"effect": "NO_SCHEDULE", "key": "google.com/tpu", "value": "present"}]


def test_resize_tpu_pool_to_zero_and_back(cluster: SimCluster, gcloud: list[str], tmp_path: Path) -> None:
    kubectl = Kubectl(require_tool("kubectl"), cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    selector = "cloud.google.com/gke-nodepool=" + TPU_POOL
    decode = "llm-d.ai/inferenceServing=true"
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", decode, "--timeout=60s", timeout=70)

    def resize(count: int) -> None:
        where = ["--zone", LOCATION, "--project", PROJECT, "--quiet"]
        run(
            gcloud,
            "container",
            "clusters",
            "resize",
            CLUSTER,
            "--node-pool",
            TPU_POOL,
            "--num-nodes",
            str(count),
            *where,
        )

    resize(0)
    assert kubectl.run("get", "nodes", "-l", selector, "-o", "name") == ""
    wait_for(
        lambda: kubectl.run("get", "pods", "-l", decode, "-o", "jsonpath={.items[*].status.phase}") == "Pending",
        message="the decode pod to be Pending",
    )
    events = kubectl.run(
        "get", "events", "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[*].message}"
    )
    # With no TPU node left, kube-scheduler reports the selector mismatch (not a resource shortage).
    assert "didn't match Pod's node affinity/selector" in events
    resize(1)
    assert len(kubectl.run("get", "nodes", "-l", selector, "-o", "name").split()) == 1
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", decode, "--timeout=60s", timeout=70)
