"""Streamed chunks, whole responses and refusals in the shapes vLLM 0.11.1 sends
(its protocol models: chat chunks dumped with exclude_unset, completion chunks whole, the
usage chunk without nulls; SamplingParams._verify_args for the sampling bounds), read raw
over SSE with httpx and through the openai SDK."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL, NAMESPACE
from tests.conftest import Kubectl

DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"
HEAD = ["id", "object", "created", "model"]


@pytest.fixture(scope="module")
def base(sim: SimCluster, kubectl: Kubectl) -> str:
    """The decode pod's vLLM, through the API server's pod proxy."""
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", DECODE_SELECTOR, "--timeout=60s", timeout=70)
    pod = kubectl.run("get", "pods", "-l", DECODE_SELECTOR, "-o", "jsonpath={.items[0].metadata.name}")
    return f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{pod}:8000/proxy"


def events(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON events of one SSE response, checking it ends with ``[DONE]``."""
    out: list[Any] = []
    with httpx.stream("POST", url, json=body, timeout=30) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                out.append(line.removeprefix("data: "))
    assert out[-1] == "[DONE]"
    return [json.loads(e) for e in out[:-1]]


def test_chat_chunks_carry_only_what_vllm_sets(base: str) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "What is a container?"}],
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    first, *middle, last, tally = events(f"{base}/v1/chat/completions", body)
    assert list(first) == [*HEAD, "choices", "prompt_token_ids"]
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
    ]
    for chunk in middle:
        assert list(chunk) == [*HEAD, "choices"]  # no "usage": null
        assert list(chunk["choices"][0]) == ["index", "delta", "logprobs", "finish_reason", "token_ids"]
        assert list(chunk["choices"][0]["delta"]) == ["content"]
    assert list(last["choices"][0]) == ["index", "delta", "logprobs", "finish_reason", "stop_reason", "token_ids"]
    assert last["choices"][0]["finish_reason"] == "length"
    assert tally["choices"] == []
    assert list(tally["usage"]) == ["prompt_tokens", "total_tokens", "completion_tokens"]
    assert tally["usage"]["completion_tokens"] == 5
    assert {c["object"] for c in (first, *middle, last, tally)} == {"chat.completion.chunk"}
    assert len({c["id"] for c in (first, *middle, last, tally)}) == 1


def test_completion_chunks_carry_every_choice_field(base: str) -> None:
    body = {"model": MODEL, "prompt": "What is Kubernetes?", "max_tokens": 4, "stream": True}
    chunks = events(f"{base}/v1/completions", body)
    assert len(chunks) == 4
    for chunk in chunks:
        assert list(chunk) == [*HEAD, "choices", "usage"]
        assert chunk["usage"] is None and chunk["object"] == "text_completion"
        choice = chunk["choices"][0]
        assert list(choice) == [
            "index", "text", "logprobs", "finish_reason", "stop_reason", "prompt_token_ids", "token_ids"
        ]  # fmt: skip
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "length"]


def test_whole_responses_have_vllm_fields(base: str) -> None:
    done = httpx.post(f"{base}/v1/completions", json={"model": MODEL, "prompt": "hi", "max_tokens": 2}).json()
    assert list(done) == [*HEAD, "choices", "service_tier", "system_fingerprint", "usage", "kv_transfer_params"]
    assert list(done["choices"][0]) == [
        "index", "text", "logprobs", "finish_reason", "stop_reason", "token_ids", "prompt_logprobs", "prompt_token_ids"
    ]  # fmt: skip
    assert done["usage"]["prompt_tokens_details"] is None  # --enable-prompt-tokens-details is off by default
    chat = httpx.post(
        f"{base}/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    ).json()
    assert list(chat) == [
        *HEAD, "choices", "service_tier", "system_fingerprint", "usage", "prompt_logprobs", "prompt_token_ids",
        "kv_transfer_params",
    ]  # fmt: skip
    assert list(chat["choices"][0]["message"]) == [
        "role", "content", "refusal", "annotations", "audio", "function_call", "tool_calls", "reasoning_content"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"temperature": -1}, "temperature must be non-negative, got -1.0."),
        ({"top_p": 0}, "top_p must be in (0, 1], got 0.0."),
        ({"top_p": 1.5}, "top_p must be in (0, 1], got 1.5."),
        ({"top_k": -2}, "top_k must be 0 (disable), or at least 1, got -2."),
        ({"min_p": 2}, "min_p must be in [0, 1], got 2.0."),
        ({"presence_penalty": 3}, "presence_penalty must be in [-2, 2], got 3.0."),
        ({"frequency_penalty": -2.5}, "frequency_penalty must be in [-2, 2], got -2.5."),
        ({"repetition_penalty": 0}, "repetition_penalty must be greater than zero, got 0.0."),
        ({"n": 0}, "n must be at least 1, got 0."),
        ({"max_tokens": 0}, "max_tokens must be at least 1, got 0."),
        ({"min_tokens": 9}, "min_tokens must be less than or equal to max_tokens=4, got 9."),
        ({"stop": ["END", ""]}, "stop cannot contain an empty string."),
    ],
)
def test_sampling_bounds_are_refused_as_vllm_does(base: str, extra: dict[str, Any], message: str) -> None:
    body = {"model": MODEL, "prompt": "hi", "max_tokens": 4, **extra}
    resp = httpx.post(f"{base}/v1/completions", json=body)
    assert resp.status_code == 400
    assert resp.json() == {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}


def test_sdk_sees_the_refusal_and_a_streamed_usage(sim: SimCluster, base: str) -> None:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="temperature must be non-negative"):
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=3, temperature=-1
        )
    stream = client.completions.create(
        model=MODEL, prompt="hi", max_tokens=3, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


def test_continuous_usage_stats_put_running_usage_on_every_chunk(base: str) -> None:
    options = {"include_usage": True, "continuous_usage_stats": True}
    chat = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "What is a container?"}],
        "max_tokens": 3,
        "stream": True,
        "stream_options": options,
    }
    first, *tokens, tally = events(f"{base}/v1/chat/completions", chat)
    assert list(first) == [*HEAD, "choices", "usage", "prompt_token_ids"]
    assert first["usage"]["completion_tokens"] == 0
    assert [c["usage"]["completion_tokens"] for c in tokens] == [1, 2, 3]
    assert all(list(c["usage"]) == ["prompt_tokens", "total_tokens", "completion_tokens"] for c in tokens)
    assert tally["choices"] == [] and tally["usage"]["completion_tokens"] == 3
    completion = {"model": MODEL, "prompt": "hi", "max_tokens": 2, "stream": True, "stream_options": options}
    *parts, _ = events(f"{base}/v1/completions", completion)
    assert [p["usage"]["completion_tokens"] for p in parts] == [1, 2]
    assert all(p["usage"]["prompt_tokens_details"] is None for p in parts)  # completion chunks dump every field
