"""Field sets and managedFields bookkeeping, function by function."""

from __future__ import annotations

from typing import Any

import pytest

from llmd_console.sim.apiserver import managedfields
from llmd_console.sim.apiserver.errors import ApiError
from llmd_console.sim.apiserver.fieldsets import fields_of, from_fields_v1, path_string, to_fields_v1

POD_SPEC = {
    "containers": [
        {"name": "vllm", "image": "v:1", "args": ["--a"], "ports": [{"containerPort": 8000}]},
    ],
    "tolerations": [{"key": "google.com/tpu", "operator": "Exists"}],
}
WRITER = managedfields.Writer("alice", "v1", "2026-01-01T00:00:00Z")


def test_fields_v1_round_trips_and_marks_owned_nodes() -> None:
    fields = fields_of({"spec": POD_SPEC, "metadata": {"finalizers": ["x"]}})
    doc = to_fields_v1(fields)
    container = doc["f:spec"]["f:containers"]['k:{"name":"vllm"}']
    assert container["."] == {} and container["f:args"] == {}  # an atomic list is one leaf
    assert container["f:ports"] == {'k:{"containerPort":8000}': {".": {}, "f:containerPort": {}}}
    assert doc["f:spec"]["f:tolerations"] == {}  # no merge key: atomic
    assert doc["f:metadata"]["f:finalizers"] == {'v:"x"': {}}
    assert from_fields_v1(doc) == fields


def test_paths_print_as_the_api_server_prints_them() -> None:
    fields = fields_of({"spec": {"containers": [{"name": "vllm", "image": "v:1"}]}, "metadata": {"finalizers": ["x"]}})
    printed = sorted(path_string(p) for p in fields)
    assert '.spec.containers[name="vllm"].image' in printed
    assert '.metadata.finalizers[="x"]' in printed


@pytest.mark.parametrize("bad", [{"x:y": {}}, {"k:{nope": {}}, {"f:a": []}])
def test_malformed_fields_v1_is_a_422(bad: object) -> None:
    with pytest.raises(ApiError) as err:
        from_fields_v1(bad)
    assert err.value.code == 422 and "fieldsV1" in err.value.message


def test_several_conflicts_are_listed_per_manager() -> None:
    live: dict[str, Any] = {"metadata": {"name": "c"}, "data": {"a": "1", "b": "1"}}
    managedfields.record_apply(None, {"data": {"a": "1"}}, live, WRITER, force=False)
    bob = managedfields.Writer("bob", "v1", "2026-01-01T00:00:01Z")
    managedfields.record_apply(live, {"data": {"b": "1"}}, live, bob, force=False)
    merged = {
        "metadata": {"name": "c", "managedFields": live["metadata"]["managedFields"]},
        "data": {"a": "2", "b": "2"},
    }
    carol = managedfields.Writer("carol", "v1", "2026-01-01T00:00:02Z")
    with pytest.raises(ApiError) as err:
        managedfields.record_apply(live, {"data": {"a": "2", "b": "2"}}, merged, carol, force=False)
    assert err.value.code == 409
    assert err.value.message == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .data.a\nconflicts with "bob":\n- .data.b'
    )


def test_an_update_takes_the_fields_it_changed() -> None:
    live: dict[str, Any] = {"metadata": {"name": "c"}, "data": {"a": "1", "b": "1"}}
    managedfields.record_apply(None, {"data": {"a": "1", "b": "1"}}, live, WRITER, force=False)
    new = {"metadata": dict(live["metadata"]), "data": {"a": "1", "b": "2"}}
    managedfields.record_update(live, new, managedfields.Writer("edit", "v1", "2026-01-01T00:00:03Z"))
    entries = {e["manager"]: e["fieldsV1"] for e in new["metadata"]["managedFields"]}
    assert entries == {"alice": {"f:data": {"f:a": {}}}, "edit": {"f:data": {"f:b": {}}}}
    cleared = {"metadata": {**new["metadata"], "managedFields": [{}]}, "data": {"a": "1"}}
    managedfields.record_update(new, cleared, managedfields.Writer("edit", "v1", "2026-01-01T00:00:04Z"))
    assert "managedFields" not in cleared["metadata"]
