"""The console's responsiveness, against the simulator running in its own process.

Prints:
1. time to first frame and to first data of ``llmd-console demo`` (cold process);
2. delay from a pod change in the API to the change in the pods table (p50/p95);
3. key-press-to-repaint latency and memory with ~10,000 pods and ~1,000 nodes;
4. sustained log lines/s into the logs pane, with the key latency meanwhile;
5. idle CPU of the console process;
6. its CPU with the metrics pane live, and key latency during scrapes;
7. a load run from the prompt pane: what it drives, and key latency meanwhile.

Every wait has a deadline: a stage that passes one prints what it was waiting for and
what it saw, and the run moves on to the next stage (and exits non-zero at the end).

Run:  python benchmarks/console_perf.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bench_common import SimProcess, StageFailed, percentile, rss_mib, run_stages

NS = "llm-d-inference-scheduling"
SIM_START_SECONDS = 300  # a 10,000-pod world is serving in ~5 s on 2 cores
FIRST_PODS_SECONDS = 120
ROW_SECONDS = 30  # one created pod to its row in the table (normally ~0.1 s)
FILL_SECONDS = 300  # 10,000 rows in the table (normally ~10 s)
KEY_SECONDS = 5  # one key press to the cursor moving (normally a few ms)
FLOOD_POD_SECONDS = 60
FLOOD_LINES_SECONDS = 60


async def wait_until(
    done: Callable[[], bool], seconds: float, waiting_for: str, saw: Callable[[], str], poll: float = 0.05
) -> None:
    """Poll ``done`` every ``poll`` s; after ``seconds``, fail with what was seen."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise StageFailed(f"timed out after {seconds:g} s waiting for {waiting_for}; saw {saw()}")
        await asyncio.sleep(poll)


# ---- 1. first frame and first data --------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from llmd_console.config import Config
    from llmd_console.console_main import DemoCluster
    from llmd_console.ui.app import ConsoleApp, Target

    demo = DemoCluster(20.0, "tpu", None)

    class Timed(ConsoleApp):
        def on_mount(self):
            # Textual calls ConsoleApp.on_mount itself (handlers run for each class of the MRO);
            # calling super() here would lay the screen out twice.
            self.call_after_refresh(lambda: print("frame", time.time(), flush=True))
        def on_snapshot_arrived(self, message):
            super().on_snapshot_arrived(message)
            if message.snapshot.pods:
                print("data", time.time(), flush=True)
                self.exit()

    app = Timed(Config(), Target(str(demo.kubeconfig), "llmd-sim", None), demo=True, wait_ready=demo.ready)
    app.run(headless=True, size=(160, 45))
    demo.stop()
    """
)


def first_frame(runs: int) -> None:
    """Cold start of the demo to the first frame and the first pods on screen."""
    frames, data = [], []
    for i in range(runs):
        start = time.time()
        try:
            out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True)
        except subprocess.TimeoutExpired as exc:
            seen = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            raise StageFailed(
                f"timed out after 120 s waiting for run {i + 1} of {runs} to show its first pods and exit; "
                f"saw marks {[line.split()[0] for line in seen.splitlines() if line.startswith(('frame', 'data'))]}"
                f", stderr ending {err[-300:]!r}"
            ) from exc
        marks = dict(line.split() for line in out.stdout.splitlines() if line.startswith(("frame", "data")))
        frames.append(float(marks["frame"]) - start)
        data.append(float(marks["data"]) - start)
    print(f"demo cold start ({runs} runs): first frame p50 {statistics.median(frames):.2f} s "
          f"(max {max(frames):.2f}); first data p50 {statistics.median(data):.2f} s (max {max(data):.2f})")  # fmt: skip


# ---- shared: the app in this process, headless ---------------------------------------
async def with_app(kubeconfig: Path, body: Any, size: tuple[int, int] = (160, 45), **kwargs: Any) -> Any:
    """Run ``body(app, pilot)`` inside a headless app connected to the simulator."""
    from llmd_console.config import Config
    from llmd_console.ui.app import ConsoleApp, Target

    app = ConsoleApp(Config(), Target(str(kubeconfig), None, kwargs.pop("namespace", None)), **kwargs)
    app.started = time.perf_counter()  # type: ignore[attr-defined]
    app.first_pods_at = None  # type: ignore[attr-defined]
    apply = app.session._apply

    def timed_apply(batch: Any) -> None:
        # When the first list of pods arrived (before the console did anything with it).
        if app.first_pods_at is None and batch.relisted.get("pods"):  # type: ignore[attr-defined]
            app.first_pods_at = time.perf_counter()  # type: ignore[attr-defined]
        apply(batch)

    app.session._apply = timed_apply  # type: ignore[method-assign]
    async with app.run_test(size=size) as pilot:
        await wait_until(
            lambda: bool(app.snapshot.pods),
            FIRST_PODS_SECONDS,
            "the console's first pods",
            lambda: f"connection {app.connection.label}, kinds {kind_states(app)}",
        )
        return await body(app, pilot)


def kind_states(app: Any) -> str:
    """What the console's watches are doing, per kind."""
    return ", ".join(f"{kind} {state.status}" for kind, state in sorted(app.snapshot.kinds.items())) or "none yet"


