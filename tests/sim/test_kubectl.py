"""The real kubectl, unchanged, against the simulator."""

from __future__ import annotations

import json
import time

import yaml

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import Kubectl, wait_for

N = ("-n", NAMESPACE)
DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"


def _decode_pod(kubectl: Kubectl) -> str:
    return wait_for(
        lambda: kubectl.run("get", "pods", *N, "-l", DECODE_SELECTOR, "-o", "jsonpath={.items[0].metadata.name}"),
        message="decode pod",
    )


def test_get_every_kind_with_default_columns(kubectl: Kubectl) -> None:
    nodes = kubectl.run("get", "nodes")
    assert nodes.split("\n")[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert nodes.count("Ready") == 2
    pods = kubectl.run("get", "pods", *N)
    assert pods.split("\n")[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    deploy = kubectl.run("get", "deploy", *N)
    assert deploy.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    svc = kubectl.run("get", "svc", *N)
    assert "gaie-pattern1-epp" in svc and "9002/TCP,9003/TCP,9090/TCP" in svc
    gateway = kubectl.run("get", "gateway", *N)
    assert gateway.split("\n")[0].split() == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    assert "gke-l7-regional-external-managed" in gateway
    assert "pattern1-route" in kubectl.run("get", "httproute", *N)
    assert kubectl.run("get", "infpool", *N).split("\n")[0].split() == ["NAME", "AGE"]
    for kind in (
        "namespaces",
        "events",
        "secrets",
        "configmaps",
        "endpoints",
        "replicasets",
        "customresourcedefinitions",
        "gatewayclasses",
        "inferencepools",
    ):
        kubectl.run("get", kind, *N)


def test_wide_yaml_jsonpath_and_selectors(kubectl: Kubectl) -> None:
    wide = kubectl.run("get", "pods", *N, "-o", "wide")
    assert "NODE" in wide.split("\n")[0] and "gke-tpu-test-cluster-tpu-v6e-pool" in wide
    doc = yaml.safe_load(kubectl.run("get", "deploy", "ms-pattern1-llm-d-modelservice-decode", *N, "-o", "yaml"))
    assert doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["google.com/tpu"] == "4"
    topo = kubectl.run(
        "get",
        "nodes",
        "-o",
        r"jsonpath={range .items[*]}{.metadata.name}{'\t'}"
        r"{.metadata.labels.cloud\.google\.com/gke-tpu-topology}{'\n'}{end}",
    )
    assert sum(1 for line in topo.splitlines() if line.endswith("\t2x2")) == 1
    tpu_nodes = kubectl.run("get", "nodes", "-l", "cloud.google.com/gke-tpu-accelerator=tpu-v6e-slice", "-o", "name")
    assert len(tpu_nodes.split()) == 1
    epp = kubectl.run(
        "get", "pods", *N, "-l", "inferencepool=gaie-pattern1-epp", "-o", "jsonpath={.items[0].metadata.name}"
    )
    assert epp.startswith("gaie-pattern1-epp-")


def test_gateway_address_and_describe(kubectl: Kubectl) -> None:
    address = wait_for(
        lambda: kubectl.run(
            "get", "gateway", "infra-pattern1-inference-gateway", *N, "-o", "jsonpath={.status.addresses[0].value}"
        ),
        message="gateway address",
    )
    assert address.startswith("127.")
    described = kubectl.run("describe", "gateway", "infra-pattern1-inference-gateway", *N)
    assert "Attached Routes:  1" in described
    pod = _decode_pod(kubectl)
    pod_text = kubectl.run("describe", "pod", pod, *N)
    assert "Node-Selectors:  cloud.google.com/gke-tpu-accelerator=tpu-v6e-slice" in pod_text
    assert "Successfully assigned" in pod_text


def test_api_resources_for_the_inference_group(kubectl: Kubectl) -> None:
    out = kubectl.run("api-resources", "--api-group=inference.networking.k8s.io")
    assert out.split("\n")[1].split() == [
        "inferencepools",
        "infpool",
        "inference.networking.k8s.io/v1",
        "true",
        "InferencePool",
    ]


def test_logs_tail_follow_and_previous(kubectl: Kubectl) -> None:
    pod = _decode_pod(kubectl)
    wait_for(
        lambda: "Application startup complete" in kubectl.run("logs", pod, *N, check=False),
        30,
        message="vLLM startup in the logs",
    )
    logs = kubectl.run("logs", pod, *N)
    assert "init engine (profile, create kv cache, warmup model) took" in logs
    assert "Precompile all the subgraphs" in logs
    tail = kubectl.run("logs", pod, *N, "--tail=2")
    assert len(tail.splitlines()) == 2
    stamped = kubectl.run("logs", pod, *N, "--tail=1", "--timestamps")
    assert stamped[:4].isdigit() and "T" in stamped.split()[0]
    previous = kubectl.run("logs", pod, *N, "--previous", check=False)
    assert 'previous terminated container "vllm"' in previous
    epp = kubectl.run(
        "get", "pods", *N, "-l", "inferencepool=gaie-pattern1-epp", "-o", "jsonpath={.items[0].metadata.name}"
    )
    follower = kubectl.popen("logs", "-f", epp, *N, "--tail=1")
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        assert follower.poll() is None, "kubectl logs -f must keep streaming after the tail"
    finally:
        follower.terminate()
        follower.communicate(timeout=5)
    assert json.loads(first)["msg"] == "gRPC server listening"


def test_apply_create_scale_rollout_and_delete(kubectl: Kubectl, tmp_path: object) -> None:
    kubectl.run("create", "namespace", "llm-d")
    kubectl.run(
        "create",
        "secret",
        "generic",
        "huggingface-token",
        "--from-literal=token=hf_x",
        "--from-literal=HF_TOKEN=hf_x",
        "-n",
        "llm-d",
    )
    secrets = kubectl.run("get", "secrets", "-n", "llm-d")
    assert "huggingface-token   Opaque   2" in secrets
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "llm-d"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    text = yaml.safe_dump(manifest)
    assert "created" in kubectl.run("apply", "-f", "-", stdin=text)
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"  # type: ignore[index]
    assert "configured" in kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(manifest))
    assert (
        kubectl.run("get", "deploy", "web", "-n", "llm-d", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        == "nginx:1.28"
    )
    kubectl.run("scale", "deployment", "web", "--replicas=3", "-n", "llm-d")
    wait_for(
        lambda: kubectl.run("get", "deploy", "web", "-n", "llm-d", "-o", "jsonpath={.status.readyReplicas}") == "3",
        message="3 ready replicas",
    )
    before = set(kubectl.run("get", "pods", "-n", "llm-d", "-o", "name").split())
    kubectl.run("rollout", "restart", "deployment", "web", "-n", "llm-d")

    def replaced() -> bool:
        now = set(kubectl.run("get", "pods", "-n", "llm-d", "-o", "name").split())
        ready = kubectl.run("get", "deploy", "web", "-n", "llm-d", "-o", "jsonpath={.status.updatedReplicas}")
        return len(now) == 3 and not now & before and ready == "3"

    wait_for(replaced, message="every pod replaced by the rollout")
    victim = sorted(kubectl.run("get", "pods", "-n", "llm-d", "-o", "name").split())[0]
    assert "deleted" in kubectl.run("delete", victim, "-n", "llm-d")
    wait_for(
        lambda: (
            len(kubectl.run("get", "pods", "-n", "llm-d", "-o", "name").split()) == 3
            and victim not in kubectl.run("get", "pods", "-n", "llm-d", "-o", "name")
        ),
        message="replacement pod",
    )
    kubectl.run("delete", "namespace", "llm-d", timeout=60)
    assert "NotFound" in kubectl.run("get", "namespace", "llm-d", check=False)


def test_get_watch_sees_a_change(kubectl: Kubectl, sim: SimCluster) -> None:
    before = sim.call(sim.ctx.store.watcher_count)
    watcher = kubectl.popen("get", "configmaps", *N, "-w")
    try:
        wait_for(lambda: sim.call(sim.ctx.store.watcher_count) > before, message="kubectl's watch to open")
        kubectl.run("create", "configmap", "watched", "--from-literal=a=b", *N)
        deadline = time.monotonic() + 10
        seen = ""
        assert watcher.stdout is not None
        while time.monotonic() < deadline and "watched" not in seen:
            seen += watcher.stdout.readline()
        assert "watched" in seen
    finally:
        watcher.terminate()
        watcher.communicate(timeout=5)


def test_kubectl_run_gets_a_creation_time(kubectl: Kubectl) -> None:
    # kubectl sends "creationTimestamp": null; the server must fill it in, or AGE shows <unknown>.
    kubectl.run("run", "age-check", "--image=busybox:1.36", "--", "sleep", "1000")
    stamp = kubectl.run("get", "pod", "age-check", "-o", "jsonpath={.metadata.creationTimestamp}")
    assert stamp.endswith("Z") and stamp[:2] == "20"
    assert "<unknown>" not in kubectl.run("get", "pod", "age-check")
    kubectl.run("delete", "pod", "age-check", "--wait=false")
