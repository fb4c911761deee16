"""Large scale-ups are bounded and spread over event-loop turns: the API keeps answering."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.controllers.workloads import BURST_REPLICAS
from llmd_console.sim.worlds.world import CLUSTER, LOCATION, NAMESPACE, PROJECT
from tests.conftest import TEST_SPEED, wait_for

DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
MIN_SAMPLES = 20
POOLS = f"/v1/projects/{PROJECT}/locations/{LOCATION}/clusters/{CLUSTER}/nodePools"


@pytest.fixture
def cluster() -> Iterator[SimCluster]:
    """A fresh cluster per test: these tests create thousands of objects."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=3)) as c:
        yield c


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


PROBE = """
import json, sys, time, httpx
out = []
with httpx.Client(base_url=sys.argv[1], timeout=30) as client:
    print("ready", flush=True)
    while not sys.stdin.readline().startswith("stop"):
        started = time.monotonic()
        assert client.get("/version").status_code == 200
        out.append(time.monotonic() - started)
        print("tick", flush=True)
print(json.dumps(out), flush=True)
"""


class VersionProbe:
    """Times GET /version from another process (so the probe does not compete with the
    simulator's thread for this process's GIL), one request per tick, every 20 ms."""

    def __init__(self, url: str) -> None:
        self.latencies: list[float] = []
        self.ticks = 0
        self._proc = subprocess.Popen(
            [sys.executable, "-c", PROBE, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drive, daemon=True)

    def _drive(self) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        while not self._stop.wait(0.02):
            self._proc.stdin.write("go\n")
            self._proc.stdin.flush()
            self._proc.stdout.readline()
            self.ticks += 1

    def __enter__(self) -> VersionProbe:
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "ready"
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        wait_for(lambda: self.ticks >= MIN_SAMPLES, timeout=30, message=f"{MIN_SAMPLES} probes")
        self._stop.set()
        self._thread.join(30)
        out, _ = self._proc.communicate("stop\n", timeout=30)
        self.latencies = json.loads(out.strip().splitlines()[-1])


def pods_of(cluster: SimCluster, app: str) -> int:
    return cluster.call(
        lambda: sum(1 for p in cluster.ctx.store.list("pods") if p["metadata"]["labels"].get("app") == app)
    )


def test_scaling_to_2000_keeps_the_api_responsive(cluster: SimCluster) -> None:
    http = httpx.Client(base_url=cluster.url, timeout=30)
    assert http.post(DEPLOYMENTS, json=deployment("wide", 0)).status_code == 201
    with VersionProbe(cluster.url) as probe:
        resp = http.patch(
            f"{DEPLOYMENTS}/wide/scale",
            content='{"spec": {"replicas": 2000}}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert resp.status_code == 200
        seen: list[int] = []
        wait_for(lambda: count_into(seen, pods_of(cluster, "wide")) >= 2000, timeout=60, message="2000 pods")
        wait_for(
            lambda: http.get(f"{DEPLOYMENTS}/wide").json().get("status", {}).get("replicas") == 2000,
            timeout=60,
            message="the Deployment to count 2000 replicas",
        )
    assert_spread(seen, 2000, probe.latencies)


def count_into(seen: list[int], count: int) -> int:
    """Record a count seen while waiting, and return it."""
    seen.append(count)
    return count


def assert_spread(seen: list[int], total: int, latencies: list[float]) -> None:
    """The work was spread over event-loop turns, which is what keeps the API answering: calls
    into the simulator's loop, made while it worked, found it part-way (a single synchronous
    block would show only 0 and the total), and every /version the probe sent was answered.
    How fast is not asserted here (machines are noisy): benchmarks/sim_burst.py prints it."""
    assert any(0 < n < total for n in seen), f"only saw {sorted(set(seen))[:5]} ... of {total}"
    assert len(latencies) >= 10


def test_a_billion_replicas_is_accepted_but_created_in_bursts(cluster: SimCluster) -> None:
    http = httpx.Client(base_url=cluster.url, timeout=30)
    with VersionProbe(cluster.url) as probe:
        assert http.post(DEPLOYMENTS, json=deployment("huge", 1_000_000_000)).status_code == 201
        seen: list[int] = []
        wait_for(
            lambda: count_into(seen, pods_of(cluster, "huge")) >= 3 * BURST_REPLICAS,
            timeout=30,
            message="three bursts",
        )
    assert_spread(seen, 3 * BURST_REPLICAS, probe.latencies)
    resp = http.patch(
        f"{DEPLOYMENTS}/huge/scale",
        content='{"spec": {"replicas": 0}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status_code == 200
    wait_for(lambda: pods_of(cluster, "huge") == 0, timeout=60, message="the scale-down")
    # int32 is the API's bound for replicas.
    resp = http.post(DEPLOYMENTS, json=deployment("too-big", 2**31))
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"


def test_node_pool_size_is_bounded(cluster: SimCluster) -> None:
    http = httpx.Client(base_url=cluster.url, timeout=30)
    pool = http.get(POOLS).json()["nodePools"][0]["name"]
    resp = http.post(f"{POOLS}/{pool}:setSize", json={"nodeCount": 100_000_000})
    assert resp.status_code == 400
    assert resp.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "at most 1000" in resp.json()["error"]["message"]
    with VersionProbe(cluster.url) as probe:
        resp = http.post(f"{POOLS}/{pool}:setSize", json={"nodeCount": 1000})
        assert resp.status_code == 200, resp.text
        seen: list[int] = []

        wait_for(
            lambda: count_into(seen, len(cluster.call(lambda: cluster.ctx.store.list("nodes")))) >= 1000,
            timeout=60,
            message="1000 nodes",
        )
    assert_spread(seen, 1000, probe.latencies)
