"""Port-forward and exec through the real kubectl: what a request through a forward costs, and
what an exec costs next to a plain ``kubectl get``.

The simulator runs in a subprocess; kubectl forwards a local port to the decode pod's vLLM
(WebSocket-tunnelled SPDY, then plain SPDY) and GETs go through it, each on a new connection
and then several at once. Run:

    python benchmarks/sim_streams.py [--requests 300] [--concurrency 8] [--execs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from bench_common import SimProcess, StageFailed, percentile, run_stages

from llmd_console.sim.worlds.world import NAMESPACE

SELECTOR = "llm-d.ai/inferenceServing=true"


def free_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def figures(label: str, seconds: list[float]) -> None:
    """p50/p95/max in milliseconds."""
    ms = [s * 1000 for s in seconds]
    print(
        f"{label}: n={len(ms)} p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms"
    )


def main() -> None:
    """Measure each stage and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--execs", type=int, default=20)
    args = parser.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not installed")
    sim = SimProcess("--speed", "200")
    env = {**os.environ, "KUBECONFIG": str(sim.kubeconfig)}

    def run(*argv: str) -> str:
        return subprocess.run([kubectl, *argv], env=env, capture_output=True, text=True, check=True).stdout

    try:
        run("wait", "--for=condition=Ready", "pod", "-l", SELECTOR, "-n", NAMESPACE, "--timeout=120s")
        pod = run("get", "pods", "-n", NAMESPACE, "-l", SELECTOR, "-o", "jsonpath={.items[0].metadata.name}")

        def forward(label: str, extra_env: dict[str, str]) -> None:
            local = free_port()
            proc = subprocess.Popen(
                [kubectl, "port-forward", "-n", NAMESPACE, pod, f"{local}:8000"],
                env={**env, **extra_env},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            try:
                if proc.stdout is None or not proc.stdout.readline().startswith("Forwarding from"):
                    raise StageFailed(f"kubectl port-forward did not start ({label})")
                url = f"http://127.0.0.1:{local}/metrics"
                # No keep-alive: every request is a new forwarded connection, as curl's are.
                client = httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0))

                def get() -> float:
                    started = time.perf_counter()
                    client.get(url).raise_for_status()
                    return time.perf_counter() - started

                figures(
                    f"GET /metrics through port-forward ({label}), one at a time", [get() for _ in range(args.requests)]
                )
                with ThreadPoolExecutor(args.concurrency) as pool:
                    started = time.perf_counter()
                    times = list(pool.map(lambda _: get(), range(args.requests)))
                    took = time.perf_counter() - started
                figures(f"... {args.concurrency} at a time ({args.requests / took:.0f} requests/s)", times)
                client.close()
            finally:
                proc.terminate()
                proc.wait(10)

        def execs() -> None:
            def timed(*argv: str) -> float:
                started = time.perf_counter()
                run(*argv)
                return time.perf_counter() - started

            figures(
                "kubectl get pod (baseline)", [timed("get", "pod", "-n", NAMESPACE, pod) for _ in range(args.execs)]
            )
            figures(
                "kubectl exec -- true", [timed("exec", "-n", NAMESPACE, pod, "--", "true") for _ in range(args.execs)]
            )
            figures(
                "kubectl exec -- curl -s localhost:8000/metrics",
                [
                    timed("exec", "-n", NAMESPACE, pod, "--", "curl", "-s", "localhost:8000/metrics")
                    for _ in range(args.execs)
                ],
            )

        run_stages(
            [
                ("port-forward over WebSocket", lambda: forward("WebSocket", {})),
                ("port-forward over SPDY", lambda: forward("SPDY", {"KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"})),
                ("exec", execs),
            ]
        )
    finally:
        sim.close()


if __name__ == "__main__":
    main()
