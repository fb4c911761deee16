"""The faults of the scenarios made by ordinary API changes instead (kubectl, gcloud) are
diagnosed too; some are repaired by running the finding's own fix. Every namespace at once,
with a second healthy stack in another namespace, raises no false alarm."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.doctor.findings import Finding
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import DECODE_NAME, NAMESPACE
from tests.conftest import Kubectl, require_tool, wait_for
from tests.console.test_oncall import TEAM_B as ONCALL_TEAM_B
from tests.doctor.helpers import diagnose, finding, set_scenario

# A second llm-d stack in its own namespace: the console tests' (Service, InferencePool, Gateway,
# HTTPRoute) with a model server on CPU (the llm-d-inference-sim image) and an EPP instead of its
# bare pod.
TEAM_B = "---\n".join(
    [doc for doc in ONCALL_TEAM_B.split("---\n") if "kind: Pod\n" not in doc]
    + [
        """apiVersion: apps/v1
kind: Deployment
metadata: {name: team-b-model-decode, namespace: team-b}
spec:
  replicas: 1
  selector: {matchLabels: {app: team-b-model}}
  template:
    metadata: {labels: {app: team-b-model, llm-d.ai/role: decode, llm-d.ai/inferenceServing: "true"}}
    spec:
      containers:
      - name: vllm
        image: ghcr.io/llm-d/llm-d-inference-sim:v0.5.1
        args: [Qwen/Qwen2.5-3B-Instruct, --port, "8000"]
        ports: [{name: vllm, containerPort: 8000}]
        readinessProbe: {httpGet: {path: /v1/models, port: 8000}, periodSeconds: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: team-b-epp, namespace: team-b}
spec:
  replicas: 1
  selector: {matchLabels: {inferencepool: team-b-epp}}
  template:
    metadata: {labels: {inferencepool: team-b-epp, app: team-b-epp}}
    spec:
      containers:
      - name: epp
        image: ghcr.io/llm-d/llm-d-inference-scheduler:v0.6.0
        args:
        - --pool-name
        - team-b-pool
        - --pool-namespace
        - team-b
        - --metrics-endpoint-auth=false
        ports:
        - {name: grpc, containerPort: 9002}
        - {name: grpc-health, containerPort: 9003}
        - {name: metrics, containerPort: 9090}
        readinessProbe: {grpc: {port: 9003, service: inference-extension}, periodSeconds: 2}
