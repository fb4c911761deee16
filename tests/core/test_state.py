"""The state layer on its own: batches in, immutable snapshots out."""

from __future__ import annotations

from typing import Any

import pytest

from llmd_console.cluster.kube import KINDS
from llmd_console.cluster.watch import Batch
from llmd_console.models import KindState, UnknownKind
from llmd_console.state import ClusterState

NS = "llm-d-inference-scheduling"


def pod(name: str, rv: str, *, node: str = "", phase: str = "Running", tpu: int = 0) -> dict[str, Any]:
    limits = {"google.com/tpu": str(tpu)} if tpu else {}
    return {
        "metadata": {"name": name, "namespace": NS, "resourceVersion": rv, "labels": {"llm-d.ai/role": "decode"}},
        "spec": {"nodeName": node, "containers": [{"name": "vllm", "resources": {"limits": limits}}]},
        "status": {"phase": phase, "containerStatuses": [{"name": "vllm", "ready": True, "restartCount": 0}]},
    }


def node(name: str, rv: str = "1", chips: int = 4) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "resourceVersion": rv,
            "labels": {
                "cloud.google.com/gke-nodepool": "tpu-v6e-pool",
                "cloud.google.com/gke-tpu-accelerator": "tpu-v6e-slice",
                "cloud.google.com/gke-tpu-topology": "2x2",
            },
        },
        "status": {"allocatable": {"google.com/tpu": str(chips)}, "conditions": [{"type": "Ready", "status": "True"}]},
    }


def event(name: str, rv: str, about: str, reason: str, seen: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS, "resourceVersion": rv},
        "involvedObject": {"kind": "Pod", "name": about, "namespace": NS},
        "reason": reason,
        "message": f"{reason} happened",
        "type": "Warning",
        "lastTimestamp": seen,
    }


def state() -> ClusterState:
    return ClusterState(KINDS, namespace=NS, prices={"tpu-v6e-slice": 1.25})


def test_apply_builds_models_and_leaves_old_snapshots_alone() -> None:
    s = state()
    first = s.apply(Batch(relisted={"nodes": [node("tpu-1")], "pods": [pod("decode-a", "5", node="tpu-1", tpu=4)]}))
    assert first.pods[f"{NS}/decode-a"].chips == 4
    assert first.nodes["tpu-1"].chips_used == 4
    assert first.slices["tpu-1"].owners == ("decode-a",) * 4
    assert first.pools[0].cost_per_hour == pytest.approx(5.0)
    second = s.apply(Batch(changed={"pods": {f"{NS}/decode-a": None}}))
    assert second.version == first.version + 1
    assert f"{NS}/decode-a" not in second.pods and second.nodes["tpu-1"].chips_used == 0
    assert second.slices["tpu-1"].owners == ("",) * 4
    # The first snapshot is what it was: panes holding it never see a half-applied batch.
    assert f"{NS}/decode-a" in first.pods and first.nodes["tpu-1"].chips_used == 4
    with pytest.raises(TypeError):
        first.pods["x"] = first.pods[f"{NS}/decode-a"]  # type: ignore[index]


def test_changes_name_what_moved_and_an_empty_batch_keeps_the_snapshot() -> None:
    s = state()
    s.apply(Batch(relisted={"pods": [pod("a", "1"), pod("b", "1")]}))
    snap = s.apply(Batch(changed={"pods": {f"{NS}/b": pod("b", "2", phase="Pending")}}))
    assert snap.changes is not None and snap.changes.kinds == {"pods": frozenset({f"{NS}/b"})}
    assert snap.touched("pods") and not snap.touched("nodes")
    assert s.apply(Batch()) is snap


def test_a_relist_after_410_replaces_the_kind_and_reports_only_real_differences() -> None:
    s = state()
    a, b = pod("a", "1"), pod("b", "1")
    s.apply(Batch(relisted={"pods": [a, b]}))
    # After 410 Gone the watch lists again: a unchanged, b gone, c new.
    snap = s.apply(Batch(relisted={"pods": [pod("a", "1"), pod("c", "3")]}))
    assert set(snap.pods) == {f"{NS}/a", f"{NS}/c"}
    assert snap.changes is not None and snap.changes.kinds["pods"] == {f"{NS}/b", f"{NS}/c"}


def test_events_are_grouped_by_object_oldest_first_and_follow_deletes() -> None:
    s = state()
    s.apply(
        Batch(
            relisted={
                "events": [
                    event("e2", "12", "a", "BackOff", "2026-11-28T10:00:05Z"),
                    event("e1", "11", "a", "Pulled", "2026-11-28T10:00:01Z"),
                    event("e3", "13", "b", "Scheduled", "2026-11-28T10:00:02Z"),
                ]
            }
        )
    )
    snap = s.snapshot
    assert [e.reason for e in snap.events_of(f"{NS}/a")] == ["Pulled", "BackOff"]
    snap = s.apply(Batch(changed={"events": {f"{NS}/e3": None}}))
    assert snap.events_of(f"{NS}/b") == ()


def test_unknown_kinds_are_errors_not_empty() -> None:
    s = state()
    with pytest.raises(UnknownKind):
        s.raw("secrets")
    with pytest.raises(UnknownKind):
        s.snapshot.status_of("secrets")
    with pytest.raises(UnknownKind):
        s.apply(Batch(changed={"secrets": {}}))
    snap = s.apply(Batch(states={"pods": KindState("live")}))
    assert snap.status_of("pods").status == "live" and snap.status_of("nodes").status == "loading"


def test_a_malformed_pod_gets_an_unreadable_row() -> None:
    s = state()
    bad = pod("bad", "1")
    bad["status"]["containerStatuses"][0]["restartCount"] = "many"
    snap = s.apply(Batch(relisted={"pods": [bad]}))
    assert snap.pods[f"{NS}/bad"].status.startswith("unreadable")
