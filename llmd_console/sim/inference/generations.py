"""The metric names of other vLLM and EPP releases, as renames of the ones the simulator
builds (vLLM 0.11.1 and the llm-d-inference-scheduler v0.6.0 EPP).

Which names a server writes follows the image it runs, as in a real cluster: ``kubectl set
image`` to another release changes them.

- EPP: GIE v1.0.0 wrote ``inference_model_*`` where v1.1+ writes ``inference_objective_*``;
  the llm-d router's endpoint picker (``llm-d-router-endpoint-picker``) writes ``llm_d_epp_*``
  for the request, pool, scheduler, plugin and info families, ``model_server_endpoint`` for
  the per-endpoint queue's pod label, and ``llm_d_epp_disagg_decision_total`` for the P/D
  decisions.
- vLLM: releases before 0.10 wrote ``gpu_cache_usage_perc`` and ``gpu_prefix_cache_*`` and no
  inter-token latency histogram (only ``time_per_output_token_seconds``); 0.12 dropped the
  deprecated ``time_per_output_token_seconds`` (shown only with
  ``--show-hidden-metrics-for-version``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_NAME = re.compile(rb"^(# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$", re.DOTALL)
_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class Renames:
    """How one release's exposition differs from the one the simulator builds.

    Attributes:
        families: Family name (as its HELP line writes it: counters with ``_total``) to the
            release's name; an empty name drops the family.
        helps: New HELP text by the release's family name.
        labels: Label renames by the release's family name.
    """

    families: Mapping[str, str] = field(default_factory=dict)
    helps: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def apply(self, text: bytes) -> bytes:
        """The exposition ``text`` as the release writes it."""
        if not self.families:
            return text
        out: list[bytes] = []
        for line in text.splitlines(keepends=True):
            match = _NAME.match(line)
            if match is None:
                out.append(line)
                continue
            prefix, name, rest = match.group(1) or b"", match.group(2).decode(), match.group(3)
            family = self._family(name)
            if family is None:
                out.append(line)
                continue
            new = self.families[family]
            if not new:
                continue
            renamed = new + name[len(family) :]
            if name.endswith("_created") and family.endswith("_total"):
                # prometheus_client's creation-time sample of a counter follows the counter.
                renamed = new[: -len("_total")] + "_created"
            if prefix.startswith(b"# HELP") and new in self.helps:
                rest = b" " + self.helps[new].encode() + b"\n"
            for old_label, new_label in self.labels.get(new, {}).items():
                rest = rest.replace(f"{old_label}=".encode(), f"{new_label}=".encode())
            out.append(prefix + renamed.encode() + rest)
        return b"".join(out)

    def _family(self, name: str) -> str | None:
        """The renamed family a sample or HELP/TYPE name belongs to."""
        if name in self.families:
            return name
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in self.families:
                return name[: -len(suffix)]
        counter = name[: -len("_created")] + "_total"
        return counter if name.endswith("_created") and counter in self.families else None


_OBJECTIVE = (
    "request_total",
    "request_error_total",
    "request_duration_seconds",
    "request_sizes",
    "response_sizes",
    "input_tokens",
    "output_tokens",
    "prompt_cached_tokens",
    "running_requests",
    "normalized_time_per_output_token_seconds",
)

# The llm-d router's names (its docs/metrics.md) for what v0.6.0 writes.
_LLM_D_EPP = {
    "inference_objective_request_total": "llm_d_epp_request_total",
    "inference_objective_request_error_total": "llm_d_epp_request_error_total",
    "inference_objective_request_duration_seconds": "llm_d_epp_request_duration_seconds",
    "inference_objective_request_sizes": "llm_d_epp_request_size_bytes",
    "inference_objective_response_sizes": "llm_d_epp_response_size_bytes",
    "inference_objective_input_tokens": "llm_d_epp_request_input_tokens",
    "inference_objective_output_tokens": "llm_d_epp_request_output_tokens",
    "inference_objective_prompt_cached_tokens": "llm_d_epp_request_cached_tokens",
    "inference_objective_running_requests": "llm_d_epp_request_running",
    "inference_objective_normalized_time_per_output_token_seconds": "llm_d_epp_request_ntpot_seconds",
    "inference_pool_average_kv_cache_utilization": "llm_d_epp_average_kv_cache_utilization",
    "inference_pool_average_queue_size": "llm_d_epp_average_queue_size",
    "inference_pool_ready_pods": "llm_d_epp_ready_endpoints",
    "inference_pool_per_pod_queue_size": "llm_d_epp_per_endpoint_queue_size",
    "inference_extension_scheduler_e2e_duration_seconds": "llm_d_epp_scheduler_e2e_duration_seconds",
    "inference_extension_scheduler_attempts_total": "llm_d_epp_scheduler_attempts_total",
    "inference_extension_plugin_duration_seconds": "llm_d_epp_plugin_duration_seconds",
    "inference_extension_info": "llm_d_epp_info",
    "inference_extension_prefix_indexer_size": "llm_d_epp_prefix_indexer_size",
    "inference_extension_prefix_indexer_hit_ratio": "llm_d_epp_prefix_indexer_hit_ratio",
    "inference_extension_prefix_indexer_hit_bytes": "llm_d_epp_prefix_indexer_hit_bytes",
    "llm_d_inference_scheduler_pd_decision_total": "llm_d_epp_disagg_decision_total",
}

EPP_RELEASES: dict[str, Renames] = {
    "inference-scheduler": Renames(),
    "gie-v1.0": Renames(
        # v1.0.0 had no cached-token histogram (added in v1.5.0).
        families={
            **{f"inference_objective_{s}": f"inference_model_{s}" for s in _OBJECTIVE},
            "inference_objective_prompt_cached_tokens": "",
        }
    ),
    "llm-d-router": Renames(
        families=_LLM_D_EPP,
        labels={"llm_d_epp_per_endpoint_queue_size": {"model_server_pod": "model_server_endpoint"}},
    ),
}

VLLM_RELEASES: dict[str, Renames] = {
    "0.11": Renames(),
    "0.12": Renames(families={"vllm:time_per_output_token_seconds": ""}),
    "0.9": Renames(
        families={
            "vllm:kv_cache_usage_perc": "vllm:gpu_cache_usage_perc",
            "vllm:prefix_cache_queries_total": "vllm:gpu_prefix_cache_queries_total",
            "vllm:prefix_cache_hits_total": "vllm:gpu_prefix_cache_hits_total",
            "vllm:inter_token_latency_seconds": "",
            "vllm:request_time_per_output_token_seconds": "",
            "vllm:mm_cache_queries_total": "",
            "vllm:mm_cache_hits_total": "",
        },
        helps={
            "vllm:gpu_cache_usage_perc": "GPU KV-cache usage. 1 means 100 percent usage.",
            "vllm:gpu_prefix_cache_queries_total": "GPU prefix cache queries, in terms of number of queried tokens.",
            "vllm:gpu_prefix_cache_hits_total": "GPU prefix cache hits, in terms of number of cached tokens.",
            "vllm:time_per_output_token_seconds": "Histogram of time per output token in seconds.",
        },
    ),
}


def epp_release(image: str) -> str:
    """Which EPP release's names an image writes."""
    name = image.lower().rsplit("/", 1)[-1]
    if name.startswith("llm-d-router-endpoint-picker"):
        return "llm-d-router"
    match = re.fullmatch(r"epp:v1\.0\.\d+(?:-[\w.]+)?", name)
    return "gie-v1.0" if match else "inference-scheduler"


def vllm_release(version: str) -> str:
    """Which vLLM release's names a version writes."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return "0.11"
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) < (0, 10):
        return "0.9"
    return "0.11" if (major, minor) < (0, 12) else "0.12"