async def key_to_cursor(app: Any, table: Any, key: str) -> float:
    """Seconds from a key event to the table's cursor having moved (pilot.press would also wait
    for the whole process to go idle, which a busy simulator in the same process never does)."""
    from textual import events

    before = table.cursor_row
    start = time.perf_counter()
    app.post_message(events.Key(key, None))
    while table.cursor_row == before:
        if time.perf_counter() - start > KEY_SECONDS:
            raise StageFailed(
                f"timed out after {KEY_SECONDS} s waiting for the key {key!r} to move the cursor of {table}; "
                f"saw it still on row {table.cursor_row} (focus: {app.focused})"
            )
        await asyncio.sleep(0.0005)
    return time.perf_counter() - start


# ---- 2. API change to screen ---------------------------------------------------------
def change_to_screen(samples: int) -> None:
    """Create pods through the API; time until each row is in the pods table."""
    sim = SimProcess("--speed", "1")

    async def body(app: Any, pilot: Any) -> list[float]:
        from llmd_console.ui.panes.pods import PodsPane

        table = app.query_one(PodsPane)
        delays = []

        async def row_shown(name: str, measured: int) -> None:
            key = f"{NS}/{name}"
            await wait_until(
                lambda: key in table._shown,
                ROW_SECONDS,
                f"pod {name} (created through the API) in the pods table",
                lambda: (
                    f"it {'is' if key in app.snapshot.pods else 'is not'} in the console's state, "
                    f"{len(table._shown)} rows in the table, connection {app.connection.label}; "
                    f"{measured} of {samples} samples measured before it"
                ),
                poll=0.002,
            )

        async with httpx.AsyncClient(base_url=sim.url) as client:
            for i in range(samples):
                name = f"bench-{i}"
                start = time.perf_counter()
                response = await client.post(
                    f"/api/v1/namespaces/{NS}/pods",
                    json={"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
                )
                assert response.status_code == 201, response.text
                await row_shown(name, measured=i)
                delays.append(time.perf_counter() - start)
                await asyncio.sleep(0.05)
        return delays

    try:
        delays = asyncio.run(with_app(sim.kubeconfig, body, layout="oncall"))
    finally:
        sim.close()
    print(f"pod created in the API -> row in the table ({samples} pods): "
          f"p50 {percentile(delays, 50) * 1000:.0f} ms, p95 {percentile(delays, 95) * 1000:.0f} ms")  # fmt: skip


# ---- 3. key-to-repaint at scale -------------------------------------------------------
def key_latency_at_scale(nodes: int, pods: int, presses: int) -> None:
    """Cursor movement in a 10,000-row pods table; memory of the console."""
    sim = SimProcess("--speed", "1", "--nodes", str(nodes), "--pods", str(pods), start_seconds=SIM_START_SECONDS)
    before = rss_mib()

    async def body(app: Any, pilot: Any) -> tuple[list[float], float, float, float]:
        from llmd_console.ui.panes.pods import PodsPane

        pane = app.query_one(PodsPane)
        await wait_until(
            lambda: len(pane._shown) >= pods,
            FILL_SECONDS,
            f"all {pods:,} pods in the pods table",
            lambda: (
                f"{len(pane._shown):,} rows in the table, {len(app.snapshot.pods):,} pods in the console's state, "
                f"connection {app.connection.label}"
            ),
        )
        await pilot.pause()  # and painted
        load_seconds = time.perf_counter() - app.started
        from_list = time.perf_counter() - app.first_pods_at
        pane.table.focus()
        await pilot.pause(0.5)
        latencies = []
        for i in range(presses):
            latencies.append(await key_to_cursor(app, pane.table, "down" if i % 20 < 10 else "up"))
            await asyncio.sleep(0.05)
        return latencies, load_seconds, from_list, rss_mib()

    try:
        latencies, load_seconds, from_list, after = asyncio.run(
            with_app(sim.kubeconfig, body, layout="oncall", namespace="all")
        )
    finally:
        sim.close()
    p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
    print(f"{pods} pods / {nodes} nodes: all rows in the table {load_seconds:.1f} s after the app started, "
          f"{from_list:.2f} s after the pod list arrived; "
          f"key -> cursor moved p50 {p50:.0f} ms, p95 {p95:.0f} ms; "
          f"console memory {after:.0f} MiB (+{after - before:.0f} MiB)")  # fmt: skip


# ---- 4. log throughput ------------------------------------------------------------------
def log_throughput(seconds: float) -> None:
    """A pod running ``yes`` (20,000 lines/s offered); the logs pane follows it while keys are pressed."""
    sim = SimProcess("--speed", "1")
    line = "INFO flood " + "x" * 80
    pod = {
        "metadata": {"name": "chatty"},
        "spec": {"containers": [{"name": "yes", "image": "busybox:1.36", "command": ["yes", line]}]},
    }
    created = httpx.post(f"{sim.url}/api/v1/namespaces/{NS}/pods", json=pod)
    assert created.status_code == 201, created.text

    async def body(app: Any, pilot: Any) -> tuple[float, list[float], int]:
        from llmd_console.ui.panes.logs import LogsPane
        from llmd_console.ui.panes.nodes import NodesPane
        from llmd_console.ui.panes.pods import PodsPane

        logs = app.query_one(LogsPane)
        pods = app.query_one(PodsPane)
        chatty = f"{NS}/chatty"
        await wait_until(
            lambda: chatty in pods._shown,
            FLOOD_POD_SECONDS,
            "pod chatty in the pods table",
            lambda: (
                f"{len(app.snapshot.pods)} pods ({', '.join(sorted(app.snapshot.pods)[:5])}), "
                f"connection {app.connection.label}"
            ),
        )
        # Select it as the arrow keys would: the pods pane tells the app, which switches the log. (Calling
        # LogsPane.show_pod directly raced the pods pane's own first selection, still on its way to the app,
        # which then switched the log to the decode pod.) Its message follows any earlier selection's.
        pods.table.move_to_key(chatty)

        def following() -> str:
            target = logs.target
            return f"{target.namespace}/{target.pod} [{logs.container}]" if target else "no pod"

        def on_chatty() -> bool:
            return pods.selected == chatty and logs.target is not None and logs.target.pod == "chatty"

        await wait_until(
            lambda: on_chatty() and logs.received >= 1000,
            FLOOD_LINES_SECONDS,
            "1,000 lines in the logs pane",
            lambda: (
                f"{logs.received:,} lines, stream state {logs.stream_state!r}, the pane following {following()}, "
                f"the pods pane's selection {pods.selected}"
            ),
        )
        # Keys go to the nodes table: moving in the pods table would switch the log to another pod.
        table = app.query_one(NodesPane).table
        table.focus()
        start_count, start = logs.received, time.perf_counter()
        keys = []
        while time.perf_counter() - start < seconds:
            key = "down" if table.cursor_row == 0 else "up"
            keys.append(await key_to_cursor(app, table, key))
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - start
        if not on_chatty():
            raise StageFailed(
                f"the logs pane left chatty during the measurement: it follows {following()}, "
                f"the pods pane's selection {pods.selected}"
            )
        return (logs.received - start_count) / elapsed, keys, logs.log_view.line_count

    try:
        lines_per_s, keys, kept = asyncio.run(with_app(sim.kubeconfig, body, layout="oncall"))
    finally:
        sim.close()
    print(f"log flood (a pod running yes, 20,000 lines/s offered) for {seconds:.0f} s: {lines_per_s:.0f} lines/s "
          f"shown, {kept} lines kept (bounded); key p50 {percentile(keys, 50) * 1000:.0f} ms, "
          f"p95 {percentile(keys, 95) * 1000:.0f} ms meanwhile")  # fmt: skip


# ---- 5. idle CPU -------------------------------------------------------------------------
def idle_cpu(seconds: float) -> None:
    """CPU the console uses while nothing changes (a settled Pattern 1 world), and while the decode
    pod walks through its TPU startup in real time (log lines arrive, the probe budget counts down)."""
    for label, speed, settled in (("settled world", "1000", True), ("TPU startup at real speed", "1", False)):
        sim = SimProcess("--speed", speed)

        async def body(app: Any, pilot: Any, settled: bool = settled) -> float:
            if settled:
                await wait_until(
                    lambda: any(p.role == "decode" and p.is_ready for p in app.snapshot.pods.values()),
                    FIRST_PODS_SECONDS,
                    "a Ready decode pod",
                    lambda: f"pods {[p.status for p in app.snapshot.pods.values()]}",
                )
            await asyncio.sleep(3)  # let startup work finish
            before = resource.getrusage(resource.RUSAGE_SELF)
            start = time.perf_counter()
            await asyncio.sleep(seconds)
            after = resource.getrusage(resource.RUSAGE_SELF)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return used / (time.perf_counter() - start)

        try:
            share = asyncio.run(with_app(sim.kubeconfig, body, layout="default"))
        finally:
            sim.close()
        print(f"console CPU, {label} ({seconds:.0f} s, default layout, Pattern 1): {share * 100:.1f}% of one core")


# ---- 6. metrics live ----------------------------------------------------------------------
def metrics_live(seconds: float, presses: int) -> None:
    """The metrics pane live at its default 2 s interval on a settled world with no requests:
    the console's CPU, and key -> cursor latency while scrapes come and go."""
    sim = SimProcess("--speed", "1000")

    async def body(app: Any, pilot: Any) -> tuple[float, int, list[float]]:
        from llmd_console.ui.panes.metrics import MetricsPane
        from llmd_console.ui.panes.pods import PodsPane

        pane = app.query_one(MetricsPane)
        await wait_until(lambda: pane.rounds >= 3, FIRST_PODS_SECONDS, "three metrics rounds", lambda: f"{pane.rounds}")
        before_rounds = pane.rounds
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        share = used / (time.perf_counter() - start)
        rounds = pane.rounds - before_rounds
        table = app.query_one(PodsPane).table
        table.focus()
        await pilot.pause(0.2)
        latencies = []
        for _ in range(presses):
            latencies.append(await key_to_cursor(app, table, "down" if table.cursor_row == 0 else "up"))
            await asyncio.sleep(0.1)  # presses spread over several scrape rounds
        return share, rounds, latencies

    try:
        share, rounds, latencies = asyncio.run(with_app(sim.kubeconfig, body, layout="default"))
    finally:
        sim.close()
    print(f"console CPU with the metrics pane live (2 s scrapes, {rounds} rounds in {seconds:.0f} s, no requests): "
          f"{share * 100:.1f}% of one core; key -> cursor moved during scrapes ({len(latencies)} presses): "
          f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms")  # fmt: skip


# ---- 7. a load run from the prompt pane ------------------------------------------------------
def load_from_the_pane(requests: int, concurrency: int, presses: int) -> None:
    """A load run started from the prompt pane against a simulator answering at once (latency
    scale 0): what it drives (requests/s, streamed tokens/s) and key -> cursor latency meanwhile."""
    sim = SimProcess("--speed", "1000", "--latency-scale", "0")

    async def body(app: Any, pilot: Any) -> tuple[Any, list[float]]:
        from llmd_console.inference.request import PromptRequest
        from llmd_console.load.profiles import Concurrent
        from llmd_console.ui.load_plan import LoadPlan
        from llmd_console.ui.messages import LoadRequested
        from llmd_console.ui.panes.pods import PodsPane

        await wait_until(
            lambda: app.prompting.state is not None and bool(app.prompting.state.models),
            FIRST_PODS_SECONDS,
            "the prompt pane's served models",
            lambda: f"endpoint {app.prompting.state.endpoint if app.prompting.state else '-'}",
        )
        state = app.prompting.state
        request = PromptRequest("", state.models[0], max_tokens=64)
        plan = LoadPlan(Concurrent(requests, concurrency))
        app.post_message(LoadRequested(plan, request, f"benchmark {requests} at {concurrency}"))
        await wait_until(lambda: state.load.running, 30, "the run to start", lambda: state.load.problem)
        table = app.query_one(PodsPane).table
        table.focus()
        latencies: list[float] = []
        while state.load.running and len(latencies) < presses:
            latencies.append(await key_to_cursor(app, table, "down" if table.cursor_row == 0 else "up"))
            await asyncio.sleep(0.05)
        await wait_until(lambda: bool(state.load.summary), 600, "the run's summary", lambda: f"{state.load.snapshot}")
        return state.load.snapshot, latencies

    try:
        snapshot, latencies = asyncio.run(with_app(sim.kubeconfig, body, layout="default"))
    finally:
        sim.close()
    print(f"load from the prompt pane, {requests} requests at concurrency {concurrency}, 64 tokens each, "
          f"simulator at zero latency: {snapshot.sent} sent, {snapshot.completed} done, {snapshot.failed} failed, "
          f"{snapshot.cancelled} cancelled in {snapshot.elapsed:.1f} s "
          f"= {snapshot.completed / snapshot.elapsed:.0f} requests/s, {snapshot.output_tokens / snapshot.elapsed:,.0f} "
          f"streamed tokens/s; key -> cursor moved meanwhile ({len(latencies)} presses): "
          f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples, a smaller large world")
    parser.add_argument("--only", default=None, help="run only the stages whose name contains this")
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    q = args.quick
    stages: list[tuple[str, Callable[[], None]]] = [
        ("demo cold start", lambda: first_frame(2 if q else 5)),
        ("API change to screen", lambda: change_to_screen(20 if q else 60)),
        (
            "key latency at scale",
            lambda: key_latency_at_scale(200 if q else 1000, 2000 if q else 10_000, 20 if q else 60),
        ),
        ("log flood", lambda: log_throughput(5 if q else 10)),
        ("idle console", lambda: idle_cpu(5 if q else 10)),
        ("metrics live", lambda: metrics_live(10 if q else 30, 40 if q else 100)),
        ("load from the pane", lambda: load_from_the_pane(500 if q else 2000, 32 if q else 64, 100 if q else 300)),
    ]
    if args.only:
        stages = [stage for stage in stages if args.only in stage[0]]
    failed = run_stages(stages)
    print(json.dumps({"python": sys.version.split()[0]}))
    if failed:
        raise SystemExit(f"stages that did not finish: {', '.join(failed)}")


if __name__ == "__main__":
    main()
