"""The known failure lines are recognised, and the startup tracker names them."""

from __future__ import annotations

import pytest

from llmd_console.doctor.crashes import CRASHES, classify
from llmd_console.views.startup import StartupTracker

LINES = {
    "tpu-no-devices": "RuntimeError: No TPU devices found",
    "tpu-pjrt-bounds": "RuntimeError: Unable to initialize backend 'tpu': INTERNAL: PJRT error: Failed to initialize",
    "tpu-shard-map": "ValueError: shard_map applied to the function '_ragged_paged_attention' was given argument",
    "tpu-hbm-exhausted": "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Error allocating device buffer",
    "tp-exceeds-devices": "ValueError: Number of devices 2 must be >= the product of mesh_shape (1, 4)",
    "hf-forbidden": "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://huggingface.co/api/x",
    "hf-gated": "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo for url: x",
    "hf-not-found": "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. Repository Not Found for url",
    "oom-killed": "Last State: Terminated (OOMKilled)",
    "epp-pool-missing": '{"level":"error","msg":"Unable to get InferencePool","name":"ns/x"}',
}


def test_every_known_crash_has_a_line() -> None:
    assert set(LINES) == {c.id for c in CRASHES}


@pytest.mark.parametrize(("fid", "line"), sorted(LINES.items()))
def test_line_is_classified(fid: str, line: str) -> None:
    crash = classify(line)
    assert crash is not None and crash.id == fid and crash.name and crash.title


@pytest.mark.parametrize(
    "line",
    [
        "INFO 11-28 00:00:00 [tpu_worker.py:279] Init worker | rank=0",
        "INFO:     Application startup complete.",
        "WARNING 11-28 00:00:00 [x.py:1] Retrying download",
        "x" * 100_000,
    ],
)
def test_ordinary_lines_are_not_crashes(line: str) -> None:
    assert classify(line) is None


def test_tracker_names_the_crash_and_keeps_it_over_a_later_generic_line() -> None:
    tracker = StartupTracker()
    tracker.feed(100.0, "INFO 11-28 00:00:00 [tpu_platform.py:88] Initializing TPU: PJRT_DEVICE=TPU")
    tracker.feed(120.0, "ERROR 11-28 00:00:20 [tpu_worker.py:201] Failed to get TPU devices from JAX")
    tracker.feed(121.0, "RuntimeError: No TPU devices found")
    tracker.feed(121.5, "SystemExit: 1")
    assert tracker.crash is not None and tracker.crash.id == "tpu-no-devices"
    assert tracker.failure == "RuntimeError: No TPU devices found"
    tracker.restart(200.0, [(201.0, "INFO 11-28 00:01:41 [api_server.py:1] vLLM API server version 0.11.1")])
    assert tracker.crash is None and tracker.failure == ""


def test_tracker_without_a_known_crash_keeps_the_generic_failure() -> None:
    tracker = StartupTracker()
    tracker.feed(1.0, "KeyError: 'rope_scaling'")
    assert tracker.crash is None and tracker.failure == "KeyError: 'rope_scaling'"
