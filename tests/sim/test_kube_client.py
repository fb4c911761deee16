"""The official kubernetes client against the simulator: lists, watches, resume and 410."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import wait_for


def test_lists_every_pattern1_kind(api: client.ApiClient) -> None:
    core, apps, custom = client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)
    nodes = core.list_node().items
    tpu = [n for n in nodes if n.metadata.labels.get("cloud.google.com/gke-tpu-accelerator") == "tpu-v6e-slice"]
    assert len(nodes) == 2 and len(tpu) == 1
    assert tpu[0].metadata.labels["cloud.google.com/gke-tpu-topology"] == "2x2"
    assert tpu[0].status.allocatable["google.com/tpu"] == "4"
    assert any(t.key == "google.com/tpu" and t.effect == "NoSchedule" for t in tpu[0].spec.taints)
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="llm-d.ai/inferenceServing=true").items
    assert len(pods) == 1 and pods[0].spec.containers[0].resources.limits["google.com/tpu"] == "4"
    epp = core.list_namespaced_pod(NAMESPACE, label_selector="inferencepool=gaie-pattern1-epp").items
    assert len(epp) == 1
    deployments = {d.metadata.name for d in apps.list_namespaced_deployment(NAMESPACE).items}
    assert deployments == {"gaie-pattern1-epp", "ms-pattern1-llm-d-modelservice-decode"}
    gateways = custom.list_namespaced_custom_object("gateway.networking.k8s.io", "v1", NAMESPACE, "gateways")
    assert [g["spec"]["gatewayClassName"] for g in gateways["items"]] == ["gke-l7-regional-external-managed"]
    routes = custom.list_namespaced_custom_object("gateway.networking.k8s.io", "v1", NAMESPACE, "httproutes")
    assert [r["metadata"]["name"] for r in routes["items"]] == ["pattern1-route"]
    pools = custom.list_namespaced_custom_object("inference.networking.k8s.io", "v1", NAMESPACE, "inferencepools")
    assert pools["items"][0]["spec"]["targetPorts"] == [{"number": 8000}]
    secret = core.read_namespaced_secret("huggingface-token", NAMESPACE)
    assert set(secret.data) == {"token", "HF_TOKEN"}


def test_decode_pod_becomes_ready_and_route_is_attached(api: client.ApiClient) -> None:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)

    def ready() -> bool:
        pods = core.list_namespaced_pod(NAMESPACE, label_selector="llm-d.ai/inferenceServing=true").items
        return (
            bool(pods)
            and all(c.type != "Ready" or c.status == "True" for c in pods[0].status.conditions or [])
            and any(c.type == "Ready" for c in pods[0].status.conditions or [])
        )

    wait_for(ready, 30, message="decode pod Ready")

    def addressed() -> dict[str, Any] | None:
        gw = custom.get_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", NAMESPACE, "gateways", "infra-pattern1-inference-gateway"
        )
        return gw if gw.get("status", {}).get("addresses") else None

    gw = wait_for(
        addressed,
        10,
        message="gateway address",
    )
    assert gw["status"]["listeners"][0]["attachedRoutes"] == 1
    assert {c["type"]: c["status"] for c in gw["status"]["conditions"]} == {"Accepted": "True", "Programmed": "True"}
    route = custom.get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", NAMESPACE, "httproutes", "pattern1-route"
    )
    conds = {c["type"]: c["status"] for c in route["status"]["parents"][0]["conditions"]}
    assert conds == {"Accepted": "True", "ResolvedRefs": "True"}
    pool = custom.get_namespaced_custom_object(
        "inference.networking.k8s.io", "v1", NAMESPACE, "inferencepools", "gaie-pattern1"
    )
    assert pool["status"]["parents"][0]["parentRef"]["name"] == "infra-pattern1-inference-gateway"


def _config_map(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}}


def test_watch_delivers_changes_in_order(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
    core.create_namespaced_config_map(NAMESPACE, _config_map("order", "1"))
    core.patch_namespaced_config_map("order", NAMESPACE, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("order", NAMESPACE)
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NAMESPACE, resource_version=start, timeout_seconds=5):
        seen.append(
            (
                event["type"],
                event["object"].data.get("v") if event["object"].data else None,
                int(event["object"].metadata.resource_version),
            )
        )
        if event["type"] == "DELETED":
            w.stop()
    assert [s[:2] for s in seen] == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")]
    versions = [s[2] for s in seen]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_watch_resumes_from_a_resource_version(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(NAMESPACE, _config_map("resume", "a"))
    mark = core.read_namespaced_config_map("resume", NAMESPACE).metadata.resource_version
    core.patch_namespaced_config_map("resume", NAMESPACE, {"data": {"v": "b"}})
    core.patch_namespaced_config_map("resume", NAMESPACE, {"data": {"v": "c"}})
    w = watch.Watch()
    values = []
    for event in w.stream(
        core.list_namespaced_config_map,
        NAMESPACE,
        resource_version=mark,
        field_selector="metadata.name=resume",
        timeout_seconds=5,
    ):
        values.append(event["object"].data["v"])
        if len(values) == 2:
            w.stop()
    assert values == ["b", "c"]


def test_watch_from_a_compacted_version_gets_410(sim: SimCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    old = core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
    core.create_namespaced_config_map(NAMESPACE, _config_map("compacted", "x"))
    sim.call(lambda: sim.ctx.store.compact(keep=0))
    w = watch.Watch()
    with pytest.raises(ApiException) as err:
        for _ in w.stream(core.list_namespaced_config_map, NAMESPACE, resource_version=old, timeout_seconds=5):
            pass
    assert err.value.status == 410
    # A relist gives a fresh version that watches fine.
    fresh = core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
    got: list[str] = []

    def later_change() -> None:
        core.patch_namespaced_config_map("compacted", NAMESPACE, {"data": {"v": "y"}})

    threading.Timer(0.3, later_change).start()
    for event in w.stream(core.list_namespaced_config_map, NAMESPACE, resource_version=fresh, timeout_seconds=5):
        got.append(event["object"].data["v"])
        w.stop()
    assert got == ["y"]


def test_watch_sends_bookmarks_and_honours_timeout(sim: SimCluster, api: client.ApiClient) -> None:
    import json
    import time

    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map(NAMESPACE).metadata.resource_version
    started = time.monotonic()
    resp = core.list_namespaced_config_map(
        NAMESPACE,
        watch=True,
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=6,
        _preload_content=False,
    )
    lines = [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]
    assert time.monotonic() - started < 15
    assert any(e["type"] == "BOOKMARK" and int(e["object"]["metadata"]["resourceVersion"]) >= int(rv) for e in lines)


def test_watch_lists_existing_objects_first_for_deployments_gateways_and_pools(api: client.ApiClient) -> None:
    apps, custom = client.AppsV1Api(api), client.CustomObjectsApi(api)
    w = watch.Watch()
    names = []
    for event in w.stream(apps.list_namespaced_deployment, NAMESPACE, timeout_seconds=3):
        names.append(event["object"].metadata.name)
        if len(names) == 2:
            w.stop()
    assert sorted(names) == ["gaie-pattern1-epp", "ms-pattern1-llm-d-modelservice-decode"]
    for group, plural, expected in (
        ("gateway.networking.k8s.io", "gateways", "infra-pattern1-inference-gateway"),
        ("gateway.networking.k8s.io", "httproutes", "pattern1-route"),
        ("inference.networking.k8s.io", "inferencepools", "gaie-pattern1"),
    ):
        for event in w.stream(custom.list_namespaced_custom_object, group, "v1", NAMESPACE, plural, timeout_seconds=3):
            assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == expected
            w.stop()
