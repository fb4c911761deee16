"""The real gcloud resizes the simulated TPU node pool through the Container API."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.runtime.tls import serving_tls
from llmd_console.sim.worlds.world import CLUSTER, LOCATION, PROJECT
from tests.conftest import TEST_SPEED, Kubectl, require_tool, wait_for

TPU_POOL = "tpu-v6e-pool"
WHERE = ["--zone", LOCATION, "--project", PROJECT]
POOL = ["--cluster", CLUSTER, *WHERE]


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


def refused(cmd: list[str], *args: str) -> str:
    """Run a command that must fail; its stderr."""
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0, proc.stdout
    return proc.stderr


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


def test_get_credentials_writes_a_kubeconfig_kubectl_uses(
    cluster: SimCluster, gcloud: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("gke-gcloud-auth-plugin")
    kubeconfig = tmp_path / "config"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [*gcloud, "container", "clusters", "get-credentials", CLUSTER, "--zone", LOCATION, "--project", PROJECT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(kubeconfig.read_text())
    (entry,) = doc["clusters"]
    assert entry["cluster"]["server"] == f"https://127.0.0.1:{cluster.tls_port}"
    assert "insecure-skip-tls-verify" not in entry["cluster"]
    ca = base64.b64decode(entry["cluster"]["certificate-authority-data"])
    assert ca.startswith(b"-----BEGIN CERTIFICATE-----")
    assert doc["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    # The plugin asks gcloud for an access token; without a Google account, gcloud takes it
    # from a file (the simulated API server accepts any token).
    token = tmp_path / "token"
    token.write_text("simulated-access-token\n")
    kubectl = Kubectl(require_tool("kubectl"), kubeconfig)
    kubectl.env.update(HOME=str(tmp_path), CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=str(token))
    assert doc["current-context"] == f"gke_{PROJECT}_{LOCATION}_{CLUSTER}"
    assert len(kubectl.run("get", "nodes", "-o", "name").split()) == 2
    # The official Python client runs the same exec plugin and checks the same CA.
    monkeypatch.setenv("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", str(token))
    monkeypatch.setenv("HOME", str(tmp_path))
    api = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
    assert len(api.list_node().items) == 2
    # kubectl verified the server's certificate against that CA: a wrong CA is refused.
    entry["cluster"]["certificate-authority-data"] = base64.b64encode(_other_ca()).decode()
    kubeconfig.write_text(yaml.safe_dump(doc))
    refused = kubectl.run("get", "nodes", check=False)
    assert "certificate signed by unknown authority" in refused


def _other_ca() -> bytes:
    """A CA certificate that did not sign the simulator's serving certificate."""
    return serving_tls("127.0.0.1", "another-cluster").ca_pem


