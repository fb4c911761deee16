"""Every simulator scenario is diagnosed with its expected finding and fix, and the healthy
world (after clearing each) has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_console.doctor.criteria import success_criteria
from llmd_console.doctor.findings import Finding
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.scenarios import SCENARIOS
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import wait_for
from tests.doctor.helpers import diagnose, finding, set_scenario

# scenario -> (finding id, a piece of its fix, a piece of its evidence)
EXPECTED = {
    "tpu-pool-empty": (
        "tpu-pool-empty",
        "gcloud container clusters resize tpu-test-cluster --node-pool tpu-v6e-pool --num-nodes 1",
        "FailedScheduling",
    ),
    "no-tpu-devices": ("tpu-no-devices", "--requests=google.com/tpu=4 --limits=google.com/tpu=4", "No TPU devices"),
    "pjrt-bounds": ("tpu-pjrt-bounds", "TPU_CHIPS_PER_HOST_BOUNDS=2,2,1", "PJRT error"),
    "xla-timeout": ("startup-probe-budget", '"value":60', "failed startup probe"),
    "oom": ("oom-killed", "--max-model-len", "OOMKilled"),
    "gemma-tp4": ("tpu-shard-map", "Qwen/Qwen2.5-3B-Instruct", "shard_map"),
    "hf-403": ("hf-forbidden", "kubectl create secret generic huggingface-token", "403 Client Error"),
    "gateway-no-address": ("gateway-not-programmed", "proxy-only-subnet", "proxy-only"),
    "httproute-missing": ("httproute-missing", f"kubectl apply -n {NAMESPACE}", "does not exist"),
    "httproute-port": ("httproute-backend-port", f"kubectl edit httproute pattern1-route -n {NAMESPACE}", "port"),
    "epp-down": ("epp-pool-missing", "--pool-name gaie-pattern1", "Unable to get InferencePool"),
}


@pytest.fixture(scope="module")
def kubeconfig(cluster_kubeconfig: Path) -> Path:
    return cluster_kubeconfig


def healthy(kubeconfig: Path) -> list[Finding]:
    """Wait until the world is healthy to the doctor; its findings (none)."""

    def clean() -> list[Finding] | None:
        gathered, findings = diagnose(kubeconfig, NAMESPACE)
        criteria = success_criteria(gathered.snapshot, gathered.evidence)
        return findings if not findings and all(c.status == "pass" for c in criteria) else None

    wait_for(lambda: clean() is not None, timeout=60, interval=0.5, message="a world without findings")
    return []


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SCENARIOS)


def test_healthy_world_has_no_findings_and_passes_every_criterion(kubeconfig: Path) -> None:
    healthy(kubeconfig)
    gathered, findings = diagnose(kubeconfig, NAMESPACE)
    assert findings == []
    assert [c.status for c in success_criteria(gathered.snapshot, gathered.evidence)] == ["pass"] * 9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_is_diagnosed_with_its_fix(cluster: SimCluster, kubeconfig: Path, name: str) -> None:
    fid, fix, said = EXPECTED[name]
    healthy(kubeconfig)
    set_scenario(cluster, name)
    try:

        def found() -> Finding | None:
            return finding(diagnose(kubeconfig, NAMESPACE)[1], fid)

        result = wait_for(found, timeout=60, interval=0.5, message=f"finding {fid} for scenario {name}")
        assert result.severity == "error"
        assert any(fix in command for command in result.fix), result.fix
        assert any(said in q.text for q in result.evidence), result.evidence
        assert all(q.namespace == NAMESPACE for q in result.evidence)
    finally:
        set_scenario(cluster, None)
    healthy(kubeconfig)
