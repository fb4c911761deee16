"""The simulator's OpenAPI documents: how long the first (cold) and later (cached) fetches take,
how big each document is, and what field validation adds to a write. Run:

    python benchmarks/sim_openapi.py [--writes 200]
"""

from __future__ import annotations

import argparse
import time

import httpx

from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE

CM = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


def timed_get(client: httpx.Client, url: str) -> tuple[float, int]:
    """Seconds and bytes of one GET."""
    started = time.monotonic()
    resp = client.get(url)
    resp.raise_for_status()
    return time.monotonic() - started, len(resp.content)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    with SimCluster(SimOptions(speed=50)) as sim, httpx.Client(base_url=sim.url, timeout=120) as client:
        took, size = timed_get(client, "/openapi/v3")
        print(f"/openapi/v3 index: {took * 1000:.0f} ms, {size} bytes")
        for rel, entry in client.get("/openapi/v3").json()["paths"].items():
            cold, size = timed_get(client, entry["serverRelativeURL"])
            warm, _ = timed_get(client, entry["serverRelativeURL"])
            print(f"{rel}: first {cold * 1000:.0f} ms, cached {warm * 1000:.1f} ms, {size / 1024:.0f} KiB")
        cold, size = timed_get(client, "/openapi/v2")
        print(f"/openapi/v2: {cold * 1000:.0f} ms, {size / 1024:.0f} KiB")
        for mode in ("Ignore", "Strict"):
            started = time.monotonic()
            for i in range(args.writes):
                body = {"metadata": {"name": f"bench-{mode.lower()}-{i}"}, "data": {"k": "v"}}
                client.post(CM, json=body, params={"fieldValidation": mode}).raise_for_status()
            per_write = (time.monotonic() - started) / args.writes
            print(f"ConfigMap create with fieldValidation={mode}: {per_write * 1000:.2f} ms each")


if __name__ == "__main__":
    main()
