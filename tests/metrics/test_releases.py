"""Every vLLM and EPP name generation the simulator can run gives the same panels: the runbook's
releases (vLLM 0.11, EPP v0.6.0 ``inference_objective_*``), current ones (vLLM 0.12, the llm-d
router's ``llm_d_epp_*``) and legacy ones (vLLM 0.9 ``gpu_*``, GIE v1.0 ``inference_model_*``)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from llmd_console.cluster.kube import KubeClient
from llmd_console.metrics.catalog import ALL
from llmd_console.metrics.readings import Reader
from llmd_console.metrics.scrape import Scraper
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import DECODE_NAME, NAMESPACE
from tests.conftest import TEST_SPEED, Kubectl, require_tool
from tests.metrics.test_scrape import load
from tests.metrics.world import pattern1_targets

INTERVAL = 0.2
Panel = dict[tuple[str, str], str]


def panel_of(release: str, tmp_path: Path) -> tuple[Panel, dict[str, str]]:
    """What the pane shows for a world running ``release``: each line's value kind (a number, or
    why there is none), and the sample name each metric was read from."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=7, releases=release)) as sim:
        kubeconfig = sim.write_kubeconfig(tmp_path / release)
        targets = pattern1_targets(Kubectl(require_tool("kubectl"), kubeconfig))
        reader = Reader(INTERVAL, rate_window=3.0, span=30.0, points=20)

        async def scenario() -> tuple[Panel, dict[str, str]]:
            client = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
            scraper = Scraper(client, interval=INTERVAL)
            try:
                await scraper.round(targets)
                await load(f"http://{sim.ctx.gateway_address}", 6)
                for _ in range(3):
                    await scraper.round(targets)
                    await asyncio.sleep(INTERVAL)
                errors = {t.key: h.error for t, h in scraper.endpoints.items() if h.error}
                assert not errors, errors
                readings = [r for m in ALL for r in reader.read(m, scraper.histories(m.source), m.source)]
            finally:
                await client.close()
            # Pod names differ with the image (the template hash): a per-pod line is "the pod".
            panel = {
                (r.key, "pod" if r.label.startswith(DECODE_NAME) else r.label): (
                    "value" if not math.isnan(r.value) else r.why
                )
                for r in readings
            }
            names = {r.key: r.name for r in readings if r.name}
            return panel, names

        return asyncio.run(scenario())


def test_every_release_gives_the_same_panels(tmp_path: Path) -> None:
    panels = {release: panel_of(release, tmp_path) for release in ("runbook", "current", "legacy")}
    runbook, names = panels["runbook"]
    assert runbook[("kv_cache", "")] == "value" and runbook[("itl", "p99")] == "value"
    assert runbook[("epp_requests", "")] == "value" and runbook[("epp_ready", "")] == "value"
    assert names["epp_requests"] == "inference_objective_request_total"
    # Lines that are per pod (the per-endpoint queue) carry the pod's name in every release.
    assert ("epp_endpoint_queue", "pod") in runbook
    for release in ("current", "legacy"):
        panel, _ = panels[release]
        assert panel == runbook, (release, set(panel.items()) ^ set(runbook.items()))
    current, legacy = panels["current"][1], panels["legacy"][1]
    assert current["epp_requests"] == "llm_d_epp_request_total"
    assert current["epp_ready"] == "llm_d_epp_ready_endpoints"
    assert current["epp_endpoint_queue"] == "llm_d_epp_per_endpoint_queue_size"
    assert current["itl"] == "vllm:inter_token_latency_seconds"
    assert legacy["epp_requests"] == "inference_model_request_total"
    assert legacy["kv_cache"] == "vllm:gpu_cache_usage_perc"
    assert legacy["prefix_hit"] == "vllm:gpu_prefix_cache_hits_total"
    assert legacy["itl"] == "vllm:time_per_output_token_seconds"
