"""The vLLM engine model: batching limit and waiting queue, prefix cache, KV
preemption, and metrics that agree with what was served."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.sim.inference.engine import BLOCK_SIZE, Engine, LatencyProfile
from llmd_console.sim.inference.text import tokenize
from llmd_console.sim.inference.vllm_metrics import TTFT_BUCKETS, VllmMetrics, tpu_block_size
from llmd_console.sim.programs.vllm import vllm_version

MODEL = "Qwen/Qwen2.5-3B-Instruct"
FAST = LatencyProfile(prefill_base=0.002, prefill_per_token=0.0, itl=0.002, load_factor=0.0)


def samples(metrics: VllmMetrics) -> dict[str, float]:
    """Parse the exposition (as a scraper would) into name{labels} -> value."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k not in ("model_name", "engine"))
            out[f"{s.name}{{{labels}}}"] = s.value
    return out


def new_engine(max_num_seqs: int = 256, kv_blocks: int = 10_000) -> Engine:
    metrics = VllmMetrics(MODEL, 2048, {"block_size": "16", "num_gpu_blocks": str(kv_blocks)})
    return Engine(metrics, max_num_seqs, kv_blocks, FAST)


async def serve(engine: Engine, prompt: str, output_tokens: int, reason: str = "length") -> list[str]:
    seq = engine.sequence(tokenize(prompt), output_tokens)
    out = [t async for t in seq.run([f" t{i}" for i in range(output_tokens)])]
    seq.finish(reason)
    return out


async def test_batch_limit_queues_the_rest() -> None:
    engine = new_engine(max_num_seqs=2)
    peak_waiting = 0

    async def watch() -> None:
        nonlocal peak_waiting
        while True:
            peak_waiting = max(peak_waiting, engine.stats().waiting)
            assert engine.stats().running <= 2
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    results = await asyncio.gather(*(serve(engine, f"prompt number {i}", 10) for i in range(5)))
    watcher.cancel()
    assert [len(r) for r in results] == [10] * 5
    assert peak_waiting == 3
    s = samples(engine.metrics)
    assert s["vllm:num_requests_running{}"] == 0
    assert s["vllm:num_requests_waiting{}"] == 0
    assert s["vllm:generation_tokens_total{}"] == 50
    assert s["vllm:request_success_total{finished_reason=length}"] == 5
    assert s["vllm:request_queue_time_seconds_count{}"] == 5
    # Three requests waited for a slot, so the queue-time sum is well above zero.
    assert s["vllm:request_queue_time_seconds_sum{}"] > 0.02
    assert s["vllm:time_to_first_token_seconds_count{}"] == 5
    assert s["vllm:inter_token_latency_seconds_count{}"] == 5 * 9
    assert engine.usage() == 0.0


async def test_prefix_cache_hits_on_a_repeated_prompt() -> None:
    engine = new_engine()
    prompt = "You are a helpful assistant. " * 20  # well over two blocks of tokens
    tokens = len(tokenize(prompt))
    await serve(engine, prompt, 2)
    await serve(engine, prompt, 2)
    s = samples(engine.metrics)
    assert s["vllm:prefix_cache_queries_total{}"] == 2 * tokens
    # The second request finds every full block but the last token's.
    assert s["vllm:prefix_cache_hits_total{}"] == ((tokens - 1) // BLOCK_SIZE) * BLOCK_SIZE
    assert s["vllm:prompt_tokens_total{}"] == 2 * tokens


async def test_kv_exhaustion_preempts_and_still_finishes() -> None:
    engine = new_engine(max_num_seqs=8, kv_blocks=6)
    results = await asyncio.gather(*(serve(engine, f"p{i}", 40) for i in range(3)))
    assert [len(r) for r in results] == [40, 40, 40]
    s = samples(engine.metrics)
    assert s["vllm:num_preemptions_total{}"] >= 1
    assert engine.free_blocks == 6


async def test_a_client_that_goes_away_frees_its_slot() -> None:
    engine = new_engine(max_num_seqs=1)
    seq = engine.sequence(tokenize("hello there"), 100)
    run = seq.run([" x"] * 100)
    assert await run.__anext__() == " x"
    assert engine.stats().running == 1
    await run.aclose()
    seq.finish("abort")
    assert engine.stats().running == 0
    assert samples(engine.metrics)["vllm:request_success_total{finished_reason=abort}"] == 1
    # The slot is usable again.
    assert len(await serve(engine, "next", 3)) == 3


def test_histograms_use_vllm_buckets() -> None:
    engine = new_engine()
    bounds = sorted(
        float(name.split("le=")[1].rstrip("}"))
        for name in samples(engine.metrics)
        if name.startswith("vllm:time_to_first_token_seconds_bucket") and "+Inf" not in name
    )
    assert bounds == list(TTFT_BUCKETS)


@pytest.mark.parametrize(
    ("max_model_len", "max_num_seqs", "block"),
    [(1024, 256, 64), (2048, 256, 128), (4096, 256, 256), (32768, 256, 64), (100_000, 256, 256), (2048, 2048, 128)],
)
def test_tpu_block_size_follows_the_pallas_backend(max_model_len: int, max_num_seqs: int, block: int) -> None:
    # get_page_size: max_model_len / 16 within [16, 256] (16 above 8192), raised to get_min_page_size.
    assert tpu_block_size(max_model_len, max_num_seqs) == block


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("vllm/vllm-tpu:v0.11.1", "0.11.1"),
        ("vllm/vllm-tpu:v0.13.2-ironwood", "0.13.2"),
        ("ghcr.io/llm-d/llm-d-cuda:v0.4.0", "0.11.2"),
    ],
)
def test_each_image_tag_names_its_vllm_version(image: str, version: str) -> None:
    assert vllm_version(image) == version


async def test_a_larger_block_size_caches_whole_blocks_only() -> None:
    metrics = VllmMetrics(MODEL, 2048, {"block_size": "128"})
    engine = Engine(metrics, 8, 1000, FAST, block_size=128)
    prompt = " ".join(f"w{i}" for i in range(300))
    await serve(engine, prompt, 2)
    await serve(engine, prompt, 2)
    tokens = len(tokenize(prompt))
    assert samples(metrics)["vllm:prefix_cache_hits_total{}"] == ((tokens - 1) // 128) * 128
