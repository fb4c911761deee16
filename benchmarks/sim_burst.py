"""Simulator under bursts: how long /version takes while a Deployment scales up and down,
and what churn does to the simulator's memory.

A separate process times GET /version every 20 ms (so the probe does not share this
process's GIL with the simulator's thread) while a Deployment of ``busybox`` pods scales
from 0 to ``--replicas`` and back, then ConfigMaps are patched ``--churn`` times. Run:

    python benchmarks/sim_burst.py [--replicas 2000] [--churn 20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import httpx
from bench_common import percentile, rss_mib

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE

PROBE = """
import json, sys, time, httpx
out = []
with httpx.Client(base_url=sys.argv[1], timeout=60) as client:
    print("ready", flush=True)
    while sys.stdin.readline().startswith("go"):
        started = time.monotonic()
        client.get("/version")
        out.append(time.monotonic() - started)
        print("tick", flush=True)
print(json.dumps(out), flush=True)
"""
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"


def probe_while(url: str, done: object) -> list[float]:
    """/version latencies measured from another process until ``done()`` is true."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PROBE, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    assert callable(done)
    while not done():
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.stdout.readline()
        time.sleep(0.02)
    out, _ = proc.communicate("stop\n", timeout=60)
    return list(json.loads(out.strip().splitlines()[-1]))


def report(label: str, took: float, latencies: list[float]) -> None:
    """One line of results."""
    if not latencies:
        print(f"{label}: {took:.1f} s; over before the first /version probe answered (no latency figure)")
        return
    print(
        f"{label}: {took:.1f} s; /version p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms ({len(latencies)} probes)"
    )


def main() -> None:
    """Scale up, scale down, churn; print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicas", type=int, default=2000)
    parser.add_argument("--churn", type=int, default=20000)
    args = parser.parse_args()

    cluster = SimCluster(SimOptions(speed=200.0, seed=1)).start()
    client = httpx.Client(base_url=cluster.url, timeout=60)
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "burst"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "burst"}},
            "template": {
                "metadata": {"labels": {"app": "burst"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    client.post(DEPLOYMENTS, json=body).raise_for_status()

    def scale(n: int) -> None:
        resp = client.patch(
            f"{DEPLOYMENTS}/burst/scale",
            content=json.dumps({"spec": {"replicas": n}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        resp.raise_for_status()

    def replicas() -> int:
        return int(client.get(f"{DEPLOYMENTS}/burst").json().get("status", {}).get("replicas", 0))

    before = rss_mib()
    for target in (args.replicas, 0):
        started = time.monotonic()
        scale(target)
        latencies = probe_while(cluster.url, lambda target=target: replicas() == target)
        report(f"scale to {target}", time.monotonic() - started, latencies)
    print(f"memory after the scale-up and down: RSS {rss_mib():.0f} MiB ({rss_mib() - before:+.0f} MiB)")

    cm = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
    client.post(cm, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "churn"}}).raise_for_status()
    before = rss_mib()
    started = time.monotonic()
    for i in range(args.churn):
        client.patch(
            f"{cm}/churn",
            content=json.dumps({"data": {"v": str(i) * 50}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ).raise_for_status()
    events, size, oldest = cluster.call(cluster.ctx.store.history)
    print(
        f"{args.churn} patches in {time.monotonic() - started:.1f} s; watch history {events} events, "
        f"{size / 2**20:.1f} MiB, oldest {oldest:.0f} s; RSS {rss_mib():.0f} MiB ({rss_mib() - before:+.0f} MiB)"
    )
    cluster.stop()


if __name__ == "__main__":
    main()
