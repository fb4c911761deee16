"""What the console's live doctor costs per evaluation: every rule over one snapshot of a
simulated Pattern 1 (healthy, then with a fault whose finding reads logs), with the evidence the
console holds (the failing pods' logs, the Secret's key names). The console evaluates at most
once a second; this prints the time of one evaluation and of one background log read.

Run:  python benchmarks/doctor_live.py [--rounds N] [--scenario NAME]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from bench_common import SimProcess, StageFailed

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.gather import snapshot_once
from llmd_console.doctor.live import LiveEvidence, evaluate_live

WAIT_SECONDS = 120.0


async def measure(kubeconfig: str, rounds: int, want: str | None) -> tuple[list[float], float, list[str]]:
    """(seconds per evaluation, seconds of one log read, the finding ids) once ``want`` is found
    (or, with None, once there is no finding)."""
    config = Config()
    client = await KubeClient.connect(kubeconfig, None, None, 10.0)
    live = LiveEvidence()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            snapshot, state = await snapshot_once(client, config, config.cluster.namespace)
            started = time.monotonic()
            await live.read_logs(client, snapshot, config)
            read = time.monotonic() - started
            await live.read_side(client, snapshot, config)
            evidence = live.evidence(config, time.time(), Evidence.objects_of(state))
            ids = [f.id for f in evaluate_live(snapshot, evidence) or []]
            if (want in ids) if want else not ids:
                break
            if time.monotonic() > deadline:
                raise StageFailed(f"no {want or 'healthy world'} after {WAIT_SECONDS:g} s: {ids}")
            await asyncio.sleep(1.0)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            evaluate_live(snapshot, live.evidence(config, time.time(), Evidence.objects_of(state)))
            times.append(time.perf_counter() - started)
        return times, read, ids
    finally:
        await client.close()


def main() -> int:
    """Start a simulator; measure healthy, then with the scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--scenario", default="no-tpu-devices")
    parser.add_argument("--finding", default="tpu-no-devices")
    args = parser.parse_args()
    sim = SimProcess("--speed", "20")
    try:
        kubeconfig = str(sim.kubeconfig)
        healthy, healthy_read, _ = asyncio.run(measure(kubeconfig, args.rounds, None))
        httpx.put(f"{sim.url}/llmd-sim/v1/scenario", json={"name": args.scenario}, timeout=30).raise_for_status()
        faulty, faulty_read, ids = asyncio.run(measure(kubeconfig, args.rounds, args.finding))
    except StageFailed as exc:
        print(f"doctor_live: {exc}", flush=True)
        return 1
    finally:
        sim.close()
    for label, times, read in (("healthy", healthy, healthy_read), (args.scenario, faulty, faulty_read)):
        print(
            f"{label}: one evaluation median {statistics.median(times) * 1e3:.2f} ms, "
            f"worst {max(times) * 1e3:.2f} ms ({len(times)} rounds); one log read {read * 1e3:.0f} ms"
        )
    print(f"findings with {args.scenario}: {', '.join(ids)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
