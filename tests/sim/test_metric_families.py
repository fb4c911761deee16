"""The simulated vLLM and EPP expose the metric families, types and label names of the
upstream versions their images run (recorded in tests/sim/fixtures/, with their sources),
scraped as Prometheus would and parsed with prometheus_client's text parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.sim import SimCluster
from llmd_console.sim.inference.epp_metrics import EppMetrics
from llmd_console.sim.inference.vllm_metrics import VllmMetrics
from llmd_console.sim.worlds.world import EPP_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl

FIXTURES = Path(__file__).parent / "fixtures"
DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"


@dataclass(frozen=True)
class Family:
    """One metric family: its type, label names and, if any, when it appears."""

    type: str
    labels: frozenset[str]
    when: str | None = None


def load_fixture(name: str) -> dict[str, Family]:
    """``<family> <type> <labels|-> [when: ...]`` lines, comments skipped."""
    out: dict[str, Family] = {}
    for line in (FIXTURES / name).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, when = line.partition(" when: ")
        family, kind, labels = head.split()
        assert family not in out, f"{family} is listed twice in {name}"
        out[family] = Family(kind, frozenset() if labels == "-" else frozenset(labels.split(",")), when or None)
    return out


def scrape(text: str) -> tuple[dict[str, Family], set[str]]:
    """Families as exposed (counters with ``_total``) and the ``_created`` companions seen."""
    parsed = list(text_string_to_metric_families(text))
    with_created = {f.name + "_created" for f in parsed if f.type in ("counter", "histogram", "summary")}
    families: dict[str, Family] = {}
    created: set[str] = set()
    for family in parsed:
        if family.name in with_created:
            created.add(family.name)
            continue
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = {k for s in family.samples for k in s.labels} - {"le", "quantile"}
        assert family.samples, f"{name} is announced without a sample"
        families[name] = Family(family.type, frozenset(labels))
    return families, created


def compare(expected: dict[str, Family], scraped: dict[str, Family]) -> None:
    """Every scraped family is the recorded one; every unconditional one is there."""
    unknown = sorted(set(scraped) - set(expected))
    assert not unknown, f"families the upstream version does not have: {unknown}"
    for name, got in scraped.items():
        want = expected[name]
        assert (got.type, got.labels) == (want.type, want.labels), name
    missing = sorted(n for n, f in expected.items() if f.when is None and n not in scraped)
    assert not missing, f"families the upstream version always exposes: {missing}"


def decode_pod(kubectl: Kubectl) -> str:
    return kubectl.run("get", "pods", "-l", DECODE_SELECTOR, "-o", "jsonpath={.items[0].metadata.name}")


def vllm_url(sim: SimCluster, kubectl: Kubectl, path: str) -> str:
    return f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{decode_pod(kubectl)}:8000/proxy{path}"


@pytest.fixture(scope="module")
def served(sim: SimCluster, kubectl: Kubectl) -> openai.OpenAI:
    """A Ready pool that has served a completion and a streamed chat through the gateway."""
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", DECODE_SELECTOR, "--timeout=60s", timeout=70)
    kubectl.run(
        "wait", "--for=condition=Programmed", "gateway/infra-pattern1-inference-gateway", "--timeout=60s", timeout=70
    )
    client = openai.OpenAI(base_url=f"http://{sim.ctx.gateway_address}/v1", api_key="unused", max_retries=0)
    client.completions.create(model=MODEL, prompt="What is Kubernetes?", max_tokens=8)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is a container?"}],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert list(stream)
    return client


def test_vllm_families_are_those_of_0_11_1(sim: SimCluster, kubectl: Kubectl, served: openai.OpenAI) -> None:
    families, created = scrape(httpx.get(vllm_url(sim, kubectl, "/metrics")).text)
    compare(load_fixture("vllm-0.11.1.metrics"), families)
    # prometheus_client (vLLM's library) writes a _created sample beside each counter and histogram.
    assert "vllm:prompt_tokens_created" in created
    assert "vllm:e2e_request_latency_seconds_created" in created


def test_epp_families_are_those_of_its_image(sim: SimCluster, kubectl: Kubectl, served: openai.OpenAI) -> None:
    text = httpx.get(f"{sim.url}/api/v1/namespaces/{NAMESPACE}/services/{EPP_NAME}:9090/proxy/metrics").text
    families, created = scrape(text)
    compare(load_fixture("epp-llm-d-inference-scheduler-v0.6.0.metrics"), families)
    assert not created  # client_golang writes no _created samples
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    # The image sets neither build variable, so the info gauge's labels are empty.
    assert samples[("inference_extension_info", (("build_ref", ""), ("commit", "")))] == 1
    buckets = {dict(labels)["le"] for name, labels in samples if name == "inference_objective_input_tokens_bucket"}
    assert "32778.0" in buckets and "32768.0" not in buckets  # upstream's list, typo and all
    assert samples[("inference_extension_scheduler_attempts_total", (("status", "success"),))] >= 2


def test_cache_config_info_describes_the_engine(sim: SimCluster, kubectl: Kubectl, served: openai.OpenAI) -> None:
    text = httpx.get(vllm_url(sim, kubectl, "/metrics")).text
    (info,) = (s for f in text_string_to_metric_families(text) if f.name == "vllm:cache_config_info" for s in f.samples)
    labels = info.labels
    # vLLM on TPU splits max_model_len (2048 in this world) into 16 pages: 128-token blocks.
    assert labels["block_size"] == "128"
    blocks = int(labels["num_gpu_blocks"])
    assert blocks > 0
    assert (labels["gpu_memory_utilization"], labels["swap_space"], labels["cache_dtype"]) == ("0.9", "4.0", "auto")
    assert (labels["enable_prefix_caching"], labels["num_cpu_blocks"], labels["engine"]) == ("True", "0", "0")
    assert labels["kv_cache_memory_bytes"] == "None"
    assert info.value == 1


def test_http_instrumentator_counts_requests_by_route(sim: SimCluster, kubectl: Kubectl, served: openai.OpenAI) -> None:
    def counts() -> dict[tuple[str, str, str], float]:
        text = httpx.get(vllm_url(sim, kubectl, "/metrics")).text
        return {
            (s.labels["handler"], s.labels["method"], s.labels["status"]): s.value
            for f in text_string_to_metric_families(text)
            if f.name == "http_requests"
            for s in f.samples
            if s.name == "http_requests_total"
        }

    before = counts()
    body = {"model": MODEL, "prompt": "hello", "max_tokens": 2}
    assert httpx.post(vllm_url(sim, kubectl, "/v1/completions"), json=body).status_code == 200
    assert httpx.get(vllm_url(sim, kubectl, "/health")).status_code == 200
    assert httpx.get(vllm_url(sim, kubectl, "/no-such-route")).status_code == 404
    assert "vllm:num_requests_running" in httpx.get(vllm_url(sim, kubectl, "/metrics/")).text
    after = counts()
    assert after[("/v1/completions", "POST", "2xx")] - before.get(("/v1/completions", "POST", "2xx"), 0) == 1
    assert after[("none", "GET", "4xx")] - before.get(("none", "GET", "4xx"), 0) == 1
    assert not any(handler in ("/health", "/metrics") for handler, _, _ in after)  # vLLM excludes them


def _families(body: bytes) -> dict[str, tuple[str, frozenset[str]]]:
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        labels = frozenset(label for sample in family.samples for label in sample.labels)
        out[family.name] = (family.type, labels)
    return out


def test_other_releases_rename_families_and_labels_and_stay_valid() -> None:
    """The renames of generations.py give a valid exposition with the other releases' names."""

    def vllm(release: str) -> dict[str, tuple[str, frozenset[str]]]:
        metrics = VllmMetrics(MODEL, 2048, {"block_size": "16"}, release=release)
        metrics.prefix_queries.inc(10)
        return _families(metrics.exposition())

    def epp(release: str) -> dict[str, tuple[str, frozenset[str]]]:
        metrics = EppMetrics("gaie-pattern1", release=release)
        metrics.per_pod_queue.labels("gaie-pattern1", "decode-0").set(2)
        metrics.requests.labels(MODEL, MODEL).inc()
        return _families(metrics.exposition())

    base, newer, older = vllm("0.11"), vllm("0.12"), vllm("0.9")
    assert "vllm:time_per_output_token_seconds" in base and "vllm:time_per_output_token_seconds" not in newer
    assert "vllm:inter_token_latency_seconds" in newer and "vllm:inter_token_latency_seconds" not in older
    assert "vllm:kv_cache_usage_perc" not in older and older["vllm:gpu_cache_usage_perc"][0] == "gauge"
    assert older["vllm:gpu_prefix_cache_queries"][0] == "counter"  # with its _created sample renamed too
    assert "vllm:prefix_cache_queries" not in older
    current, legacy = epp("llm-d-router"), epp("gie-v1.0")
    assert current["llm_d_epp_per_endpoint_queue_size"][1] == {"name", "model_server_endpoint"}
    assert current["llm_d_epp_request"][0] == "counter"
    assert not any(
        name.startswith(("inference_objective", "inference_pool", "inference_extension")) for name in current
    )
    assert legacy["inference_model_request"][0] == "counter" and "inference_objective_request" not in legacy
