"""Memory the simulator holds for logs and watch history is bounded."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster
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