"""
    ]
)
DECODE = f"deployment/{DECODE_NAME}"


def no_findings(kubeconfig: Path, namespace: str | None) -> None:
    def clean() -> bool:
        findings = diagnose(kubeconfig, namespace)[1]
        return not findings

    wait_for(clean, timeout=60, interval=0.5, message=f"no findings in {namespace or 'every namespace'}")


def diagnosed(kubeconfig: Path, fid: str, namespace: str | None = NAMESPACE) -> Finding:
    return wait_for(
        lambda: finding(diagnose(kubeconfig, namespace, infer=False)[1], fid),
        timeout=60,
        interval=0.5,
        message=f"finding {fid}",
    )


@pytest.fixture()
def restored(sim: SimCluster, kubeconfig: Path) -> Iterator[None]:
    """Start healthy; afterwards put the Pattern 1 objects back and wait until healthy again."""
    no_findings(kubeconfig, NAMESPACE)
    yield
    set_scenario(sim, None)
    no_findings(kubeconfig, NAMESPACE)


def test_every_namespace_with_a_second_stack_has_no_findings(kubectl: Kubectl, kubeconfig: Path) -> None:
    kubectl.run("apply", "-f", "-", stdin=TEAM_B)
    no_findings(kubeconfig, None)
    gathered, findings = diagnose(kubeconfig, None)
    assert findings == []
    assert {p.title for p in gathered.snapshot.paths} == {
        f"{NAMESPACE}/infra-pattern1-inference-gateway",
        "team-b/team-b-gateway",
    }
    assert diagnose(kubeconfig, NAMESPACE)[1] == []


@pytest.mark.usefixtures("restored")
def test_deleted_route(kubectl: Kubectl, kubeconfig: Path) -> None:
    kubectl.run("delete", "httproute", "pattern1-route", "-n", NAMESPACE)
    result = diagnosed(kubeconfig, "httproute-missing")
    assert result.fix == (f"kubectl apply -n {NAMESPACE} -f httproute.yaml",)


@pytest.mark.usefixtures("restored")
def test_patched_bounds_env(kubectl: Kubectl, kubeconfig: Path) -> None:
    kubectl.run("set", "env", DECODE, "-n", NAMESPACE, "TPU_CHIPS_PER_HOST_BOUNDS=2,4,1")
    result = diagnosed(kubeconfig, "tpu-bounds-mismatch")
    assert result.fix == (f"kubectl set env {DECODE} -n {NAMESPACE} -c vllm TPU_CHIPS_PER_HOST_BOUNDS=2,2,1",)
    assert "TPU_CHIPS_PER_HOST_BOUNDS=2,4,1" in result.evidence[0].text


@pytest.mark.usefixtures("restored")
def test_patched_chip_request(kubectl: Kubectl, kubeconfig: Path) -> None:
    kubectl.run("set", "resources", DECODE, "-n", NAMESPACE, "--requests=google.com/tpu=2", "--limits=google.com/tpu=2")
    result = diagnosed(kubeconfig, "tpu-chips-topology")
    assert "requests 2 chips but a 2x2 node has 4" in result.title
    assert "--requests=google.com/tpu=4 --limits=google.com/tpu=4" in result.fix[0]


@pytest.mark.usefixtures("restored")
def test_patched_node_selector_labels(kubectl: Kubectl, kubeconfig: Path) -> None:
    patch = '[{"op":"remove","path":"/spec/template/spec/nodeSelector/cloud.google.com~1gke-tpu-topology"}]'
    kubectl.run("patch", DECODE, "-n", NAMESPACE, "--type=json", "-p", patch)
    result = diagnosed(kubeconfig, "tpu-node-selector")
    assert "cloud.google.com/gke-tpu-topology" in result.title


@pytest.mark.usefixtures("restored")
def test_patched_pool_selector_is_fixed_by_its_own_fix(kubectl: Kubectl, kubeconfig: Path) -> None:
    wrong = (
        '{"spec":{"selector":{"matchLabels":{"llm-d.ai/inferenceServing":null,"llm-d.ai/inference-serving":"true"}}}}'
    )
    kubectl.run("patch", "inferencepool", "gaie-pattern1", "-n", NAMESPACE, "--type=merge", "-p", wrong)
    result = diagnosed(kubeconfig, "inferencepool-selector-mismatch")
    assert "llm-d.ai/inference-serving=true" in result.title and "llm-d.ai/inferenceServing=true" in result.title
    assert diagnosed(kubeconfig, "inferencepool-no-pods").severity == "error"
    command = shlex.split(result.fix[0])
    assert command[0] == "kubectl"
    kubectl.run(*command[1:])
    no_findings(kubeconfig, NAMESPACE)


@pytest.fixture()
def gcloud(sim: SimCluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The real gcloud, pointed at the simulator's Container API."""
    require_tool("gcloud")
    yield {
        **os.environ,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER": sim.url + "/",
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
    }


@pytest.mark.usefixtures("restored")
def test_tpu_pool_scaled_to_zero_through_gke_is_fixed_by_its_own_fix(kubeconfig: Path, gcloud: dict[str, str]) -> None:
    def run(command: str) -> None:
        proc = subprocess.run(
            shlex.split(command), capture_output=True, text=True, timeout=120, env=gcloud, check=False
        )
        assert proc.returncode == 0, proc.stderr

    run(
        "gcloud container clusters resize tpu-test-cluster --node-pool tpu-v6e-pool --num-nodes 0 "
        "--zone europe-west4-a --project ecoeng-llmd --quiet"
    )
    result = diagnosed(kubeconfig, "tpu-pool-empty")
    assert result.action == "scale-node-pool"
    assert result.fix[0].startswith("gcloud container clusters resize tpu-test-cluster --node-pool tpu-v6e-pool")
    run(result.fix[0])
    no_findings(kubeconfig, NAMESPACE)
