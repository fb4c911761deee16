"""A real Prometheus server scrapes the simulated vLLM and EPP through the API
server's proxy, and the PromQL an operator would write returns values."""

from __future__ import annotations

import time

import openai
from prometheus_api_client import PrometheusConnect

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL
from tests.conftest import wait_for


def _value(prom: PrometheusConnect, query: str) -> float:
    result = prom.custom_query(query)
    return float(result[0]["value"][1]) if result else float("nan")


def test_promql_over_scraped_vllm_and_epp_metrics(sim: SimCluster, prometheus: str) -> None:
    prom = PrometheusConnect(url=prometheus, disable_ssl=True)
    wait_for(
        lambda: _value(prom, 'up{job="vllm"}') == 1 and _value(prom, 'up{job="epp"}') == 1,
        timeout=30,
        message="both targets up",
    )
    client = openai.OpenAI(base_url=f"http://{sim.ctx.gateway_address}/v1", api_key="unused", max_retries=0)
    deadline = time.monotonic() + 6
    served = 0
    while time.monotonic() < deadline:
        done = client.completions.create(model=MODEL, prompt=f"Load {served}", max_tokens=20)
        assert done.usage is not None
        served += done.usage.completion_tokens
    # Wait until scrapes of both jobs after the last request have landed, so rate() has samples spanning the load.
    wait_for(
        lambda: (
            _value(prom, "sum(vllm:generation_tokens_total)") >= served
            and _value(prom, "sum(inference_objective_request_total)") >= served / 20
        ),
        timeout=20,
        message="scrapes of vLLM and the EPP that saw every request",
    )
    rate = wait_for(
        lambda: (v := _value(prom, "sum(rate(vllm:generation_tokens_total[1m]))")) > 0 and v,
        timeout=20,
        message="a generation token rate",
    )
    assert rate > 0
    p99 = _value(prom, "histogram_quantile(0.99, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[1m])))")
    assert 0 < p99 < 2.5
    total = _value(prom, "sum(vllm:generation_tokens_total)")
    assert total >= served
    requests = _value(prom, "sum(inference_objective_request_total)")
    assert requests >= served / 20
    assert _value(prom, "inference_pool_ready_pods") == 1
