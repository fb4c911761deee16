"""How long ``llmd-console check`` takes on a healthy simulated Pattern 1 cluster (the
issue's bar: under 10 s), from the command's start to its exit, as a CI job runs it.

The simulator runs at real speed (``--speed 1``) once its world is healthy, so inference
latencies are the runbook's, not compressed. Every run must exit 0; a run that does not says
why. Prints the median and the worst of several runs, and the check's own ``seconds`` (the
gathering, without the interpreter's start).

Run:  python benchmarks/check_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from bench_common import SimProcess, StageFailed

HEALTHY_SECONDS = 120.0


def check(kubeconfig: str) -> tuple[float, int, dict[str, object]]:
    """One ``check --json`` run: wall seconds, exit code, the document."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "llmd_console", "check", "--json", "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise StageFailed(f"check printed no JSON (exit {proc.returncode}): {proc.stderr[-400:]}") from None
    return seconds, proc.returncode, doc


def main() -> int:
    """Start a simulator, wait until check says healthy, then time several runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--speed", type=float, default=60.0, help="simulator speed while it starts up (default 60)")
    args = parser.parse_args()
    sim = SimProcess("--speed", str(args.speed))
    try:
        kubeconfig = str(sim.kubeconfig)
        deadline = time.monotonic() + HEALTHY_SECONDS
        while True:
            _, code, doc = check(kubeconfig)
            if code == 0:
                break
            if time.monotonic() > deadline:
                raise StageFailed(f"the cluster did not become healthy in {HEALTHY_SECONDS:g} s: {doc.get('findings')}")
            time.sleep(1.0)
        walls, inner = [], []
        for _ in range(args.runs):
            seconds, code, doc = check(kubeconfig)
            if code != 0:
                raise StageFailed(f"a run exited {code}: {doc.get('findings')}")
            walls.append(seconds)
            inner.append(float(str(doc["seconds"])))
    except StageFailed as exc:
        print(f"check_time: {exc}", flush=True)
        return 1
    finally:
        sim.close()
    print(f"llmd-console check on a healthy simulated Pattern 1 ({args.runs} runs, simulator speed x{args.speed:g}):")
    print(f"  command start to exit: median {statistics.median(walls):.2f} s, worst {max(walls):.2f} s (bar: 10 s)")
    print(f"  gathering and rules:   median {statistics.median(inner):.2f} s, worst {max(inner):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
