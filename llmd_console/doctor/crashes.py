"""Known vLLM, TPU and EPP failure lines, recognised: the startup tracker marks them and
names them; the startup rules turn them into findings with their fix.

Pure data and regular expressions; imports nothing from the console, so the views can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Crash:
    """A kind of failure a log line reveals."""

    id: str  # the finding's id
    name: str  # short, for the tracker: "no TPU devices"
    title: str  # what it means, one line
    pattern: re.Pattern[str]


CRASHES: tuple[Crash, ...] = (
    Crash(
        "tpu-no-devices",
        "no TPU devices",
        "vLLM found no TPU devices: the pod requests no chips or landed on a node without TPUs",
        re.compile(r"No TPU devices found|Failed to get TPU devices"),
    ),
    Crash(
        "tpu-pjrt-bounds",
        "PJRT / TPU bounds",
        "PJRT failed to initialize the TPU: TPU_CHIPS_PER_HOST_BOUNDS does not match the node's topology",
        re.compile(r"PJRT error|TPU_CHIPS_PER_HOST_BOUNDS=\S+ does not match|chips per host bounds"),
    ),
    Crash(
        "tpu-shard-map",
        "not shardable (shard_map)",
        "the model's tensors do not divide evenly by the tensor-parallel size (shard_map ValueError)",
        re.compile(r"shard_map applied to the function"),
    ),
    Crash(
        "tpu-hbm-exhausted",
        "HBM exhausted",
        "the TPU's HBM ran out (RESOURCE_EXHAUSTED): the model and its KV cache do not fit",
        re.compile(r"RESOURCE_EXHAUSTED"),
    ),
    Crash(
        "tp-exceeds-devices",
        "TP > devices",
        "the tensor-parallel size is larger than the accelerators the pod has",
        re.compile(r"Number of devices \d+ must be >= the product of mesh_shape|World size \(\d+\) is larger than"),
    ),
    Crash(
        "hf-forbidden",
        "Hugging Face 403",
        "the Hugging Face Hub refused the download (403): the token is wrong or lacks access to the model",
        re.compile(r"403 Client Error: Forbidden for url: https://huggingface\.co"),
    ),
    Crash(
        "hf-gated",
        "gated model, no token",
        "the model is gated and no Hugging Face token was sent (401)",
        re.compile(r"GatedRepoError|401 Client Error\. Cannot access gated repo"),
    ),
    Crash(
        "hf-not-found",
        "model not found",
        "the model does not exist on the Hugging Face Hub (404): check the model name",
        re.compile(r"RepositoryNotFoundError|404 Client Error\. Repository Not Found"),
    ),
    Crash(
        "oom-killed",
        "OOMKilled",
        "the container was killed for exceeding its memory limit (OOMKilled)",
        re.compile(r"\bOOMKilled\b"),
    ),
    Crash(
        "epp-pool-missing",
        "EPP: pool not found",
        "the EPP cannot find the InferencePool it was started for (--pool-name)",
        re.compile(r"Unable to get InferencePool"),
    ),
)
BY_ID = {c.id: c for c in CRASHES}


def classify(line: str) -> Crash | None:
    """The known failure a log line shows, or None."""
    if len(line) > 4096:
        line = line[:4096]  # bound the work on a hostile line
    for crash in CRASHES:
        if crash.pattern.search(line):
            return crash
    return None
