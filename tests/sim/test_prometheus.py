"""A real Prometheus server scrapes the simulated vLLM and EPP through the API
server's proxy, and the PromQL an operator would write returns values."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import openai
import pytest
import yaml
from prometheus_api_client import PrometheusConnect

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import EPP_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl, require_tool, wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus(sim: SimCluster, kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require_tool("prometheus")
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", "llm-d.ai/inferenceServing=true", "--timeout=60s")
    pod = kubectl.run("get", "pods", "-l", "llm-d.ai/inferenceServing=true", "-o", "jsonpath={.items[0].metadata.name}")
    api = urlparse(sim.url).netloc
    base = f"/api/v1/namespaces/{NAMESPACE}"
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "vllm", "metrics_path": f"{base}/pods/{pod}:8000/proxy/metrics",
             "static_configs": [{"targets": [api], "labels": {"pod": pod}}]},
            {"job_name": "epp", "metrics_path": f"{base}/services/{EPP_NAME}:9090/proxy/metrics",
             "static_configs": [{"targets": [api]}]},
        ],
    }  # fmt: skip
    work = tmp_path_factory.mktemp("prometheus")
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        prom = PrometheusConnect(url=url, disable_ssl=True)
        wait_for(lambda: _ready(prom), timeout=30, message="prometheus to answer")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _ready(prom: PrometheusConnect) -> bool:
    try:
        return bool(prom.check_prometheus_connection())
    except Exception:  # not listening yet
        return False


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