def test_node_pool_create_update_delete_and_operations(cluster: SimCluster, gcloud: list[str], tmp_path: Path) -> None:
    kubectl = Kubectl(require_tool("kubectl"), cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    where, pool = WHERE, POOL
    created = json.loads(
        run(
            gcloud,
            "container",
            "node-pools",
            "create",
            "extra",
            *pool,
            "--machine-type",
            "e2-standard-8",
            "--num-nodes",
            "2",
            "--node-labels",
            "team=infer",
            "--format=json",
        )
    )
    assert created[0]["name"] == "extra" and created[0]["config"]["machineType"] == "e2-standard-8"
    nodes = kubectl.run("get", "nodes", "-l", "cloud.google.com/gke-nodepool=extra,team=infer", "-o", "name")
    assert len(nodes.split()) == 2
    # Node labels are replaced in place on the existing nodes.
    run(gcloud, "container", "node-pools", "update", "extra", *pool, "--node-labels", "team=serve")
    assert kubectl.run("get", "nodes", "-l", "team=serve", "-o", "name") == nodes
    assert kubectl.run("get", "nodes", "-l", "team=infer", "-o", "name") == ""
    autoscale = ["--enable-autoscaling", "--min-nodes", "1", "--max-nodes", "3"]
    run(gcloud, "container", "node-pools", "update", "extra", *pool, *autoscale)
    described = json.loads(run(gcloud, "container", "node-pools", "describe", "extra", *pool, "--format=json"))
    assert described["autoscaling"] == {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3, "locationPolicy": "ANY"}
    assert described["config"]["labels"]["team"] == "serve"
    run(gcloud, "container", "clusters", "update", CLUSTER, *where, "--node-pool", "extra", "--no-enable-autoscaling")
    described = json.loads(run(gcloud, "container", "node-pools", "describe", "extra", *pool, "--format=json"))
    assert "autoscaling" not in described
    # A second pool of the same name is refused, as GKE refuses it.
    assert "Already exists" in refused(gcloud, "container", "node-pools", "create", "extra", *pool, "--num-nodes", "1")
    deleting = json.loads(run(gcloud, "container", "node-pools", "delete", "extra", *pool, "--async", "--format=json"))
    run(gcloud, "container", "operations", "wait", deleting["name"], *where)
    done = json.loads(run(gcloud, "container", "operations", "describe", deleting["name"], *where, "--format=json"))
    assert (done["operationType"], done["status"]) == ("DELETE_NODE_POOL", "DONE")
    assert done["targetLink"].endswith(f"/clusters/{CLUSTER}/nodePools/extra")
    listed = json.loads(run(gcloud, "container", "node-pools", "list", *pool, "--format=json"))
    assert "extra" not in {p["name"] for p in listed}
    assert kubectl.run("get", "nodes", "-l", "cloud.google.com/gke-nodepool=extra", "-o", "name") == ""
    operations = json.loads(run(gcloud, "container", "operations", "list", *where, "--format=json"))
    kinds = [op["operationType"] for op in operations if op["status"] == "DONE"]
    for kind in ("CREATE_NODE_POOL", "UPGRADE_NODES", "UPDATE_CLUSTER", "DELETE_NODE_POOL"):
        assert kind in kinds, kinds


def test_node_pool_create_names_an_unknown_machine_type(gcloud: list[str]) -> None:
    stderr = refused(gcloud, "container", "node-pools", "create", "big", *POOL, "--machine-type", "n2-megamem-416")
    assert "Machine type 'n2-megamem-416' is not one the simulated cluster provides" in stderr


def test_runbook_gateway_api_update_and_tpu_pool_recreate(
    cluster: SimCluster, gcloud: list[str], tmp_path: Path
) -> None:
    """The runbook's own commands: enable the Gateway API, then delete and recreate the TPU pool."""
    kubectl = Kubectl(require_tool("kubectl"), cluster.write_kubeconfig(tmp_path / "kubeconfig"))
    run(gcloud, "container", "clusters", "update", CLUSTER, "--gateway-api=standard", *WHERE)
    described = json.loads(run(gcloud, "container", "clusters", "describe", CLUSTER, *WHERE, "--format=json"))
    assert described["networkConfig"]["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    assert "Gateway API channel" in refused(
        gcloud, "container", "clusters", "update", CLUSTER, "--gateway-api=disabled", *WHERE
    )
    run(gcloud, "container", "node-pools", "delete", TPU_POOL, *POOL, "--quiet")
    assert kubectl.run("get", "nodes", "-l", f"cloud.google.com/gke-nodepool={TPU_POOL}", "-o", "name") == ""
    create = ["--machine-type", "ct6e-standard-4t", "--num-nodes", "1", "--enable-autoscaling"]
    run(gcloud, "container", "node-pools", "create", TPU_POOL, *POOL, *create, "--min-nodes", "0", "--max-nodes", "2")
    on_pool = f"cloud.google.com/gke-nodepool={TPU_POOL}"
    query = r"jsonpath={.items[*].metadata.labels.cloud\.google\.com/gke-tpu-topology}"
    topology = kubectl.run("get", "nodes", "-l", on_pool, "-o", query)
    assert topology == "2x2"
    decode = "llm-d.ai/inferenceServing=true"
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", decode, "--timeout=60s", timeout=70)
