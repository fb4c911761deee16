"""How long each console action takes to plan (the moment between the key and the preview:
the API reads, the SelfSubjectAccessReviews, the server-side apply dry runs), against a
simulated Pattern 1 cluster in a process of its own. Nothing is carried out.

Prints the median and the worst of several plans per action, and the permission checks the
console makes when it connects (one SelfSubjectAccessReview per verb and resource).

Run:  python benchmarks/action_preview.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import replace

from bench_common import SimProcess

from llmd_console.actions.catalog import ACTIONS, Catalog, Request
from llmd_console.actions.follow import rollout_done
from llmd_console.actions.safety import permitted
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, GkeConfig
from llmd_console.gke import NodePoolClient

NAMESPACE = "llm-d-inference-scheduling"
# What the operator would point at; counts answer the scale questions.
REQUESTS: dict[str, tuple[Request, int | None]] = {
    "deploy": (Request("deploy"), None),
    "undeploy": (Request("undeploy"), None),
    "restart": (Request("restart", "Deployment", NAMESPACE, "gaie-pattern1-epp"), None),
    "scale": (Request("scale", "Deployment", NAMESPACE, "gaie-pattern1-epp"), 2),
    "scale-pool": (Request("scale-pool"), 0),
    "scale-to-zero": (Request("scale-to-zero"), None),
    "scale-back": (Request("scale-back"), None),
}


async def measure(url: str, kubeconfig: str, runs: int) -> None:
    """Plan each action ``runs`` times; print the figures."""
    gke = GkeConfig(project="ecoeng-llmd", location="europe-west4-a", cluster="tpu-test-cluster")
    config = replace(Config(), gke=replace(gke, endpoint=url + "/", auth="none"))
    kube = await KubeClient.connect(kubeconfig, None, None, 30.0)
    try:
        for deployment in (config.resources.decode_deployment, config.resources.epp):
            await rollout_done(kube, NAMESPACE, deployment, 120.0)  # plans read a settled world
        catalog = Catalog(kube, config, lambda: NodePoolClient(config.gke), NAMESPACE)
        started = time.perf_counter()
        for action in ACTIONS:
            await permitted(kube, action, NAMESPACE)
        print(f"permissions of all {len(ACTIONS)} actions: {(time.perf_counter() - started) * 1000:.0f} ms")
        for name, (request, count) in REQUESTS.items():
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                await catalog.question(request)
                prepared = await catalog.prepare(request, count)
                times.append((time.perf_counter() - t0) * 1000)
            what = prepared.plan.diff_summary or prepared.plan.command_line[:60]
            print(f"{name:<14} median {statistics.median(times):6.1f} ms  worst {max(times):6.1f} ms  ({what})")
    finally:
        await kube.close()


def main() -> None:
    """Start the simulator, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sim = SimProcess("--speed", "100")
    try:
        asyncio.run(measure(sim.url, str(sim.kubeconfig), args.runs))
    finally:
        sim.close()


if __name__ == "__main__":
    main()
