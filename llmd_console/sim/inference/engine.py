"""A model of one vLLM engine: continuous batching up to ``max_num_seqs``, a FIFO
waiting queue, a paged KV cache with a prefix cache, preemption when the cache
runs out, and a latency model, so that load moves every number vLLM reports.

Inference runs on the wall clock (``--speed`` compresses the control plane's slow
steps, not token timings), scaled by ``LatencyProfile.scale``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from llmd_console.sim.inference.vllm_metrics import VllmMetrics

BLOCK_SIZE = 16


@dataclass(frozen=True)
class LatencyProfile:
    """How long prefill and decode steps take (wall seconds)."""

    prefill_base: float = 0.035
    prefill_per_token: float = 0.00005
    itl: float = 0.0125
    load_factor: float = 1.5  # a full batch makes each decode step this much slower, proportionally
    scale: float = 1.0  # multiplies every duration; 0 makes inference instant

    def prefill(self, tokens: int) -> float:
        """Prefill time for ``tokens`` uncached prompt tokens."""
        return (self.prefill_base + self.prefill_per_token * tokens) * self.scale

    def decode_step(self, running: int, max_num_seqs: int) -> float:
        """One decode step with ``running`` sequences in the batch."""
        return self.itl * (1.0 + self.load_factor * max(running - 1, 0) / max(max_num_seqs, 1)) * self.scale


@dataclass
class EngineStats:
    """What the engine reports right now (the EPP scrapes this)."""

    running: int
    waiting: int
    kv_usage: float


def block_hashes(tokens: list[str], block_size: int = BLOCK_SIZE) -> list[str]:
    """Chained hashes of the prompt's full blocks, as vLLM's prefix cache keys them."""
    out: list[str] = []
    parent = ""
    for start in range(0, len(tokens) - len(tokens) % block_size, block_size):
        digest = hashlib.blake2b(
            (parent + "\x00".join(tokens[start : start + block_size])).encode(), digest_size=12
        ).hexdigest()
        out.append(digest)
        parent = digest
    return out


@dataclass
class _Seq:
    prompt_len: int
    blocks: int = 0
    admitted: asyncio.Future[None] | None = None


class Engine:
    """Schedules sequences onto a fixed batch and KV budget."""

    def __init__(
        self,
        metrics: VllmMetrics,
        max_num_seqs: int,
        kv_blocks: int,
        profile: LatencyProfile | None = None,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        self.metrics = metrics
        self.block_size = block_size
        self.max_num_seqs = max(1, max_num_seqs)
        self.kv_blocks = max(1, kv_blocks)
        self.profile = profile or LatencyProfile()
        self.free_blocks = self.kv_blocks
        self.running = 0
        self._queue: deque[_Seq] = deque()
        self._prefix: OrderedDict[str, None] = OrderedDict()
        self.prompt_tokens_total = 0
        self.generation_tokens_total = 0
        self.prefix_queries_total = 0
        self.prefix_hits_total = 0

    # ---- state ---------------------------------------------------------------
    def stats(self) -> EngineStats:
        """Queue depth, batch size and KV-cache use."""
        return EngineStats(self.running, len(self._queue), self.usage())

    def usage(self) -> float:
        """Fraction of KV blocks held by running sequences."""
        return (self.kv_blocks - self.free_blocks) / self.kv_blocks

    def _publish(self) -> None:
        self.metrics.running.set(self.running)
        self.metrics.waiting.set(len(self._queue))
        self.metrics.kv_usage.set(self.usage())

    # ---- admission -----------------------------------------------------------
    def _fits(self, seq: _Seq) -> bool:
        return self.running < self.max_num_seqs and self.free_blocks >= math.ceil(
            (seq.prompt_len + 1) / self.block_size
        )

    def _take(self, seq: _Seq) -> None:
        seq.blocks = math.ceil((seq.prompt_len + 1) / self.block_size)
        self.free_blocks -= seq.blocks
        self.running += 1

    async def _admit(self, seq: _Seq) -> None:
        if not self._queue and self._fits(seq):
            self._take(seq)
            self._publish()
            return
        seq.admitted = asyncio.get_running_loop().create_future()
        self._queue.append(seq)
        self._publish()
        try:
            await seq.admitted
        except asyncio.CancelledError:
            if seq in self._queue:
                self._queue.remove(seq)
                self._publish()
            elif seq.admitted.done() and not seq.admitted.cancelled():
                self._release(seq)  # admitted in the same tick as the cancellation
            raise

    def _release(self, seq: _Seq) -> None:
        self.free_blocks += seq.blocks
        seq.blocks = 0
        self.running -= 1
        while self._queue and self._fits(self._queue[0]):
            nxt = self._queue.popleft()
            self._take(nxt)
            assert nxt.admitted is not None
            nxt.admitted.set_result(None)
        self._publish()

    def _grow(self, seq: _Seq, tokens: int) -> bool:
        """Make room for ``tokens`` tokens; False when the cache is full (preempt)."""
        need = math.ceil(tokens / self.block_size) - seq.blocks
        if need <= 0:
            return True
        if self.free_blocks < need:
            return False
        self.free_blocks -= need
        seq.blocks += need
        return True

    # ---- prefix cache --------------------------------------------------------
    def _match_prefix(self, hashes: list[str], prompt_len: int) -> int:
        hit = 0
        for digest in hashes:
            if digest not in self._prefix:
                break
            self._prefix.move_to_end(digest)
            hit += 1
        # At least one prompt token is always computed, as in vLLM.
        size = self.block_size
        return min(hit * size, ((prompt_len - 1) // size) * size)

    def _remember_prefix(self, hashes: list[str]) -> None:
        for digest in hashes:
            self._prefix[digest] = None
            self._prefix.move_to_end(digest)
        while len(self._prefix) > self.kv_blocks:
            self._prefix.popitem(last=False)

    # ---- generation ----------------------------------------------------------
    def sequence(self, prompt: list[str], max_tokens: int) -> Sequence:
        """A new request for this engine."""
        return Sequence(self, prompt, max_tokens)

    async def _preempt(self, seq: _Seq, tokens: int) -> None:
        """Out of KV blocks: give ours back, wait for room, recompute."""
        self.metrics.preemptions.inc()
        self._release(seq)
        seq.prompt_len = tokens
        await self._admit(seq)
        await asyncio.sleep(self.profile.prefill(tokens))


class Sequence:
    """One request's life in the engine: queued, prefilled, decoded, finished."""

    def __init__(self, engine: Engine, prompt: list[str], max_tokens: int) -> None:
        self.engine = engine
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.cached_tokens = 0
        self.generated = 0
        self._seq = _Seq(len(prompt))
        self._arrival = time.monotonic()
        self._admitted = self._first = self._end = 0.0
        self._finished = False

    async def run(self, output: list[str]) -> AsyncGenerator[str, None]:
        """Yield the output tokens at the engine's pace.

        Closing the iterator early (a client that went away) frees the sequence."""
        engine, m, seq = self.engine, self.engine.metrics, self._seq
        hashes = block_hashes(self.prompt, engine.block_size)
        await engine._admit(seq)
        self._admitted = time.monotonic()
        try:
            self.cached_tokens = engine._match_prefix(hashes, len(self.prompt))
            m.prefix_queries.inc(len(self.prompt))
            m.prefix_hits.inc(self.cached_tokens)
            engine.prefix_queries_total += len(self.prompt)
            engine.prefix_hits_total += self.cached_tokens
            await asyncio.sleep(engine.profile.prefill(len(self.prompt) - self.cached_tokens))
            engine._remember_prefix(hashes)
            m.prompt_tokens.inc(len(self.prompt))
            engine.prompt_tokens_total += len(self.prompt)
            self._first = last = time.monotonic()
            m.queue_time.observe(self._admitted - self._arrival)
            m.ttft.observe(self._first - self._arrival)
            m.prefill_time.observe(self._first - self._admitted)
            # The step that prefilled this request scheduled its prompt tokens (and sampled the
            # first token); vLLM records the request's generation budget and n at that point.
            m.iteration_tokens.observe(len(self.prompt))
            m.request_max_generation_tokens.observe(self.max_tokens)
            m.request_n.observe(1)
            for index, token in enumerate(output):
                if index:
                    await asyncio.sleep(engine.profile.decode_step(engine.running, engine.max_num_seqs))
                    while not engine._grow(seq, len(self.prompt) + index + 1):
                        await engine._preempt(seq, len(self.prompt) + index)
                    now = time.monotonic()
                    # Each decode step of this sequence schedules one token.
                    m.iteration_tokens.observe(1)
                    m.itl.observe(now - last)
                    m.tpot_deprecated.observe(now - last)
                    last = now
                m.generation_tokens.inc()
                engine.generation_tokens_total += 1
                self.generated += 1
                yield token
        finally:
            self._end = time.monotonic()
            if seq.blocks:
                engine._release(seq)

    @property
    def ttft(self) -> float:
        """Seconds from arrival to the first token (0 before it)."""
        return self._first - self._arrival if self._first else 0.0

    def finish(self, reason: str) -> None:
        """Record the request's end (reason: stop, length or abort); once."""
        if self._finished:
            return
        self._finished = True
        m = self.engine.metrics
        m.success[reason].inc()
        m.request_prompt_tokens.observe(len(self.prompt))
        m.request_generation_tokens.observe(self.generated)
        m.request_max_tokens.observe(self.max_tokens)
        if self._first:
            end = self._end or time.monotonic()
            m.e2e.observe(end - self._arrival)
            m.inference_time.observe(end - self._admitted)
            m.decode_time.observe(end - self._first)
            if self.generated > 1:
                m.tpot.observe((end - self._first) / (self.generated - 1))
