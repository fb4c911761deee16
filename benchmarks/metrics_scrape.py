"""The metrics scrape source's cost, against the simulator running in its own process.

Prints:
1. one round (the decode pod's vLLM page and the EPP's page, through the API server's pod
   proxy, parsed): wall time and this process's CPU time per round, p50/p95;
2. the same with the pane's reading of every metric of the catalog (what a redraw costs);
3. memory for 60 minutes of history at a 2 s interval of every series of 10 model pods and
   one EPP: bytes held by the rings (and per series), and this process's RSS growth.

Run:  python benchmarks/metrics_scrape.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time

from bench_common import SimProcess, StageFailed, percentile, rss_mib, run_stages

from llmd_console.cluster.kube import KubeClient
from llmd_console.metrics.catalog import ALL
from llmd_console.metrics.history import EndpointHistory, Ring
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.scrape import Scraper, Target

NS = "llm-d-inference-scheduling"


def pod_name(kubeconfig: str, selector: str) -> str:
    """The first Ready pod matching ``selector`` (kubectl waits for it)."""
    kubectl = ["kubectl", "--kubeconfig", kubeconfig, "-n", NS]
    subprocess.run([*kubectl, "wait", "--for=condition=Ready", "pod", "-l", selector, "--timeout=300s"], check=True)
    out = subprocess.run(
        [*kubectl, "get", "pods", "-l", selector, "-o", "jsonpath={.items[0].metadata.name}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def scrape_rounds(sim: SimProcess, rounds: int) -> Scraper:
    """Stages 1 and 2; returns the scraper (its histories feed stage 3)."""
    kubeconfig = str(sim.kubeconfig)
    targets = [
        Target(f"{NS}/{pod_name(kubeconfig, 'llm-d.ai/inferenceServing=true')}", "vllm", 8000),
        Target(f"{NS}/{pod_name(kubeconfig, 'inferencepool')}", "epp", 9090),
    ]

    async def run() -> Scraper:
        client = await KubeClient.connect(kubeconfig, None, NS, 10.0)
        scraper = Scraper(client, interval=2.0)
        reader = Reader(2.0)
        walls, cpus, reads = [], [], []
        try:
            for _ in range(rounds):
                wall, cpu = time.perf_counter(), time.process_time()
                await scraper.round(targets)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                start = time.process_time()
                for metric in ALL:
                    reader.read(metric, scraper.histories(metric.source), metric.source)
                reads.append(time.process_time() - start)
        finally:
            await client.close()
        errors = [h.error for h in scraper.endpoints.values() if h.error]
        if errors:
            raise StageFailed(f"the scrape failed: {errors}")
        ms = 1000.0
        print(f"1. one round, 2 endpoints ({rounds} rounds):")
        print(f"   wall p50 {percentile(walls, 50) * ms:.1f} ms, p95 {percentile(walls, 95) * ms:.1f} ms")
        print(f"   CPU  p50 {percentile(cpus, 50) * ms:.1f} ms, p95 {percentile(cpus, 95) * ms:.1f} ms")
        print(f"   = {percentile(cpus, 50) / 2.0:.1%} of a core at the default 2 s interval")
        print(f"2. reading every metric of the catalog: CPU p50 {percentile(reads, 50) * ms:.1f} ms")
        return scraper

    return asyncio.run(run())


def history_memory(scraper: Scraper) -> None:
    """Stage 3: 10 model pods and one EPP, 1,800 scrapes each (60 min at 2 s)."""
    # The series each kind of endpoint really exposes, from the scrape above.
    pages: dict[str, EndpointHistory] = {t.source: history for t, history in scraper.endpoints.items()}
    if set(pages) != {"vllm", "epp"}:
        raise StageFailed("no page of each source to replicate")
    before = rss_mib()
    capacity = 1800
    held = []
    for i in range(11):
        source = "epp" if i == 10 else "vllm"
        template = pages[source]
        copy = EndpointHistory(capacity)
        for key in template.series:
            copy.series[key] = Ring(capacity)
        for n in range(capacity):
            copy.times.append(float(n))
            for ring in copy.series.values():
                ring.append(float(n))
        held.append(copy)
    series = sum(len(h.series) for h in held)
    total = sum(h.nbytes for h in held)
    print("3. 60 min of history, 10 model pods + 1 EPP, every kept series:")
    print(f"   {series:,} series, {total / 2**20:.1f} MiB in the rings ({total / series / 1024:.1f} KiB per series)")
    print(f"   RSS growth {rss_mib() - before:.1f} MiB")


def main() -> None:
    """Run the stages and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    sim = SimProcess("--speed", "50")
    try:
        holder: list[Scraper] = []
        failed = run_stages(
            [
                ("scrape", lambda: holder.append(scrape_rounds(sim, args.rounds))),
                ("history", lambda: history_memory(holder[0]) if holder else None),
            ]
        )
    finally:
        sim.close()
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
