"""The API groups charts and kubectl rely on, kubectl's protobuf writes, WatchList, and
Status errors byte for byte, with the real kubectl and the official Python client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import Kubectl

# Every resource the simulator serves beyond the Pattern 1 kinds, as `kubectl get` names them.
NEW_RESOURCES = (
    "replicationcontrollers",
    "persistentvolumeclaims",
    "persistentvolumes",
    "resourcequotas",
    "limitranges",
    "podtemplates",
    "statefulsets.apps",
    "daemonsets.apps",
    "controllerrevisions.apps",
    "jobs.batch",
    "cronjobs.batch",
    "horizontalpodautoscalers.autoscaling",
    "poddisruptionbudgets.policy",
    "ingresses.networking.k8s.io",
    "ingressclasses.networking.k8s.io",
    "networkpolicies.networking.k8s.io",
    "leases.coordination.k8s.io",
    "events.events.k8s.io",
    "storageclasses.storage.k8s.io",
    "priorityclasses.scheduling.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "apiservices.apiregistration.k8s.io",
    "healthcheckpolicies.networking.gke.io",
    "gcpbackendpolicies.networking.gke.io",
    "podmonitorings.monitoring.googleapis.com",
)
# Recorded from a real 1.32 API server (kubectl get --raw of a missing pod and deployment):
# Go's key order, no empty "group", details on a 404, and the encoder's trailing newline.
REAL_POD_NOT_FOUND = (
    b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"nope\\" not found",'
    b'"reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404}\n'
)
REAL_DEPLOYMENT_NOT_FOUND = (
    b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \\"nope\\" '
    b'not found","reason":"NotFound","details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}\n'
)
REAL_PATH_NOT_FOUND = (
    b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find '
    b'the requested resource","reason":"NotFound","details":{},"code":404}\n'
)


def _raw(sim: SimCluster, path: str, accept: str = "application/json") -> tuple[int, bytes]:
    request = urllib.request.Request(sim.url + path, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl.run(*args, "-o", "json"))


def test_discovery_lists_the_groups_in_the_real_order(kubectl: Kubectl) -> None:
    groups = [g["name"] for g in json.loads(kubectl.run("get", "--raw", "/apis"))["groups"]]
    assert groups[:4] == ["apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io"]
    for group in ("batch", "policy", "rbac.authorization.k8s.io", "networking.gke.io", "monitoring.googleapis.com"):
        assert group in groups
    autoscaling = json.loads(kubectl.run("get", "--raw", "/apis/autoscaling"))
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert autoscaling["preferredVersion"]["version"] == "v2"
    resources = kubectl.run("api-resources", "-o", "name")
    for name in (*NEW_RESOURCES, "selfsubjectaccessreviews.authorization.k8s.io"):
        assert name in resources.split("\n"), name


def test_aggregated_discovery_when_asked_for(sim: SimCluster) -> None:
    accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
    )
    request = urllib.request.Request(sim.url + "/apis", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        listing = json.loads(resp.read())
    assert listing["kind"] == "APIGroupDiscoveryList" and listing["apiVersion"] == "apidiscovery.k8s.io/v2"
    groups = {g["metadata"]["name"]: g for g in listing["items"]}
    autoscaling = [v["version"] for v in groups["autoscaling"]["versions"]]
    assert autoscaling == ["v2", "v1"]
    deployments = next(r for r in groups["apps"]["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deployments["scope"] == "Namespaced" and deployments["shortNames"] == ["deploy"]
    scale = next(s for s in deployments["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    code, body = _raw(sim, "/api", accept)
    core = json.loads(body)["items"]
    assert code == 200 and len(core) == 1 and core[0]["metadata"] == {"creationTimestamp": None}
    # Without the aggregated media type, the legacy documents.
    assert json.loads(_raw(sim, "/api")[1])["kind"] == "APIVersions"


def test_get_every_new_resource_type(kubectl: Kubectl) -> None:
    for resource in NEW_RESOURCES:
        out = kubectl.run("get", resource, "-A", check=False)
        assert "error" not in out.lower(), f"{resource}: {out}"


def test_auth_can_i_and_whoami(sim: SimCluster, kubectl: Kubectl) -> None:
    assert kubectl.run("auth", "can-i", "create", "deployments", "-n", NAMESPACE).strip() == "yes"
    assert kubectl.run("auth", "can-i", "*", "*").strip() == "yes"
    who = kubectl.run("auth", "whoami", "-o", "json")
    assert json.loads(who)["status"]["userInfo"] == {"username": "llmd-sim", "groups": ["system:authenticated"]}
    sim.call(lambda: sim.ctx.denied.add("secrets"))
    try:
        denied = kubectl.run("auth", "can-i", "get", "secrets", "-n", NAMESPACE, check=False)
        assert denied.strip().startswith("no")
        rules = kubectl.run("auth", "can-i", "--list", "-n", NAMESPACE)
        assert "configmaps" in rules and "secrets " not in rules
    finally:
        sim.call(lambda: sim.ctx.denied.discard("secrets"))
    # The review kinds are answered, never stored: a GET is not allowed.
    code, body = _raw(sim, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert code == 405 and json.loads(body)["reason"] == "MethodNotAllowed"


def test_create_deployment_service_and_job_from_protobuf(kubectl: Kubectl) -> None:
    ns = ("-n", "default")
    kubectl.run("create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=8080", *ns)
    dep = _json(kubectl, "get", "deployment", "web", *ns)
    assert dep["spec"]["replicas"] == 0  # a pointer field set to zero survives decoding
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27" and container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert "stdin" not in container and "workingDir" not in container  # omitempty zero values are dropped

    kubectl.run("create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=9090:metrics", *ns)
    ports = _json(kubectl, "get", "service", "web", *ns)["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(80, 8080), (9090, "metrics")]

    kubectl.run("create", "job", "once", "--image=busybox", *ns, "--", "echo", "hi")
    job = _json(kubectl, "get", "job", "once", *ns)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "once" and labels["controller-uid"] == uid
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    assert {k: job["spec"][k] for k in ("backoffLimit", "completions", "parallelism", "completionMode")} == {
        "backoffLimit": 6,
        "completions": 1,
        "parallelism": 1,
        "completionMode": "NonIndexed",
    }
    header = kubectl.run("get", "jobs", *ns).split("\n")[0].split()
    assert header == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]


def test_jobs_run_to_completion_or_failure(kubectl: Kubectl) -> None:
    ns = ("-n", "default")
    kubectl.run("create", "job", "hello", "--image=busybox", *ns, "--", "echo", "hello from a job")
    kubectl.run("wait", "--for=condition=complete", "job/hello", *ns, "--timeout=30s")
    assert kubectl.run("logs", "job/hello", *ns).strip() == "hello from a job"
    status = _json(kubectl, "get", "job", "hello", *ns)["status"]
    assert status["succeeded"] == 1 and status["active"] == 0 and status["completionTime"]
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    failing = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "fails", "namespace": "default"},
        "spec": {
            "backoffLimit": 1,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox", "command": ["false"]}],
                }
            },
        },
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(failing))
    kubectl.run("wait", "--for=condition=failed", "job/fails", *ns, "--timeout=30s")
    status = _json(kubectl, "get", "job", "fails", *ns)["status"]
    assert status["failed"] == 2 and status["conditions"][-1]["reason"] == "BackoffLimitExceeded"
    pods = _json(kubectl, "get", "pods", "-l", "job-name=fails", *ns)["items"]
    assert len(pods) == 2 and {p["status"]["phase"] for p in pods} == {"Failed"}
    always = json.loads(json.dumps(failing).replace('"Never"', '"Always"').replace('"fails"', '"always"'))
    refused = kubectl.run("apply", "-f", "-", stdin=json.dumps(always), check=False)
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Always"' in refused


def test_other_typed_creates(kubectl: Kubectl) -> None:
    ns = ("-n", "default")
    kubectl.run("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", *ns, "--", "date")
    cron = _json(kubectl, "get", "cronjob", "tick", *ns)
    assert cron["spec"]["schedule"] == "*/5 * * * *" and cron["spec"]["concurrencyPolicy"] == "Allow"
    kubectl.run("create", "role", "reader", "--verb=get,list", "--resource=pods", *ns)
    rules = _json(kubectl, "get", "role", "reader", *ns)["rules"]
    assert rules == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    kubectl.run("create", "rolebinding", "reader", "--role=reader", "--user=bob", *ns)
    kubectl.run("create", "clusterrole", "node-reader", "--verb=list", "--resource=nodes")
    kubectl.run("create", "clusterrolebinding", "node-reader", "--clusterrole=node-reader", "--group=devs")
    binding = _json(kubectl, "get", "clusterrolebinding", "node-reader")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "node-reader"}
    kubectl.run("create", "pdb", "web", "--selector=app=web", "--min-available=1", *ns)
    assert _json(kubectl, "get", "pdb", "web", *ns)["spec"]["minAvailable"] == 1
    kubectl.run("create", "priorityclass", "high", "--value=1000", "--description=batch work")
    assert _json(kubectl, "get", "priorityclass", "high")["preemptionPolicy"] == "PreemptLowerPriority"
    kubectl.run("create", "quota", "small", "--hard=cpu=2,pods=10", *ns)
    assert _json(kubectl, "get", "quota", "small", *ns)["spec"]["hard"] == {"cpu": "2", "pods": "10"}
    kubectl.run("create", "ingress", "web", "--rule=foo.example.com/api*=web:80", *ns)
    rule = _json(kubectl, "get", "ingress", "web", *ns)["spec"]["rules"][0]
    assert rule["host"] == "foo.example.com"
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": "web", "port": {"number": 80}}}


def test_client_side_apply_patches_builtin_kinds_of_every_group(kubectl: Kubectl) -> None:
    # A second kubectl apply sends a strategic merge patch, which every built-in kind takes.
    role: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "applied", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    assert "created" in kubectl.run("apply", "-f", "-", stdin=json.dumps(role))
    role["rules"][0]["verbs"] = ["get", "list"]
    assert "configured" in kubectl.run("apply", "-f", "-", stdin=json.dumps(role))
    assert _json(kubectl, "get", "role", "applied", "-n", "default")["rules"][0]["verbs"] == ["get", "list"]
    policy: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "applied", "namespace": "default"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(policy))
    policy["spec"]["maxUnavailable"] = 2
    assert "configured" in kubectl.run("apply", "-f", "-", stdin=json.dumps(policy))


def test_hpa_served_as_v2_and_v1(sim: SimCluster, kubectl: Kubectl) -> None:
    ns = ("-n", NAMESPACE)
    kubectl.run("autoscale", "deployment", "gaie-pattern1-epp", "--max=3", "--cpu-percent=70", *ns)
    v2 = json.loads(
        kubectl.run("get", "--raw", f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/horizontalpodautoscalers")
    )
    metric = v2["items"][0]["spec"]["metrics"][0]
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    v1 = json.loads(
        kubectl.run(
            "get", "--raw", f"/apis/autoscaling/v1/namespaces/{NAMESPACE}/horizontalpodautoscalers/gaie-pattern1-epp"
        )
    )
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 70
    assert "metrics" not in v1["spec"] and v1["spec"]["minReplicas"] == 1  # the v2 default
    code, body = _raw(
        sim, f"/apis/autoscaling/v1/namespaces/{NAMESPACE}/horizontalpodautoscalers?watch=true&timeoutSeconds=1"
    )
    watched = json.loads(body.splitlines()[0])["object"]
    assert code == 200 and watched["apiVersion"] == "autoscaling/v1"
    assert watched["spec"]["targetCPUUtilizationPercentage"] == 70
    header = kubectl.run("get", "hpa", *ns).split("\n")[0].split()
    assert header == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]


def test_a_new_gke_cluster_s_builtin_objects(kubectl: Kubectl) -> None:
    classes = kubectl.run("get", "storageclass")
    assert "standard-rwo (default)   pd.csi.storage.gke.io" in classes and "premium-rwo" in classes
    admin = _json(kubectl, "get", "clusterrolebinding", "cluster-admin")
    assert admin["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]
    services = kubectl.run("get", "apiservices")
    for name in ("v1.apps", "v2.autoscaling", "v1.inference.networking.k8s.io"):
        assert any(line.split()[:3] == [name, "Local", "True"] for line in services.split("\n")), name


def test_gke_policies_the_inferencepool_chart_renders(kubectl: Kubectl) -> None:
    target = {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "gaie-pattern1"}
    manifests = [
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "HealthCheckPolicy",
            "metadata": {"name": "gaie-pattern1", "namespace": NAMESPACE},
            "spec": {
                "targetRef": target,
                "default": {
                    "timeoutSec": 2,
                    "checkIntervalSec": 2,
                    "config": {"type": "HTTP", "httpHealthCheck": {"requestPath": "/health", "port": 8000}},
                },
            },
        },
        {
            "apiVersion": "networking.gke.io/v1",
            "kind": "GCPBackendPolicy",
            "metadata": {"name": "gaie-pattern1", "namespace": NAMESPACE},
            "spec": {"targetRef": target, "default": {"timeoutSec": 300, "logging": {"enabled": True}}},
        },
        {
            "apiVersion": "monitoring.googleapis.com/v1",
            "kind": "PodMonitoring",
            "metadata": {"name": "gaie-pattern1-epp", "namespace": NAMESPACE},
            "spec": {
                "selector": {"matchLabels": {"inferencepool": "gaie-pattern1-epp"}},
                "endpoints": [{"port": 9090}],
            },
        },
    ]
    # Separate documents: a v1 List needs /openapi/v2 for kubectl's client-side validation.
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump_all(manifests))
    for resource in ("healthcheckpolicy", "gcpbackendpolicy", "podmonitoring"):
        assert "gaie-pattern1" in kubectl.run("get", resource, "-n", NAMESPACE)
    crd = _json(kubectl, "get", "crd", "healthcheckpolicies.networking.gke.io")
    assert crd["spec"]["scope"] == "Namespaced" and crd["spec"]["versions"][0]["name"] == "v1"


def _refused_job(sim: SimCluster, job: dict[str, Any]) -> Any:
    """The Status with which creating ``job`` in default is refused."""
    request = urllib.request.Request(
        sim.url + "/apis/batch/v1/namespaces/default/jobs",
        data=json.dumps(job).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    return json.loads(refused.value.read())


def test_invalid_causes_carry_the_field_error_type(sim: SimCluster) -> None:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "bad"},
        "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "busybox"}]}}},
    }
    status = _refused_job(sim, job)
    assert status["code"] == 422 and status["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
            "field": "spec.template.spec.restartPolicy",
        }
    ]


def test_a_mistyped_field_of_a_new_builtin_kind_is_a_400(sim: SimCluster) -> None:
    job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "typo", "labels": "app=web"}}
    status = _refused_job(sim, job)
    assert status["code"] == 400 and status["reason"] == "BadRequest"
    assert status["message"].startswith('Job in version "v1" cannot be handled as a Job: json: cannot unmarshal string')


def test_events_k8s_io_shares_core_event_storage(kubectl: Kubectl) -> None:
    core = _json(kubectl, "get", "events", "-n", NAMESPACE)["items"]
    new = _json(kubectl, "get", "events.v1.events.k8s.io", "-n", NAMESPACE)["items"]
    assert core and {e["metadata"]["uid"] for e in core} <= {e["metadata"]["uid"] for e in new}
    by_uid = {e["metadata"]["uid"]: e for e in new}
    first = core[0]
    seen = by_uid[first["metadata"]["uid"]]
    assert seen["apiVersion"] == "events.k8s.io/v1"
    assert seen["note"] == first["message"] and seen["regarding"] == first["involvedObject"]
    assert "message" not in seen and "involvedObject" not in seen


def test_cluster_info_dump_completes(kubectl: Kubectl, tmp_path: Path) -> None:
    out = kubectl.run("cluster-info", "dump", "--all-namespaces", f"--output-directory={tmp_path}", timeout=60)
    assert "Cluster info dumped" in out
    for name in ("replication-controllers.json", "daemonsets.json", "pods.json", "events.json"):
        assert (tmp_path / NAMESPACE / name).is_file()
    assert json.loads((tmp_path / "nodes.json").read_text())["items"]
    assert list((tmp_path / NAMESPACE).glob("*/logs.txt"))


def test_watch_list_ends_initial_events_with_annotated_bookmark(sim: SimCluster) -> None:
    path = (
        f"/api/v1/namespaces/{NAMESPACE}/services?watch=true&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
    )
    code, body = _raw(sim, path)
    events = [json.loads(line) for line in body.splitlines()]
    assert code == 200
    added = [e for e in events if e["type"] == "ADDED"]
    assert [e["object"]["metadata"]["name"] for e in added] == ["gaie-pattern1-epp"]
    mark = events[len(added)]
    assert mark["type"] == "BOOKMARK"
    assert mark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    code, body = _raw(sim, path.replace("&resourceVersionMatch=NotOlderThan", ""))
    assert code == 422 and b"sendInitialEvents requires setting resourceVersionMatch to NotOlderThan" in body


def test_watch_list_with_the_python_client(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    names, ended = [], False
    for event in watch.Watch().stream(
        core.list_namespaced_service,
        NAMESPACE,
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        allow_watch_bookmarks=True,
        timeout_seconds=5,
    ):
        if event["type"] == "BOOKMARK":
            annotations = event["raw_object"]["metadata"].get("annotations") or {}
            ended = annotations.get("k8s.io/initial-events-end") == "true"
            break
        names.append(event["object"].metadata.name)
    assert ended and names == ["gaie-pattern1-epp"]


def test_status_errors_match_the_real_server_byte_for_byte(sim: SimCluster) -> None:
    assert _raw(sim, "/api/v1/namespaces/default/pods/nope") == (404, REAL_POD_NOT_FOUND)
    assert _raw(sim, "/apis/apps/v1/namespaces/default/deployments/nope") == (404, REAL_DEPLOYMENT_NOT_FOUND)
    assert _raw(sim, "/api/v1/namespaces/default/pods/nope/nothing") == (404, REAL_PATH_NOT_FOUND)
