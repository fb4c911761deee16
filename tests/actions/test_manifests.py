"""The rendered Pattern 1 manifests: the runbook's TPU fields, the GPU variant, the route
without a port, and the simulated API server's acceptance (kubectl apply --server-side --dry-run=server)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from llmd_console.config import Config, DeployConfig
from llmd_console.manifests import render
from llmd_console.manifests.render import as_yaml
from tests.conftest import Kubectl

NS = "llm-d-inference-scheduling"


def by_kind(config: Config) -> dict[str, dict[str, Any]]:
    return {m.kind: m.obj for m in render(config, NS)}


def decode_container(config: Config) -> dict[str, Any]:
    decode = next(m.obj for m in render(config, NS) if m.name == config.resources.decode_deployment)
    container: dict[str, Any] = decode["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize(("topology", "bounds", "chips"), [("2x2", "2,2,1", "4"), ("2x4", "2,4,1", "8")])
def test_tpu_fields_follow_the_runbook(topology: str, bounds: str, chips: str) -> None:
    config = replace(Config(), deploy=DeployConfig(topology=topology, chips=int(chips), tensor_parallel=int(chips)))
    decode = next(m.obj for m in render(config, NS) if m.name == config.resources.decode_deployment)
    pod = decode["spec"]["template"]["spec"]
    container = pod["containers"][0]
    resources = container["resources"]
    # Chips = the topology's chips, and requests equal limits (GKE Warden refuses otherwise).
    assert resources["requests"]["google.com/tpu"] == resources["limits"]["google.com/tpu"] == chips
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TPU_CHIPS_PER_HOST_BOUNDS"] == bounds
    assert env["PJRT_DEVICE"] == "TPU"
    assert pod["nodeSelector"] == {
        "cloud.google.com/gke-tpu-topology": topology,
        "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
    }
    assert {"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert "--tensor-parallel-size" in container["args"]
    assert container["args"][container["args"].index("--tensor-parallel-size") + 1] == chips


def test_gpu_variant_asks_for_gpus_and_no_tpu_fields() -> None:
    config = replace(Config(), deploy=DeployConfig(accelerator="gpu", image="ghcr.io/llm-d/llm-d-cuda:v0.4.0"))
    container = decode_container(config)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert "google.com/tpu" not in container["resources"]["limits"]
    assert not any(e["name"].startswith("TPU_") for e in container["env"])
    pod = next(m.obj for m in render(config, NS) if m.kind == "Deployment" and "decode" in m.name)
    assert pod["spec"]["template"]["spec"]["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}


def test_route_has_no_port_on_the_pool_and_the_token_is_a_secret_reference() -> None:
    config = Config()
    objs = by_kind(config)
    (backend,) = objs["HTTPRoute"]["spec"]["rules"][0]["backendRefs"]
    assert backend["kind"] == "InferencePool"
    assert "port" not in backend
    container = decode_container(config)
    token = next(e for e in container["env"] if e["name"] == "HF_TOKEN")
    assert token == {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "huggingface-token", "key": "HF_TOKEN"}},
    }
    kinds = [m.kind for m in render(config, NS)]
    assert kinds == [
        "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service",
        "Deployment", "InferencePool", "Gateway", "HTTPRoute",
    ]  # fmt: skip


def test_the_api_server_accepts_every_manifest(kubectl: Kubectl) -> None:
    # A namespace of its own: what is checked is that the server accepts the manifests as written.
    kubectl.run("create", "namespace", "manifest-check")
    text = as_yaml(render(Config(), "manifest-check"))
    out = kubectl.run(
        "apply", "--server-side", "--dry-run=server", "--field-manager=llmd-console", "-f", "-", stdin=text
    )
    lines = out.strip().splitlines()
    assert len(lines) == 10, out
    assert all("serverside-applied (server dry run)" in line for line in lines), out
    # With the EPP's /metrics authenticated: its cluster-wide role and binding too.
    on = replace(Config(), deploy=DeployConfig(epp_metrics_auth=True))
    out = kubectl.run(
        "apply", "--server-side", "--dry-run=server", "--field-manager=llmd-console", "-f", "-",
        stdin=as_yaml(render(on, "manifest-check")),
    )  # fmt: skip
    lines = out.strip().splitlines()
    assert len(lines) == 12 and all("serverside-applied (server dry run)" in line for line in lines), out
    assert any(line.startswith("clusterrole.rbac.authorization.k8s.io/") for line in lines), out


def epp_container(config: Config) -> dict[str, Any]:
    epp = next(m.obj for m in render(config, NS) if m.kind == "Deployment" and m.name == config.resources.epp)
    container: dict[str, Any] = epp["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_epp_reads_its_plugins_from_the_config_map_it_mounts() -> None:
    config = Config()
    objs = {(m.kind, m.name): m.obj for m in render(config, NS)}
    name = config.resources.epp
    container = epp_container(config)
    args = container["args"]
    path = args[args.index("--config-file") + 1]
    directory, file = path.rsplit("/", 1)
    (mount,) = [v for v in container["volumeMounts"] if v["mountPath"] == directory]
    pod = objs["Deployment", name]["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    plugins = objs["ConfigMap", volume["configMap"]["name"]]["data"][file]
    assert "kind: EndpointPickerConfig" in plugins and "prefix-cache-scorer" in plugins
    # The picker's service account may read its pool and the pods.
    rules = objs["Role", name]["rules"]
    assert {r for rule in rules for r in rule["resources"]} >= {"pods", "inferencepools"}
    assert objs["RoleBinding", name]["subjects"][0]["name"] == pod["serviceAccountName"] == name


def test_the_epp_metrics_authentication_is_a_config_choice() -> None:
    # Off (the runbook's chart values): the flag turns it off and no cluster-wide RBAC is needed.
    assert "--metrics-endpoint-auth=false" in epp_container(Config())["args"]
    assert not [m for m in render(Config(), NS) if m.kind.startswith("Cluster")]
    # On: the EPP's default is left alone, and it may review the tokens it is called with.
    on = replace(Config(), deploy=DeployConfig(epp_metrics_auth=True))
    assert not [a for a in epp_container(on)["args"] if a.startswith("--metrics-endpoint-auth")]
    cluster = {m.kind: m for m in render(on, NS) if m.kind.startswith("Cluster")}
    assert set(cluster) == {"ClusterRole", "ClusterRoleBinding"}
    assert cluster["ClusterRole"].namespace == ""
    assert (
        cluster["ClusterRole"].path == f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{cluster['ClusterRole'].name}"
    )
    resources = {r for rule in cluster["ClusterRole"].obj["rules"] for r in rule.get("resources", [])}
    assert resources == {"tokenreviews", "subjectaccessreviews"}
