"""Random and malformed requests at every API route: each answer is a 2xx or a Kubernetes
Status with a 4xx code, and the server still answers /version promptly afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import TEST_SPEED, wait_for

NS = NAMESPACE
# (collection path, kind, apiVersion) for the types the world serves.
COLLECTIONS = [
    (f"/api/v1/namespaces/{NS}/pods", "Pod", "v1"),
    (f"/api/v1/namespaces/{NS}/services", "Service", "v1"),
    (f"/api/v1/namespaces/{NS}/configmaps", "ConfigMap", "v1"),
    (f"/api/v1/namespaces/{NS}/secrets", "Secret", "v1"),
    (f"/api/v1/namespaces/{NS}/events", "Event", "v1"),
    (f"/api/v1/namespaces/{NS}/endpoints", "Endpoints", "v1"),
    (f"/api/v1/namespaces/{NS}/serviceaccounts", "ServiceAccount", "v1"),
    ("/api/v1/namespaces", "Namespace", "v1"),
    ("/api/v1/nodes", "Node", "v1"),
    (f"/apis/apps/v1/namespaces/{NS}/deployments", "Deployment", "apps/v1"),
    (f"/apis/apps/v1/namespaces/{NS}/replicasets", "ReplicaSet", "apps/v1"),
    ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "CustomResourceDefinition", "apiextensions.k8s.io/v1"),
    (f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/gateways", "Gateway", "gateway.networking.k8s.io/v1"),
    (f"/apis/gateway.networking.k8s.io/v1/namespaces/{NS}/httproutes", "HTTPRoute", "gateway.networking.k8s.io/v1"),
    (
        f"/apis/inference.networking.k8s.io/v1/namespaces/{NS}/inferencepools",
        "InferencePool",
        "inference.networking.k8s.io/v1",
    ),
]
OTHER_PATHS = [
    "/version",
    "/api",
    "/apis",
    "/api/v1",
    "/apis/apps/v1",
    "/apis/nonexistent/v1",
    "/openapi/v3",
    "/openapi/v3/api/v1",
    "/openapi/v2",
    "/api/v1/namespaces/missing/pods",
    "/apis/apps/v1/deployments",
]
SUBRESOURCES = ["", "", "", "/status", "/scale", "/log", "/eviction", "/finalize"]
CONTENT_TYPES = [
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
]
QUERY_KEYS = [
    "labelSelector",
    "fieldSelector",
    "limit",
    "continue",
    "resourceVersion",
    "timeoutSeconds",
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "limitBytes",
    "container",
    "previous",
    "timestamps",
    "gracePeriodSeconds",
    "propagationPolicy",
    "dryRun",
    "includeObject",
]
NUMBERS = ["nan", "inf", "-inf", "1e400", "-1", "0", "1", "10", "9" * 25, "1.5", " 2", "0x10"]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
names = st.one_of(
    st.sampled_from(
        ["fuzz", "fuzz-a", "x", "a.b", "UPPER", "", "-x", "x\n", "a/b", "..", "llm-d-inference-scheduling"]
    ),
    st.text(max_size=30),
)
FIELDS = ["metadata", "spec", "status", "data", "kind", "apiVersion", "subsets", "type", "stringData"]


CONTAINER = {
    "name": "c",
    "image": "busybox",
    "args": ["yes"],
    "ports": [{"containerPort": 8000, "name": "http"}],
    "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "1Gi"}},
    "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 5},
    "env": [{"name": "A", "value": "b"}],
}
TEMPLATE = {"metadata": {"labels": {"app": "f"}}, "spec": {"containers": [CONTAINER]}}
VALID_SPECS: dict[str, dict[str, Any]] = {
    "Pod": {"spec": {"containers": [CONTAINER], "nodeSelector": {"a": "b"}, "tolerations": [{"key": "k"}]}},
    "Service": {"spec": {"selector": {"app": "f"}, "ports": [{"port": 80, "targetPort": "http"}]}},
    "ConfigMap": {"data": {"a": "b"}},
    "Secret": {"data": {"a": "YQ=="}, "stringData": {"b": "c"}},
    "Deployment": {
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "f"}},
            "template": TEMPLATE,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        }
    },
    "ReplicaSet": {"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "f"}}, "template": TEMPLATE}},
    "Namespace": {"spec": {"finalizers": ["kubernetes"]}},
    "Gateway": {"spec": {"gatewayClassName": "gke-l7-rilb", "listeners": [{"name": "h", "port": 80}]}},
    "HTTPRoute": {
        "spec": {
            "parentRefs": [{"name": "g"}],
            "rules": [
                {"backendRefs": [{"kind": "InferencePool", "name": "p", "group": "inference.networking.k8s.io"}]}
            ],
        }
    },
    "InferencePool": {
        "spec": {
            "selector": {"matchLabels": {"app": "f"}},
            "targetPorts": [{"number": 8000}],
            "endpointPickerRef": {"name": "e", "port": {"number": 9002}},
        }
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@st.composite
def mutated_objects(draw: st.DrawFn, kind: str, api_version: str) -> Any:
    """A valid object of the kind with one value somewhere replaced by a random one."""
    suffix = draw(st.integers(0, 10_000))
    obj: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": f"fz-{suffix}", "labels": {"app": "f"}, "annotations": {"a": "b"}},
        **json.loads(json.dumps(VALID_SPECS.get(kind, {}))),
    }
    if draw(st.integers(0, 3)) == 0:
        return obj  # left valid: creates, updates and deletes get exercised too
    path = draw(st.sampled_from(_paths(obj)[1:]))
    target: Any = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(json_value)
    return obj


@st.composite
def object_bodies(draw: st.DrawFn, kind: str, api_version: str) -> Any:
    """An object of roughly the right shape with random holes, types and values."""
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": draw(names)}}
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        obj[field] = draw(json_value)
    if draw(st.booleans()):
        obj["metadata"] = {
            draw(st.sampled_from(["name", "labels", "annotations", "uid", "namespace", "ownerReferences"])): draw(
                json_value
            ),
            "name": draw(names),
        }
    return obj


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, str], bytes]:
    """(method, path, query, headers, body)."""
    if draw(st.integers(0, 9)) == 0:
        path = draw(st.sampled_from(OTHER_PATHS))
        kind, api_version = "Pod", "v1"
    else:
        collection, kind, api_version = draw(st.sampled_from(COLLECTIONS))
        path = collection
        if draw(st.booleans()):
            name = draw(
                st.one_of(
                    st.sampled_from(["fuzz", "fuzz-a", "missing"]),
                    st.integers(0, 10_000).map(lambda n: f"fz-{n}"),
                    st.text(min_size=1, max_size=12),
                )
            )
            path = f"{collection}/{quote(name, safe='')}" + draw(st.sampled_from(SUBRESOURCES))
    method = draw(st.sampled_from(["GET", "GET", "POST", "PUT", "PATCH", "DELETE"]))
    query: dict[str, str] = {}
    for key in draw(st.lists(st.sampled_from(QUERY_KEYS), max_size=3, unique=True)) if draw(st.booleans()) else ():
        query[key] = draw(st.one_of(st.sampled_from(NUMBERS), st.text(max_size=15)))
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    shape = draw(st.integers(0, 8))
    body: bytes
    if shape == 0:
        body = draw(st.binary(max_size=64))
    elif shape == 1:
        body = json.dumps(draw(json_value)).encode()
    elif shape == 2 and "json-patch" in ctype:
        ops = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "x"])},
                    optional={
                        "path": st.sampled_from(["/metadata/uid", "/metadata/name", "/spec", "/data/a", "", "x"]),
                        "value": json_value,
                        "from": st.sampled_from(["/metadata", "/spec", "/nope"]),
                    },
                ),
                max_size=3,
            )
        )
        body = json.dumps(ops).encode()
    elif shape == 3:
        body = ("[" * draw(st.integers(90, 3000))).encode()
    else:
        obj = draw(st.one_of(mutated_objects(kind, api_version), object_bodies(kind, api_version)))
        body = (yaml.safe_dump(obj) if "yaml" in ctype else json.dumps(obj)).encode()
    return method, path, query, {"Content-Type": ctype}, body


@pytest.fixture(scope="module")
def fuzz_sim() -> Iterator[SimCluster]:
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=5)) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def http(fuzz_sim: SimCluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fuzz_sim.url, timeout=15) as client:
        yield client


def assert_answer(resp: httpx.Response) -> None:
    if 200 <= resp.status_code < 300:
        return
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    body = resp.json()
    assert body["kind"] == "Status" and body["status"] == "Failure", body
    assert body["code"] == resp.status_code and isinstance(body["reason"], str) and body["reason"], body


@settings(
    max_examples=1500,  # about 20 s
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests())
def test_random_requests_get_2xx_or_a_4xx_status(
    http: httpx.Client, request: tuple[str, str, dict[str, str], dict[str, str], bytes]
) -> None:
    method, path, query, headers, body = request
    # Streams (watch, follow) and the pod proxy are covered elsewhere; they are not one-shot answers.
    query.pop("watch", None)
    query.pop("follow", None)
    if "/proxy" in path:
        return
    resp = http.request(method, path, params=query, headers=headers, content=body if method != "GET" else None)
    assert_answer(resp)


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """A healthy cluster's gateway URL (its own cluster: the API fuzzing deletes things),
    once it routes to a ready model server; inference is instant."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=6, latency_scale=0)) as cluster:
        url = f"http://{cluster.ctx.gateway_address}"
        body = {"model": MODEL, "prompt": "hi", "max_tokens": 1}
        wait_for(
            lambda: httpx.post(f"{url}/v1/completions", json=body, timeout=10).status_code == 200,
            timeout=60,
            message="the gateway to serve",
        )
        yield url


