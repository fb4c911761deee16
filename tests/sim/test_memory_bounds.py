"""Memory the simulator holds for logs and watch history is bounded."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster
from llmd_console.sim.runtime.context import EVENT_TRIM_EVERY
from llmd_console.sim.runtime.logs import MAX_BYTES_PER_CONTAINER, ContainerLog
from llmd_console.sim.worlds.world import NAMESPACE
from tests.conftest import wait_for

PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
CM = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


@pytest.fixture(scope="module")
def http(sim: SimCluster) -> httpx.Client:
    return httpx.Client(base_url=sim.url, timeout=30)


def test_a_log_buffer_is_bounded_in_bytes() -> None:
    log = ContainerLog()
    line = "x" * (1024 * 1024)
    for _ in range(100):
        log.write(0.0, line)
    assert log.size <= MAX_BYTES_PER_CONTAINER
    assert len(log.lines) == MAX_BYTES_PER_CONTAINER // len(line)
    assert log.written == 100
    log.write(0.0, "y" * (MAX_BYTES_PER_CONTAINER + 5))
    assert log.size <= MAX_BYTES_PER_CONTAINER and len(log.lines) == 1
    log.write(0.0, "é\ud800")
    assert log.lines[-1][1] == "é\ufffd"


def test_a_pod_printing_megabyte_lines_stays_bounded(sim: SimCluster, http: httpx.Client) -> None:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "megabyte-lines"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["yes", "m" * (1024 * 1024)]}]},
    }
    assert http.post(PODS, json=pod).status_code == 201

    def log_of() -> ContainerLog | None:
        current = sim.ctx.store.get("pods", NAMESPACE, "megabyte-lines")
        if current is None:
            return None
        log = sim.ctx.logs.current(current["metadata"]["uid"], "c")
        return log if log is not None and log.written > 200 else None

    log = wait_for(lambda: sim.call(log_of), timeout=30, message="a megabyte-line log")
    assert sim.call(lambda: log.size) <= MAX_BYTES_PER_CONTAINER
    started = time.monotonic()
    resp = http.get(f"{PODS}/megabyte-lines/log")
    assert resp.status_code == 200 and len(resp.content) <= MAX_BYTES_PER_CONTAINER + 1000
    assert time.monotonic() - started < 5
    http.delete(f"{PODS}/megabyte-lines", params={"gracePeriodSeconds": "0"})


def _churn(http: httpx.Client, name: str, count: int, size: int = 100) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": ""}}
    assert http.post(CM, json=body).status_code in (201, 409)
    for i in range(count):
        patch = json.dumps({"data": {"v": (str(i) * size)[:size]}})
        assert (
            http.patch(
                f"{CM}/{name}", content=patch, headers={"Content-Type": "application/merge-patch+json"}
            ).status_code
            == 200
        )


def test_watch_history_is_bounded_by_count_bytes_and_age(sim: SimCluster, http: httpx.Client) -> None:
    store = sim.ctx.store
    saved = (store.history_limit, store.history_bytes, store.history_seconds)
    try:
        sim.call(lambda: setattr(store, "history_limit", 300))
        _churn(http, "churn-count", 400)
        events, _, _ = sim.call(store.history)
        assert events <= 300
        # A watch from before the compaction is told to relist; one from now still works.
        resp = http.get(CM, params={"watch": "true", "resourceVersion": "2", "timeoutSeconds": "1"})
        assert '"code":410' in resp.text
        rv = http.get(CM).json()["metadata"]["resourceVersion"]
        resp = http.get(CM, params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"})
        assert resp.status_code == 200 and '"ERROR"' not in resp.text

        sim.call(lambda: setattr(store, "history_limit", 100_000))
        sim.call(lambda: setattr(store, "history_bytes", 200_000))
        _churn(http, "churn-bytes", 300, size=2000)
        _, size, _ = sim.call(store.history)
        assert size <= 200_000

        sim.call(lambda: setattr(store, "history_bytes", 64 * 1024 * 1024))
        sim.call(lambda: setattr(store, "history_seconds", 0.5))

        def aged_out() -> bool:
            _churn(http, "churn-age", 1)
            events, _, oldest = sim.call(store.history)
            return events < 700 and oldest < 0.5 + 1.0  # the age check runs once a second

        wait_for(aged_out, timeout=10, message="old events to age out")
    finally:

        def restore() -> None:
            store.history_limit, store.history_bytes, store.history_seconds = saved

        sim.call(restore)


def test_events_are_bounded_in_count_and_age(sim: SimCluster, http: httpx.Client) -> None:
    ctx = sim.ctx
    saved = (ctx.max_events, ctx.event_ttl)
    pod = http.get(PODS).json()["items"][0]
    try:
        sim.call(lambda: setattr(ctx, "max_events", 100))

        def churn() -> None:
            for i in range(EVENT_TRIM_EVERY * 2):
                ctx.record_event(pod, "Normal", "Churn", f"message {i}", "test")

        sim.call(churn)
        count = len(http.get(f"/api/v1/namespaces/{NAMESPACE}/events").json()["items"])
        assert count <= 100 + EVENT_TRIM_EVERY
        assert sim.call(lambda: len(ctx._event_index)) <= 100 + EVENT_TRIM_EVERY
        # Events past their TTL go at the next trim.
        sim.call(lambda: setattr(ctx, "event_ttl", -10.0))
        sim.call(ctx.trim_events)
        assert http.get(f"/api/v1/namespaces/{NAMESPACE}/events").json()["items"] == []
    finally:

        def restore() -> None:
            ctx.max_events, ctx.event_ttl = saved

        sim.call(restore)
