"""Facts about the models the simulated vLLM knows how to load."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    """Size and shape of a model, enough to time its startup and check its sharding."""

    name: str
    params_b: float  # billions of parameters
    max_len: int
    kv_heads: int  # tensor parallelism must divide this
    gated: bool = False

    @property
    def weights_gib(self) -> float:
        """bf16 weights size."""
        return self.params_b * 2 * 1e9 / 2**30


CATALOG = {
    m.name: m
    for m in (
        ModelInfo("Qwen/Qwen2.5-3B-Instruct", 3.09, 32768, 2 * 4),
        ModelInfo("Qwen/Qwen3-0.6B", 0.6, 40960, 8),
        ModelInfo("Qwen/Qwen3-32B", 32.8, 40960, 8),
        # gemma-2b-it has a single KV head: a TP=4 mesh cannot shard it evenly.
        ModelInfo("google/gemma-2b-it", 2.5, 8192, 1, gated=True),
        ModelInfo("microsoft/Phi-3-mini-4k-instruct", 3.8, 4096, 32),
        ModelInfo("mistralai/Mistral-7B-Instruct-v0.3", 7.2, 32768, 8),
        ModelInfo("meta-llama/Llama-3.1-8B-Instruct", 8.0, 131072, 8, gated=True),
        ModelInfo("meta-llama/Llama-3.1-70B-Instruct", 70.6, 131072, 8, gated=True),
    )
}


def lookup(name: str) -> ModelInfo | None:
    """A model by its Hugging Face id (also accepts ``hf://`` URIs)."""
    return CATALOG.get(name.removeprefix("hf://"))
