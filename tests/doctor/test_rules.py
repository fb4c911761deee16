"""Rules on hand-built snapshots: each fault in isolation, its finding and fix, the older
``inference.networking.x-k8s.io`` shapes, and the healthy Pattern 1 without findings."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmd_console.cluster.kube import KINDS
from llmd_console.cluster.watch import Batch
from llmd_console.config import Config
from llmd_console.doctor.criteria import success_criteria
from llmd_console.doctor.engine import evaluate
from llmd_console.doctor.evidence import Evidence, Inference, PodLog
from llmd_console.doctor.findings import Finding, Quote, worst
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.exposition import Page
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.readings import Feed
from llmd_console.models import KindState, Snapshot
from llmd_console.state import ClusterState

NS = "llm-d-inference-scheduling"
DECODE = "ms-pattern1-llm-d-modelservice-decode"
POD = f"{DECODE}-7d9f8b6c5d-abcde"
EPP = "gaie-pattern1-epp"
Obj = dict[str, Any]
READY = [{"type": "Ready", "status": "True"}]
NOW = 1_800_000_000.0


def meta(name: str, namespace: str | None = NS, **labels: str) -> Obj:
    out: Obj = {"name": name, "resourceVersion": "1", "creationTimestamp": "2026-11-28T00:00:00Z"}
    if namespace:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    return out


DECODE_LABELS = {"llm-d.ai/inferenceServing": "true", "llm-d.ai/role": "decode"}


def accepted_by_gateway() -> Obj:
    """A route's or pool's status: Accepted and ResolvedRefs by the Pattern 1 Gateway."""
    conditions = [{"type": "Accepted", "status": "True"}, {"type": "ResolvedRefs", "status": "True"}]
    return {"parents": [{"parentRef": {"name": "infra-pattern1-inference-gateway"}, "conditions": conditions}]}


def pod_event(pod: str, kind: str, reason: str, message: str) -> Obj:
    """An Event about a pod, as the API returns it."""
    return {
        "metadata": meta(f"{pod}.{reason.lower()}"),
        "involvedObject": {"kind": "Pod", "namespace": NS, "name": pod},
        "type": kind,
        "reason": reason,
        "message": message,
        "lastTimestamp": "2026-11-28T00:02:00Z",
        "count": 1,
    }


def container() -> Obj:
    return {
        "name": "vllm",
        "image": "vllm/vllm-tpu:v0.11.1",
        "args": ["Qwen/Qwen2.5-3B-Instruct", "--tensor-parallel-size", "4", "--max-model-len=2048"],
        "env": [{"name": "TPU_CHIPS_PER_HOST_BOUNDS", "value": "2,2,1"}],
        "ports": [{"containerPort": 8000}],
        "resources": {"requests": {"google.com/tpu": "4"}, "limits": {"google.com/tpu": "4", "memory": "64Gi"}},
        "startupProbe": {"httpGet": {"path": "/v1/models", "port": 8000}, "periodSeconds": 30, "failureThreshold": 60},
    }


def pod_spec() -> Obj:
    return {
        "containers": [container()],
        "nodeSelector": {
            "cloud.google.com/gke-tpu-topology": "2x2",
            "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
        },
        "tolerations": [{"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"}],
    }


def healthy() -> dict[str, list[Obj]]:
    """The Pattern 1 objects, healthy, as the API returns them."""
    decode_pod = {
        "metadata": meta(POD, **DECODE_LABELS),
        "spec": {**pod_spec(), "nodeName": "tpu-node"},
        "status": {
            "phase": "Running",
            "conditions": READY,
            "containerStatuses": [
                {
                    "name": "vllm",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-11-28T00:01:00Z"}},
                }
            ],
        },
    }
    epp_pod = {
        "metadata": meta(f"{EPP}-5c7b9d8f6-xyz12", inferencepool=EPP),
        "spec": {"containers": [{"name": "epp", "image": "epp:v0.6.0"}], "nodeName": "cpu-node"},
        "status": {
            "phase": "Running",
            "conditions": READY,
            "containerStatuses": [
                {"name": "epp", "ready": True, "started": True, "restartCount": 0, "state": {"running": {}}}
            ],
        },
    }
    return {
        "nodes": [
            {
                "metadata": meta(
                    "tpu-node",
                    None,
                    **{
                        "cloud.google.com/gke-tpu-topology": "2x2",
                        "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
                        "cloud.google.com/gke-nodepool": "tpu-v6e-pool",
                        "node.kubernetes.io/instance-type": "ct6e-standard-4t",
                    },
                ),
                "status": {
                    "conditions": READY,
                    "capacity": {"google.com/tpu": "4"},
                    "allocatable": {"google.com/tpu": "4"},
                },
            },
            {
                "metadata": meta("cpu-node", None, **{"cloud.google.com/gke-nodepool": "default-pool"}),
                "status": {"conditions": READY},
            },
        ],
        "pods": [decode_pod, epp_pod],
        "events": [],
        "services": [{"metadata": meta(EPP), "spec": {"ports": [{"name": "grpc", "port": 9002}]}}],
        "deployments": [
            {
                "metadata": meta(DECODE),
                "spec": {"replicas": 1, "template": {"spec": pod_spec()}},
                "status": {"readyReplicas": 1},
            },
            {
                "metadata": meta(EPP),
                "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "epp"}]}}},
                "status": {"readyReplicas": 1},
            },
        ],
        "gatewayclasses": [{"metadata": meta("gke-l7-regional-external-managed", None)}],
        "gateways": [
            {
                "metadata": meta("infra-pattern1-inference-gateway"),
                "spec": {
                    "gatewayClassName": "gke-l7-regional-external-managed",
                    "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
                },
                "status": {
                    "addresses": [{"value": "10.0.0.1"}],
                    "conditions": [{"type": "Accepted", "status": "True"}, {"type": "Programmed", "status": "True"}],
                    "listeners": [{"name": "http", "attachedRoutes": 1}],
                },
            }
        ],
        "httproutes": [
            {
                "metadata": meta("pattern1-route"),
                "spec": {
                    "parentRefs": [{"name": "infra-pattern1-inference-gateway"}],
                    "rules": [
                        {
                            "backendRefs": [
                                {
                                    "group": "inference.networking.k8s.io",
                                    "kind": "InferencePool",
                                    "name": "gaie-pattern1",
                                }
                            ]
                        }
                    ],
                },
                "status": accepted_by_gateway(),
            }
        ],
        "inferencepools": [
            {
                "apiVersion": "inference.networking.k8s.io/v1",
                "metadata": meta("gaie-pattern1"),
                "spec": {
                    "selector": {"matchLabels": {"llm-d.ai/inferenceServing": "true"}},
                    "targetPorts": [{"number": 8000}],
                    "endpointPickerRef": {"name": EPP, "port": {"number": 9002}},
                },
                "status": accepted_by_gateway(),
            }
        ],
    }


def diagnose(objects: dict[str, list[Obj]], **evidence: Any) -> tuple[Snapshot, Evidence, list[Finding]]:
    state = ClusterState(KINDS, namespace=NS)
    batch = Batch(relisted=dict(objects), states={k: KindState("live") for k in KINDS})
    snapshot = state.apply(batch)
    ev = Evidence(config=Config(), now=NOW, objects=Evidence.objects_of(state), **evidence)
    return snapshot, ev, evaluate(snapshot, ev)


def ids(findings: list[Finding]) -> set[str]:
    return {f.id for f in findings}


def test_healthy_pattern1_has_no_findings() -> None:
    _, _, findings = diagnose(healthy())
    assert findings == []


def decode_container(objects: dict[str, list[Obj]]) -> Obj:
    found: Obj = objects["deployments"][0]["spec"]["template"]["spec"]["containers"][0]
    return found


def test_chips_not_matching_the_topology() -> None:
    objects = healthy()
    res = decode_container(objects)["resources"]
    res["requests"]["google.com/tpu"] = res["limits"]["google.com/tpu"] = "2"
    _, _, findings = diagnose(objects)
    f = next(f for f in findings if f.id == "tpu-chips-topology")
    assert f.fix == (
        f"kubectl set resources deployment/{DECODE} -n {NS} -c vllm "
        "--requests=google.com/tpu=4 --limits=google.com/tpu=4",
    )


def test_requests_differ_from_limits() -> None:
    objects = healthy()
    decode_container(objects)["resources"]["requests"]["google.com/tpu"] = "2"
    assert "tpu-requests-limits" in ids(diagnose(objects)[2])


def test_bounds_tp_selector_and_toleration() -> None:
    objects = healthy()
    c = decode_container(objects)
    c["env"] = [{"name": "TPU_CHIPS_PER_HOST_BOUNDS", "value": "2,4,1"}]
    c["args"][2] = "8"
    spec = objects["deployments"][0]["spec"]["template"]["spec"]
    del spec["nodeSelector"]["cloud.google.com/gke-tpu-accelerator"]
    spec["tolerations"] = []
    found = ids(diagnose(objects)[2])
    assert {"tpu-bounds-mismatch", "tp-exceeds-chips", "tpu-node-selector", "tpu-no-toleration"} <= found


def test_no_chip_request_on_a_tpu_node_selector() -> None:
    objects = healthy()
    decode_container(objects)["resources"] = {}
    assert "tpu-no-chip-request" in ids(diagnose(objects)[2])


def test_gpu_deployment_is_not_judged_by_tpu_rules() -> None:
    objects = healthy()
    spec = objects["deployments"][0]["spec"]["template"]["spec"]
    spec["nodeSelector"] = {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    spec["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "4"}}
    assert not {f.id for f in diagnose(objects)[2] if f.area == "tpu"}


def test_route_with_a_port_and_the_old_group() -> None:
    objects = healthy()
    ref = objects["httproutes"][0]["spec"]["rules"][0]["backendRefs"][0]
    ref["port"] = 8000
    ref["group"] = "inference.networking.x-k8s.io"
    found = ids(diagnose(objects)[2])
    assert {"httproute-backend-port", "httproute-backend-group"} <= found


def test_older_x_k8s_pool_shape_is_read() -> None:
    objects = healthy()
    objects["inferencepools"][0].update(
        apiVersion="inference.networking.x-k8s.io/v1alpha2",
        spec={
            "selector": {"llm-d.ai/inferenceServing": "true"},
            "targetPortNumber": 8000,
            "extensionRef": {"name": EPP, "portNumber": 9002, "failureMode": "FailClose"},
        },
    )
    snapshot, _, findings = diagnose(objects)
    assert findings == []
    pool = next(h for h in snapshot.path.hops if h.kind == "InferencePool")
    assert pool.light == "ok" and "target ports 8000" in pool.facts


def test_old_pool_shape_with_a_wrong_port() -> None:
    objects = healthy()
    objects["inferencepools"][0]["spec"] = {
        "selector": {"llm-d.ai/inferenceServing": "true"},
        "targetPortNumber": 9000,
        "extensionRef": {"name": EPP, "portNumber": 9999},
    }
    found = ids(diagnose(objects)[2])
    assert {"inferencepool-port-not-served", "epp-service-port"} <= found


def test_selector_spelled_otherwise_than_the_labels() -> None:
    objects = healthy()
    objects["inferencepools"][0]["spec"]["selector"] = {"matchLabels": {"llm-d.ai/inference-serving": "true"}}
    findings = diagnose(objects)[2]
    f = next(f for f in findings if f.id == "inferencepool-selector-mismatch")
    assert "llm-d.ai/inferenceServing=true" in f.title
    assert '"llm-d.ai/inference-serving": null' in f.fix[0] and '"llm-d.ai/inferenceServing": "true"' in f.fix[0]
    assert "inferencepool-no-pods" in ids(findings)


def test_missing_crds_are_findings() -> None:
    objects = healthy()
    del objects["inferencepools"], objects["gateways"], objects["httproutes"]
    state = ClusterState(KINDS, namespace=NS)
    states = {k: KindState("live") for k in KINDS}
    for kind in ("inferencepools", "gateways", "httproutes"):
        states[kind] = KindState("missing")
    snapshot = state.apply(Batch(relisted=objects, states=states))
    found = ids(evaluate(snapshot, Evidence()))
    assert {"gateway-api-missing", "inferencepool-crd-missing"} <= found


def crashed(objects: dict[str, list[Obj]], waiting: str = "CrashLoopBackOff", last_exit: str = "Error") -> None:
    pod = objects["pods"][0]
    pod["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "vllm",
                "ready": False,
                "restartCount": 3,
                "state": {"waiting": {"reason": waiting}},
                "lastState": {"terminated": {"reason": last_exit, "exitCode": 1}},
            }
        ],
    }


@pytest.mark.parametrize(
    ("line", "fid", "fix"),
    [
        ("RuntimeError: No TPU devices found", "tpu-no-devices", "--requests=google.com/tpu=4"),
        (
            "RuntimeError: Unable to initialize backend 'tpu': INTERNAL: PJRT error: Failed to initialize TPU",
            "tpu-pjrt-bounds",
            "TPU_CHIPS_PER_HOST_BOUNDS=2,2,1",
        ),
        (
            "ValueError: shard_map applied to the function '_ragged_paged_attention' was given argument arrays",
            "tpu-shard-map",
            "Qwen/Qwen2.5-3B-Instruct",
        ),
        (
            "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Error allocating device buffer: "
            "Attempting to allocate 2.00G. That was not possible. There are 1.10G free.",
            "tpu-hbm-exhausted",
            "--max-model-len",
        ),
        (
            "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://huggingface.co/api/models/x",
            "hf-forbidden",
            "kubectl create secret generic huggingface-token",
        ),
    ],
)
def test_crash_lines(line: str, fid: str, fix: str) -> None:
    objects = healthy()
    crashed(objects)
    logs = (PodLog(f"{NS}/{POD}", "vllm", ("INFO starting", line, "  File x"), previous=True),)
    findings = diagnose(objects, logs=logs)[2]
    f = next(f for f in findings if f.id == fid)
    assert f.severity == "error" and any(fix in command for command in f.fix)
    assert f.evidence[0].text == line.strip()[:300] and f.evidence[0].name == POD
    assert "crash-loop" not in ids(findings)


def test_oom_killed_names_the_model_length() -> None:
    objects = healthy()
    crashed(objects, last_exit="OOMKilled")
    f = next(f for f in diagnose(objects)[2] if f.id == "oom-killed")
    assert "--max-model-len 2048" in f.title and "64Gi" in f.title


def test_unexplained_crash_loop() -> None:
    objects = healthy()
    crashed(objects)
    f = next(f for f in diagnose(objects)[2] if f.id == "crash-loop")
    assert f.fix == (f"kubectl logs {POD} -n {NS} --previous --tail=50",)


def test_ready_pod_with_an_old_crash_line_is_not_flagged() -> None:
    logs = (PodLog(f"{NS}/{POD}", "vllm", ("RuntimeError: No TPU devices found",), previous=True),)
    assert diagnose(healthy(), logs=logs)[2] == []


def test_hf_secret_without_hf_token_key() -> None:
    secrets = {f"{NS}/huggingface-token": frozenset({"token"})}
    f = next(f for f in diagnose(healthy(), secrets=secrets)[2] if f.id == "hf-secret-keys")
    assert "HF_TOKEN" in f.title and f.severity == "warning"


def test_inference_failure_and_slow_ttft() -> None:
    advice = "kubectl get httproute -n ns; kubectl describe gateway g -n ns  (1 route). Re-create it."
    failed = (Inference(False, 500, failure_kind="no_route", failure_title="fault filter abort", failure_fix=advice),)
    f = next(f for f in diagnose(healthy(), inferences=failed)[2] if f.id == "inference-no-route")
    assert f.symptom and f.fix == ("kubectl get httproute -n ns", "kubectl describe gateway g -n ns")
    slow = (Inference(True, 200, ttft=9.0, total=9.5), Inference(True, 200, ttft=8.0, total=8.5))
    f = next(f for f in diagnose(healthy(), inferences=slow)[2] if f.id == "slow-ttft")
    assert "8.0 s" in f.title
    fine = (Inference(True, 200, ttft=90.0, total=91.0), Inference(True, 200, ttft=0.3, total=0.5))
    assert diagnose(healthy(), inferences=fine)[2] == []  # the first request may compile


def test_idle_accelerator_costs() -> None:
    objects = healthy()
    objects["pods"] = objects["pods"][1:]  # no model pod holds the chips
    snapshot, ev, findings = diagnose(objects)
    f = next(f for f in findings if f.id == "idle-accelerator")
    assert f.action == "scale-node-pool" and "--num-nodes 0" in f.fix[0]
    recently = Evidence(config=ev.config, now=NOW, objects=ev.objects, idle_since={"tpu-node": NOW - 60})
    assert "idle-accelerator" not in ids(evaluate(snapshot, recently))


def test_pending_for_chips_with_the_pool_at_zero() -> None:
    objects = healthy()
    objects["nodes"] = objects["nodes"][1:]
    pod = objects["pods"][0]
    pod["spec"].pop("nodeName")
    pod["status"] = {"phase": "Pending"}
    objects["events"] = [
        pod_event(POD, "Warning", "FailedScheduling", "0/1 nodes are available: 1 Insufficient google.com/tpu.")
    ]
    f = next(f for f in diagnose(objects)[2] if f.id == "tpu-pool-empty")
    assert f.fix[0] == (
        "gcloud container clusters resize tpu-test-cluster --node-pool tpu-v6e-pool --num-nodes 1 "
        "--zone europe-west4-a --project ecoeng-llmd --quiet"
    )
    assert f.action == "scale-node-pool" and "Insufficient google.com/tpu" in f.evidence[0].text


def test_a_broken_rule_is_reported_not_raised() -> None:
    def broken(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
        raise KeyError("boom")

    snapshot = diagnose(healthy())[0]
    findings = evaluate(snapshot, Evidence(), rules=(broken,))
    assert [f.id for f in findings] == ["doctor-rule-failed"] and "broken" in findings[0].title


def test_causes_come_before_symptoms_and_worst_first() -> None:
    objects = healthy()
    crashed(objects)
    logs = (PodLog(f"{NS}/{POD}", "vllm", ("RuntimeError: No TPU devices found",)),)
    findings = diagnose(objects, logs=logs)[2]
    assert findings[0].id == "tpu-no-devices"
    assert worst(findings) is findings[0]
    symptoms = [i for i, f in enumerate(findings) if f.symptom]
    causes = [i for i, f in enumerate(findings) if not f.symptom and f.severity == "error"]
    assert max(causes) < min(symptoms)


def test_criteria_without_evidence_are_skipped_not_failed() -> None:
    snapshot, ev, _ = diagnose(healthy())
    results = {c.number: c.status for c in success_criteria(snapshot, ev)}
    assert [results[n] for n in (1, 2, 3, 4, 5)] == ["pass"] * 5
    assert [results[n] for n in (6, 7, 9)] == ["skip"] * 3


def test_hostile_strings_stay_bounded() -> None:
    objects = healthy()
    crashed(objects)
    line = "RuntimeError: No TPU devices found " + "\x1b[31m" * 10_000
    logs = (PodLog(f"{NS}/{POD}", "vllm", (line,)),)
    f = next(f for f in diagnose(objects, logs=logs)[2] if f.id == "tpu-no-devices")
    assert len(f.evidence[0].text) <= 300 and "\x1b" not in f.evidence[0].text
    assert copy.deepcopy(f) == f


def feed_with(vllm: dict[str, EndpointHistory], epp: dict[str, EndpointHistory]) -> Feed:

    return Feed(vllm, epp, 1.0, NOW, "test")


def test_metrics_plumbing_auth_unreachable_and_unknown_names() -> None:

    refused = EndpointHistory(4)
    refused.failed("the EPP's /metrics wants a bearer token (401; the EPP's --metrics-endpoint-auth)")
    strange = EndpointHistory(4)
    strange.record(NOW, Page(names=frozenset({"mystery_requests_total"})))
    epp_key = f"{NS}/{EPP}-5c7b9d8f6-xyz12"
    findings = diagnose(healthy(), feed=feed_with({f"{NS}/{POD}": strange}, {epp_key: refused}))[2]
    assert {f.id: f.evidence[0].name for f in findings} == {
        "metrics-auth": f"{EPP}-5c7b9d8f6-xyz12",
        "metrics-unknown-names": POD,
    }
    down = EndpointHistory(4)
    down.failed("the model server is unreachable on port 8000 (503: no endpoints)")
    assert "metrics-unreachable" in ids(diagnose(healthy(), feed=feed_with({f"{NS}/{POD}": down}, {}))[2])


def test_firing_alerts_become_findings_pending_ones_do_not() -> None:

    alerts = (
        Alert("kv_cache_high", "warning", "KV cache at 97% (above 90%)", NOW - 400, firing=True),
        Alert("epp_errors_critical", "critical", "EPP error ratio 40% (above 20%)", NOW - 400, firing=True),
        Alert("preemptions", "warning", "vLLM is preempting requests", NOW - 10, firing=False),
    )
    findings = diagnose(healthy(), alerts=alerts)[2]
    assert {(f.id, f.severity) for f in findings} == {
        ("alert-kv-cache-high", "warning"),
        ("alert-epp-errors-critical", "error"),
    }
    epp = next(f for f in findings if f.id == "alert-epp-errors-critical")
    assert epp.fix == (f"kubectl logs -n {NS} deploy/{EPP} --tail=100",)


def test_no_ready_endpoint_while_model_pods_are_ready_points_at_the_epp() -> None:
    alert = Alert("no_ready_endpoints", "critical", "the InferencePool has no ready endpoint", NOW - 400, firing=True)
    (seen,) = [f for f in diagnose(healthy(), alerts=(alert,))[2] if f.id == "alert-no-ready-endpoints"]
    assert seen.symptom and "but 1 model server pod(s) are Ready" in seen.title
    assert Quote("Pod", NS, POD, "Ready") in seen.evidence
    assert seen.fix[0].startswith(f"kubectl logs -n {NS} deploy/{EPP} --tail=50")
    objects = healthy()
    crashed(objects, waiting="CrashLoopBackOff", last_exit="Error")
    (down,) = [f for f in diagnose(objects, alerts=(alert,))[2] if f.id == "alert-no-ready-endpoints"]
    assert down.title == alert.summary and "inferenceServing=true" in down.fix[0]


def test_startup_probe_budget_with_the_compile_time_beside_it() -> None:
    objects = healthy()
    crashed(objects, waiting="", last_exit="Error")
    objects["pods"][0]["spec"]["containers"][0]["startupProbe"].update(initialDelaySeconds=15, failureThreshold=5)
    objects["events"] = [pod_event(POD, "Normal", "Killing", "Container vllm failed startup probe, will be restarted")]
    lines = (
        "(EngineCore_DP0 pid=261) INFO 11-28 00:01:00 [tpu_platform.py:88] Initializing TPU: PJRT_DEVICE=TPU",
        "(EngineCore_DP0 pid=261) INFO 11-28 00:02:00 [compilation_manager.py:236] Precompile all the subgraphs",
        "(EngineCore_DP0 pid=261) INFO 11-28 00:03:00 [compilation_manager.py:188] Compilation of worker0 backbone "
        "--> {'num_tokens': 16} finished in 60.00 [secs].",
        "(EngineCore_DP0 pid=261) INFO 11-28 00:04:00 [compilation_manager.py:188] Compilation of worker0 backbone "
        "--> {'num_tokens': 32} finished in 60.50 [secs].",
    )
    logs = (PodLog(f"{NS}/{POD}", "vllm", lines, previous=True),)
    f = next(f for f in diagnose(objects, logs=logs)[2] if f.id == "startup-probe-budget")
    assert "allows 165 s (15 + 30 x 5)" in f.title
    assert "observed startup 180 s" in f.title and "120 s of XLA precompilation (2 graphs)" in f.title
    assert f.fix[0].endswith('"value":60}]\'') and f"deployment {DECODE} -n {NS}" in f.fix[0]
    assert "failed startup probe" in f.evidence[0].text and "finished in 60.50" in f.evidence[-1].text


def test_rolling_update_stuck_on_one_tpu_node() -> None:
    objects = healthy()
    waiting = copy.deepcopy(objects["pods"][0])
    waiting["metadata"]["name"] = f"{DECODE}-6b8c7d9f5e-fghij"
    waiting["spec"].pop("nodeName")
    waiting["status"] = {"phase": "Pending"}
    objects["pods"].append(waiting)
    objects["events"] = [
        pod_event(
            waiting["metadata"]["name"],
            "Warning",
            "FailedScheduling",
            "0/2 nodes are available: 1 Insufficient google.com/tpu, 1 node(s) didn't match selector.",
        )
    ]
    f = next(f for f in diagnose(objects)[2] if f.id == "pending-no-chips")
    assert "--num-nodes 2" in f.fix[0]
    assert f.fix[1].startswith(f"kubectl patch deployment {DECODE} -n {NS}") and "Recreate" in f.fix[1]


def test_pools_only_in_the_older_api_group() -> None:
    objects = healthy()
    old = objects.pop("inferencepools")[0]
    old.update(apiVersion="inference.networking.x-k8s.io/v1alpha2", spec={"selector": {"app": "x"}})
    state = ClusterState(KINDS, namespace=NS)
    states = {k: KindState("live") for k in KINDS} | {"inferencepools": KindState("missing")}
    snapshot = state.apply(Batch(relisted=objects, states=states))
    evidence = Evidence(objects=Evidence.objects_of(state), old_pools={f"{NS}/gaie-pattern1": old})
    findings = evaluate(snapshot, evidence)
    f = next(f for f in findings if f.id == "inferencepool-old-api-group")
    assert f.evidence[0].key == f"{NS}/gaie-pattern1" and "install-gateway-provider-dependencies.sh" in f.fix[0]
    assert "inferencepool-crd-missing" in ids(findings)
    assert "inferencepool-old-api-group" not in ids(evaluate(snapshot, Evidence(objects=evidence.objects)))


def test_gateway_fixes_have_the_configured_names_filled_in() -> None:
    objects = healthy()
    gateway = objects["gateways"][0]
    gateway["status"] = {
        "conditions": [
            {"type": "Accepted", "status": "True"},
            {"type": "Programmed", "status": "False", "message": "a proxy-only subnetwork is required"},
        ]
    }
    f = next(f for f in diagnose(objects)[2] if f.id == "gateway-not-programmed")
    assert "--region=europe-west4 --project=ecoeng-llmd" in f.fix[0] and "$" not in f.fix[0]
    state = ClusterState(KINDS, namespace=NS)
    states = {k: KindState("live") for k in KINDS} | {"gateways": KindState("missing")}
    snapshot = state.apply(Batch(relisted={k: v for k, v in healthy().items() if k != "gateways"}, states=states))
    f = next(f for f in evaluate(snapshot, Evidence()) if f.id == "gateway-api-missing")
    assert f.fix == (
        "gcloud container clusters update tpu-test-cluster --gateway-api=standard --zone europe-west4-a "
        "--project ecoeng-llmd",
    )
