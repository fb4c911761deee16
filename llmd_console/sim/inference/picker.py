"""The endpoint picker's scheduling: the queue, kv-cache-utilization and
prefix-cache scorers with their weights, and a max-score picker.

As in the inference extension, the prefix-cache scorer does not ask the model
servers what they cache: the EPP keeps its own index of prompt-prefix block hashes
for the pods it sent them to, and scores a pod by the share of the new prompt's
blocks it already holds.
"""

from __future__ import annotations

import hashlib
import random
from collections import OrderedDict
from dataclasses import dataclass, field

PREFIX_BLOCK_CHARS = 64  # the prefix plugin hashes the prompt in blocks of this many characters
MAX_PREFIX_BLOCKS = 256
LRU_CAPACITY_PER_SERVER = 31250


@dataclass(frozen=True)
class Candidate:
    """A ready model-server endpoint and its last scraped metrics."""

    name: str  # namespace/pod
    address: str  # ip:port
    waiting: int
    running: int
    kv_usage: float


@dataclass
class Decision:
    """The outcome of one scheduling cycle."""

    target: Candidate
    scores: dict[str, dict[str, float]]  # pod -> scorer -> score
    totals: dict[str, float]
    prefix_blocks: list[str] = field(default_factory=list)


def prefix_hashes(model: str, prompt: str) -> list[str]:
    """Chained hashes of the prompt's leading blocks (the model name seeds the chain)."""
    out: list[str] = []
    parent = model
    for start in range(0, min(len(prompt), PREFIX_BLOCK_CHARS * MAX_PREFIX_BLOCKS), PREFIX_BLOCK_CHARS):
        block = prompt[start : start + PREFIX_BLOCK_CHARS]
        if len(block) < PREFIX_BLOCK_CHARS:
            break
        parent = hashlib.blake2b((parent + block).encode(), digest_size=8).hexdigest()
        out.append(parent)
    return out


class PrefixIndex:
    """Which server was sent which prefix blocks (an LRU per server)."""

    def __init__(self, capacity: int = LRU_CAPACITY_PER_SERVER) -> None:
        self.capacity = capacity
        self._by_server: dict[str, OrderedDict[str, None]] = {}

    def match(self, hashes: list[str], server: str) -> int:
        """How many leading blocks ``server`` holds."""
        held = self._by_server.get(server)
        count = 0
        for digest in hashes:
            if held is None or digest not in held:
                break
            count += 1
        return count

    def add(self, hashes: list[str], server: str) -> None:
        """Remember that ``server`` now holds these blocks."""
        held = self._by_server.setdefault(server, OrderedDict())
        for digest in hashes:
            held[digest] = None
            held.move_to_end(digest)
        while len(held) > self.capacity:
            held.popitem(last=False)

    def forget(self, live: set[str]) -> None:
        """Drop servers that are gone."""
        for server in list(self._by_server):
            if server not in live:
                del self._by_server[server]

    def size(self) -> int:
        """Blocks indexed across servers."""
        return sum(len(v) for v in self._by_server.values())


def _queue_scores(cands: list[Candidate]) -> dict[str, float]:
    lo = min(c.waiting for c in cands)
    hi = max(c.waiting for c in cands)
    if hi == lo:
        return {c.name: 1.0 for c in cands}
    return {c.name: (hi - c.waiting) / (hi - lo) for c in cands}


def _kv_scores(cands: list[Candidate]) -> dict[str, float]:
    return {c.name: 1.0 - min(max(c.kv_usage, 0.0), 1.0) for c in cands}


class Scheduler:
    """Scores candidates and picks the best (ties broken at random)."""

    WEIGHTS = {"queue-scorer": 2.0, "kv-cache-utilization-scorer": 2.0, "prefix-cache-scorer": 3.0}

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prefix = PrefixIndex()

    def pick(self, model: str, prompt: str, cands: list[Candidate]) -> Decision:
        """Choose where the request goes; ``cands`` must not be empty."""
        hashes = prefix_hashes(model, prompt)
        per_scorer = {
            "queue-scorer": _queue_scores(cands),
            "kv-cache-utilization-scorer": _kv_scores(cands),
            "prefix-cache-scorer": {
                c.name: (self.prefix.match(hashes, c.name) / len(hashes)) if hashes else 0.0 for c in cands
            },
        }
        scores = {c.name: {s: round(v[c.name], 4) for s, v in per_scorer.items()} for c in cands}
        totals = {c.name: round(sum(self.WEIGHTS[s] * v[c.name] for s, v in per_scorer.items()), 4) for c in cands}
        best = max(totals.values())
        target = self.rng.choice([c for c in cands if totals[c.name] == best])
        self.prefix.add(hashes, target.name)
        return Decision(target, scores, totals, hashes)
