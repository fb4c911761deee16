"""The EPP's scorers and picker."""

from __future__ import annotations

import random

from llmd_console.sim.inference.picker import Candidate, Scheduler


def cand(name: str, waiting: int = 0, kv: float = 0.0) -> Candidate:
    return Candidate(f"ns/{name}", f"10.0.0.{len(name)}:8000", waiting, 0, kv)


def test_shorter_queue_wins() -> None:
    s = Scheduler(random.Random(1))
    d = s.pick("m", "hello", [cand("a", waiting=5), cand("b", waiting=0)])
    assert d.target.name == "ns/b"
    assert d.scores["ns/a"]["queue-scorer"] == 0.0
    assert d.scores["ns/b"]["queue-scorer"] == 1.0


def test_emptier_kv_cache_wins() -> None:
    s = Scheduler(random.Random(1))
    d = s.pick("m", "hello", [cand("a", kv=0.9), cand("b", kv=0.1)])
    assert d.target.name == "ns/b"
    assert d.totals["ns/b"] == 2 * 1.0 + 2 * 0.9


def test_prefix_affinity_outweighs_a_small_load_difference() -> None:
    s = Scheduler(random.Random(1))
    prompt = "A long shared system prompt that many requests start with. " * 10
    first = s.pick("m", prompt + "question one", [cand("a"), cand("b")])
    # The same prefix again, with the first pod now slightly busier: weight 3 on the prefix wins.
    others = [c for c in ("ns/a", "ns/b") if c != first.target.name]
    busier = cand(first.target.name.split("/")[1], waiting=1)
    idle = cand(others[0].split("/")[1], waiting=0)
    second = s.pick("m", prompt + "question two", [busier, idle])
    assert second.target.name == first.target.name
    assert second.scores[first.target.name]["prefix-cache-scorer"] > 0.9
