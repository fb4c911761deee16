"""The watch and the log stream against the simulator, without a screen: resume,
relist on 410, back-off and recovery, coalescing; log resume and the states a log
stream explains in words."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.cluster.logs import LogStream, ResumePoint
from llmd_console.cluster.watch import Batch, WatchHub
from llmd_console.models import LogChunk, LogTarget, StreamPhase
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.state import ClusterState


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[tuple[SimCluster, Path]]:
    with SimCluster(SimOptions(speed=200, seed=11)) as sim:
        yield sim, sim.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture()
async def client(cluster: tuple[SimCluster, Path]) -> AsyncIterator[KubeClient]:
    kube = await KubeClient.connect(str(cluster[1]), None, None, 10.0)
    yield kube
    await kube.close()


async def until(condition: Callable[[], object], what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def bare_pod(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NAMESPACE}, "spec": {"containers": [{"name": "c", "image": "x"}]}}


class Hub:
    """A WatchHub with its batches recorded and applied to a state."""

    def __init__(self, client: KubeClient) -> None:
        self.batches: list[Batch] = []
        self.state = ClusterState(KINDS, namespace=NAMESPACE)
        self.hub = WatchHub(client, list(KINDS.values()), NAMESPACE, self._take, batch_ms=80, reconnect_max=1.0)
        self.task = asyncio.create_task(self.hub.run())

    def _take(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.state.apply(batch)

    def live(self) -> bool:
        kinds = self.state.snapshot.kinds
        return all(k in kinds and kinds[k].status == "live" for k in KINDS)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture()
async def hub(client: KubeClient) -> AsyncIterator[Hub]:
    """Every kind listed and watched."""
    running = Hub(client)
    try:
        await until(running.live, "every kind live")
        yield running
    finally:
        await running.stop()


async def test_watch_resumes_without_relisting_and_relists_after_410(
    cluster: tuple[SimCluster, Path], hub: Hub
) -> None:
    sim, _ = cluster
    relists = hub.hub.relists
    sim.call(sim.ctx.store.close_all_watches)  # the server drops every watch; history is kept
    sim.call(lambda: sim.ctx.create("pods", bare_pod("after-drop")))
    await until(lambda: f"{NAMESPACE}/after-drop" in hub.state.snapshot.pods, "the pod created after the drop")
    assert hub.hub.relists == relists  # resumed from the last resourceVersion, no relist

    def expire() -> None:
        sim.ctx.store.close_all_watches()
        sim.ctx.create("pods", bare_pod("after-compaction"))
        sim.ctx.store.compact()

    sim.call(expire)
    await until(lambda: hub.hub.relists >= relists + len(KINDS), "a relist of every kind after 410 Gone")
    await until(lambda: f"{NAMESPACE}/after-compaction" in hub.state.snapshot.pods, "the pod in the relist")


async def test_watch_backs_off_while_down_and_recovers(cluster: tuple[SimCluster, Path], hub: Hub) -> None:
    sim, _ = cluster
    pods_before = len(hub.state.snapshot.pods)
    await asyncio.to_thread(sim.stop_api)
    await until(lambda: hub.state.snapshot.status_of("pods").status == "reconnecting", "reconnecting")
    assert hub.state.snapshot.status_of("pods").message  # the connection error, in words
    assert len(hub.state.snapshot.pods) == pods_before  # the data is kept
    await asyncio.to_thread(sim.restart_api)
    await until(hub.live, "live again", limit=30)


async def test_a_burst_of_changes_arrives_in_few_batches(cluster: tuple[SimCluster, Path], hub: Hub) -> None:
    sim, _ = cluster
    before = len(hub.batches)

    def burst() -> None:
        for i in range(100):
            sim.ctx.create("pods", bare_pod(f"burst-{i}"))

    sim.call(burst)
    await until(lambda: f"{NAMESPACE}/burst-99" in hub.state.snapshot.pods, "the burst")
    # 100 creations, each followed by scheduler and kubelet updates: hundreds of events.
    assert len(hub.batches) - before < 40


def test_resume_point_skips_exactly_the_lines_already_shown() -> None:
    seen = ResumePoint()
    stamps = [10.0, 11.0, 11.0, 11.0]
    assert [seen.repeated(t) for t in stamps] == [False] * 4
    assert seen.resume_from() == "1970-01-01T00:00:11Z"
    # The server resends from second 11 (a line of second 10 may come too): all four were shown.
    assert [seen.repeated(t) for t in (10.0, 11.0, 11.0, 11.0, 11.0, 12.0)] == [True, True, True, True, False, False]


async def collect(stream: LogStream, chunks: list[LogChunk], until_phase: StreamPhase, limit: float = 20.0) -> None:
    task = asyncio.create_task(stream.run())
    try:

        def reached() -> bool:
            return task.done() or any(c.state is not None and c.state.phase is until_phase for c in chunks)

        await until(reached, str(until_phase))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_log_stream_states_in_words(client: KubeClient, hub: Hub) -> None:
    epp = next(p for p in hub.state.snapshot.pods.values() if p.role == "epp")
    chunks: list[LogChunk] = []
    # A container that never restarted has no previous log: said, and the stream ends.
    target = LogTarget(epp.namespace, epp.name, None, previous=True, tail=100)
    stream = LogStream(client, target, chunks.append, lambda: hub.state.snapshot.pods.get(target.key))
    await collect(stream, chunks, StreamPhase.NO_PREVIOUS)
    last = [c.state for c in chunks if c.state][-1]
    assert last.phase is StreamPhase.NO_PREVIOUS and "has not restarted" in last.message
    # The live log, with the container resolved from the snapshot.
    chunks.clear()
    live = LogTarget(epp.namespace, epp.name, None, tail=100)
    stream = LogStream(client, live, chunks.append, lambda: hub.state.snapshot.pods.get(live.key))
    task = asyncio.create_task(stream.run())
    await until(lambda: any(c.lines for c in chunks), "log lines")
    assert chunks[-1].container == epp.containers[0].name
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # A pod that does not exist (and is not in the snapshot) is gone, in words.
    chunks.clear()
    ghost = LogTarget(NAMESPACE, "no-such-pod", "c")
    await collect(LogStream(client, ghost, chunks.append, lambda: None), chunks, StreamPhase.GONE)
    assert [c.state.phase for c in chunks if c.state][-1] is StreamPhase.GONE


async def test_a_huge_log_line_is_cut_at_the_byte_budget(
    cluster: tuple[SimCluster, Path], client: KubeClient, hub: Hub
) -> None:
    sim, _ = cluster
    epp = next(p for p in hub.state.snapshot.pods.values() if p.role == "epp")

    def write() -> None:
        pod = sim.ctx.store.get("pods", epp.namespace, epp.name)
        assert pod is not None
        sink = sim.ctx.logs.current(pod["metadata"]["uid"], epp.containers[0].name)
        assert sink is not None
        sink.write(sim.ctx.clock.now(), "HUGE" + "x" * (1 << 20))
        sink.write(sim.ctx.clock.now(), "after the huge one")

    chunks: list[LogChunk] = []
    target = LogTarget(epp.namespace, epp.name, None, tail=10)
    stream = LogStream(client, target, chunks.append, lambda: epp, max_line_bytes=4096)
    task = asyncio.create_task(stream.run())
    try:
        await until(lambda: any(c.state and c.state.phase is StreamPhase.LIVE for c in chunks), "the stream")
        sim.call(write)

        def lines() -> list[str]:
            return [text for c in chunks for _, text in c.lines]

        await until(lambda: "after the huge one" in lines(), "the line after the huge one")
        huge = next(text for text in lines() if text.startswith("HUGE"))
        assert len(huge.encode()) < 4096 + 64 and huge.endswith("more bytes cut]")
        assert "1,04" in huge  # how much was cut: about a mebibyte
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
