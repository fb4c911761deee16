"""Simulator at scale: a world of ~1,000 nodes and ~10,000 pods.

Prints the full pod list latency (JSON and kubectl's Table form), the watch fan-out
to 10 watchers, and the simulator's memory. Every wait has a deadline: a measurement
that passes one prints what it was waiting for and what it saw, and the run goes on. Run:

    python benchmarks/sim_scale.py [--nodes 1000] [--pods 10000] [--watchers 10] [--changes 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from functools import partial

import httpx
from bench_common import StageFailed, percentile, rss_mib, run_stages

from llmd_console.sim import SimCluster, SimOptions

PAGING_SECONDS = 120  # one full listing in pages of 500 (normally well under a second)
CONNECT_SECONDS = 60  # the watchers' watch requests to be answered
FANOUT_SECONDS = 120  # every watcher to see every change


def main() -> None:
    """Build the world, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--watchers", type=int, default=10)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    before = rss_mib()
    started = time.perf_counter()
    cluster = SimCluster(SimOptions(nodes=args.nodes, pods=args.pods)).start(timeout=600)
    build = time.perf_counter() - started
    world_mib = rss_mib() - before
    print(
        f"world: {args.nodes} nodes, {args.pods} pods built in {build:.2f} s; simulator memory +{world_mib:.0f} MiB "
        f"(RSS {rss_mib():.0f} MiB)"
    )
    client = httpx.Client(base_url=cluster.url, timeout=120)
    for label, headers in (
        ("JSON", {}),
        ("Table (kubectl get)", {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}),
    ):
        times, size = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            resp = client.get("/api/v1/pods", headers=headers)
            resp.raise_for_status()
            times.append(time.perf_counter() - t0)
            size = len(resp.content)
        print(
            f"full pod list ({label}): p50 {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms, {size / 2**20:.1f} MiB"
        )
    stages: list[tuple[str, Callable[[], None]]] = [
        ("paged pod list", lambda: paged_list(client, args.repeat)),
        ("watch fan-out", lambda: fan_out(cluster, client, args)),
    ]
    failed = run_stages(stages)
    print(f"memory after the run: RSS {rss_mib():.0f} MiB")
    cluster.stop()
    if failed:
        raise SystemExit(f"measurements that did not finish: {', '.join(failed)}")


def paged_list(client: httpx.Client, repeat: int) -> None:
    """The full pod list in pages of 500, as kubectl fetches it."""
    paged = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        token, pages, listed = "", 0, 0
        while True:
            params = {"limit": "500", **({"continue": token} if token else {})}
            body = client.get("/api/v1/pods", params=params).json()
            pages += 1
            listed += len(body.get("items") or [])
            token = body["metadata"].get("continue", "")
            if not token:
                break
            if time.perf_counter() - t0 > PAGING_SECONDS:
                raise StageFailed(
                    f"timed out after {PAGING_SECONDS} s waiting for the last page; saw {pages} pages, "
                    f"{listed} pods, the last continue token {token[:60]!r}"
                )
        paged.append(time.perf_counter() - t0)
    print(
        f"full pod list in pages of 500 (kubectl's default, {pages} pages): "
        f"p50 {statistics.median(paged) * 1000:.0f} ms"
    )


def fan_out(cluster: SimCluster, client: httpx.Client, args: argparse.Namespace) -> None:
    """Label pods; time until each of the watchers has seen each change."""
    rv = client.get("/api/v1/namespaces/team-00/pods", params={"limit": "1"}).json()["metadata"]["resourceVersion"]
    received = [0] * args.watchers
    arrival: list[list[float]] = [[] for _ in range(args.watchers)]
    ready = threading.Barrier(args.watchers + 1)
    connected = [False] * args.watchers

    def watch(i: int) -> None:
        with (
            httpx.Client(base_url=cluster.url, timeout=None) as c,
            c.stream(
                "GET", "/api/v1/pods", params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "120"}
            ) as resp,
        ):
            connected[i] = True
            try:
                ready.wait()
            except threading.BrokenBarrierError:
                return  # the main thread gave up waiting for all watchers
            for line in resp.iter_lines():
                if not line:
                    continue
                event = json.loads(line)
                if event["object"]["metadata"].get("labels", {}).get("bench") == "fanout":
                    received[i] += 1
                    arrival[i].append(time.perf_counter())
                    if received[i] >= args.changes:
                        return

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(args.watchers)]
    for t in threads:
        t.start()
    try:
        ready.wait(CONNECT_SECONDS)
    except threading.BrokenBarrierError:
        raise StageFailed(
            f"timed out after {CONNECT_SECONDS} s waiting for the {args.watchers} watchers to connect; "
            f"saw {sum(connected)} connected"
        ) from None
    time.sleep(0.5)
    pods_rt = cluster.ctx.rt("pods")
    names = [f"worker-{i:05d}" for i in range(args.changes)]
    sent: list[float] = []

    def add_label(namespace: str, name: str) -> None:
        cluster.ctx.store.mutate(
            pods_rt, namespace, name, lambda d: d["metadata"].setdefault("labels", {}).__setitem__("bench", "fanout")
        )

    t0 = time.perf_counter()
    for i, name in enumerate(names):
        namespace = f"team-{i % max(1, args.pods // 500):02d}"
        sent.append(time.perf_counter())
        cluster.call(partial(add_label, namespace, name))
    deadline = time.monotonic() + FANOUT_SECONDS
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    total = time.perf_counter() - t0
    delivered = sum(received)
    if any(t.is_alive() for t in threads):
        raise StageFailed(
            f"timed out after {FANOUT_SECONDS} s waiting for each of the {args.watchers} watchers to see the "
            f"{args.changes} changes; saw {delivered} of {args.changes * args.watchers} events "
            f"(per watcher: {received})"
        )
    lags = [arrival[w][k] - sent[k] for w in range(args.watchers) for k in range(min(len(arrival[w]), len(sent)))]
    print(
        f"watch fan-out: {args.changes} changes x {args.watchers} watchers = {delivered} events delivered in "
        f"{total:.2f} s ({delivered / total:.0f} events/s); change-to-watcher latency p50 "
        f"{percentile(lags, 50) * 1000:.1f} ms, p95 {percentile(lags, 95) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
