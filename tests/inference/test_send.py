"""One request through the simulated gateway: streamed and whole, chat and completions, with
timings that hold together and token counts that match the server's usage."""

from __future__ import annotations

import pytest

from llmd_console.inference.client import list_models, send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import Api, PromptRequest
from llmd_console.sim.worlds.world import MODEL

PROMPT = "What is Kubernetes?"


@pytest.mark.parametrize("api", ["chat", "completions"])
async def test_streamed_answer_has_sane_timings(gateway: Endpoint, api: Api) -> None:
    pieces: list[str] = []
    async with gateway.client() as client:
        outcome = await send(
            client, gateway, PromptRequest(PROMPT, MODEL, api=api, max_tokens=24), on_token=pieces.append
        )
    assert outcome.ok, outcome.failure
    assert outcome.status == 200 and outcome.finish_reason == "length"
    assert outcome.text and "".join(pieces) == outcome.text
    assert outcome.completion_tokens == 24 and outcome.prompt_tokens is not None and outcome.prompt_tokens > 0
    # One token per chunk: the first one, then one gap per further token.
    assert len(outcome.itls) == outcome.completion_tokens - 1
    assert outcome.ttft is not None and outcome.total is not None
    assert 0 < outcome.ttft <= outcome.total
    assert sum(outcome.itls) <= outcome.total - outcome.ttft + 1e-9
    assert outcome.itl_p50 is not None and outcome.itl_max is not None and outcome.itl_p50 <= outcome.itl_max
    assert outcome.tokens_per_second is not None and outcome.tokens_per_second > 0
    assert outcome.request_id  # generated when the request had none


@pytest.mark.parametrize("api", ["chat", "completions"])
async def test_whole_answer_matches_the_streamed_one(gateway: Endpoint, api: Api) -> None:
    async with gateway.client() as client:
        streamed = await send(client, gateway, PromptRequest(PROMPT, MODEL, api=api, max_tokens=16))
        whole = await send(client, gateway, PromptRequest(PROMPT, MODEL, api=api, max_tokens=16, stream=False))
    assert whole.ok, whole.failure
    assert whole.text == streamed.text
    assert whole.completion_tokens == streamed.completion_tokens == 16
    assert whole.prompt_tokens == streamed.prompt_tokens
    assert whole.ttft is None and whole.itls == [] and whole.total is not None and whole.total > 0


async def test_request_id_is_kept(gateway: Endpoint) -> None:
    async with gateway.client() as client:
        outcome = await send(client, gateway, PromptRequest(PROMPT, MODEL, max_tokens=2, request_id="pc-test-1"))
    assert outcome.ok and outcome.request_id == "pc-test-1"


async def test_models_are_listed(gateway: Endpoint) -> None:
    async with gateway.client() as client:
        assert await list_models(client, gateway) == [MODEL]