inference_bodies = st.one_of(
    st.binary(max_size=64),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"model": st.one_of(st.just(MODEL), st.text(max_size=8))},
        optional={
            "prompt": json_value,
            "messages": json_value,
            "max_tokens": st.one_of(st.integers(-5, 300), json_value),
            "max_completion_tokens": json_value,
            "stream": json_value,
            "stream_options": json_value,
            "stop": json_value,
            "n": json_value,
            "ignore_eos": json_value,
        },
    ).map(lambda v: json.dumps(v).encode()),
    st.integers(90, 5000).map(lambda n: b'{"model": "m", "prompt": ' + b"[" * n + b"]" * n + b"}"),
)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    route=st.sampled_from(["/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/nope"]),
    method=st.sampled_from(["POST", "POST", "GET"]),
    body=inference_bodies,
)
def test_random_inference_requests_at_the_gateway(gateway: str, route: str, method: str, body: bytes) -> None:
    url = f"{gateway}{route}"
    resp = httpx.request(method, url, content=body if method == "POST" else None, timeout=15)
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])


def test_still_serving_promptly_after_the_fuzzing(http: httpx.Client) -> None:
    best = min(_timed(http) for _ in range(5))
    assert best < 0.1
    assert http.get(f"/api/v1/namespaces/{NS}/pods").status_code == 200


def _timed(http: httpx.Client) -> float:
    started = time.monotonic()
    assert http.get("/version").status_code == 200
    return time.monotonic() - started
