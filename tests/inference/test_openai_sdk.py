"""The openai SDK pointed at the same endpoint gets the same answer for a temperature-0
request: the client speaks the real wire format, and reads it the way the SDK does."""

from __future__ import annotations

import openai
import pytest

from llmd_console.inference.client import send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.request import PromptRequest
from llmd_console.sim.worlds.world import MODEL

PROMPT = "Why do TPU pods take minutes to start?"


@pytest.mark.parametrize("stream", [True, False])
async def test_chat_matches_the_sdk(gateway: Endpoint, stream: bool) -> None:
    sdk = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0)
    async with sdk:
        answer = await sdk.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}], max_tokens=40, temperature=0.0
        )
    async with gateway.client() as client:
        outcome = await send(client, gateway, PromptRequest(PROMPT, MODEL, max_tokens=40, stream=stream))
    assert outcome.ok, outcome.failure
    assert outcome.text == answer.choices[0].message.content
    assert outcome.finish_reason == answer.choices[0].finish_reason
    assert answer.usage is not None
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (
        answer.usage.prompt_tokens,
        answer.usage.completion_tokens,
    )


async def test_streamed_completion_matches_the_sdk_stream(gateway: Endpoint) -> None:
    sdk = openai.AsyncOpenAI(base_url=gateway.base_url + "/v1", api_key="unused", max_retries=0)
    pieces: list[str] = []
    async with sdk:
        stream = await sdk.completions.create(
            model=MODEL,
            prompt=PROMPT,
            max_tokens=40,
            temperature=0.0,
            stream=True,
            stream_options={"include_usage": True},
        )
        usage = None
        async for event in stream:
            pieces.extend(choice.text for choice in event.choices)
            usage = event.usage or usage
    async with gateway.client() as client:
        outcome = await send(client, gateway, PromptRequest(PROMPT, MODEL, api="completions", max_tokens=40))
    assert outcome.text == "".join(pieces)
    assert usage is not None and outcome.completion_tokens == usage.completion_tokens
