"""Record a console session on the simulator with a fault and its fix, replay it, and the
replay shows what the panes showed at the same moments; a cut file replays up to the cut and
says so; garbage and a future version are refused; a planted token never reaches the file."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.text import Text
from textual.pilot import Pilot

from llmd_console.config import Config, UiConfig
from llmd_console.models import Phase, Snapshot
from llmd_console.recording.format import FORMAT, read_recording
from llmd_console.recording.player import Player, load_player
from llmd_console.session import Target
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import MODEL
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.messages import PodSelected
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.pods import COLUMNS, PodsPane
from llmd_console.ui.replay_app import ReplayApp
from tests.console.conftest import until
from tests.doctor.helpers import set_scenario

NAMESPACE = "llm-d-inference-scheduling"
PLANTED = "hf_ReplayPlantedToken9f3k2j4h5g6"
AGE = [c.key for c in COLUMNS].index("AGE")


@dataclass(frozen=True)
class Seen:
    """What the panes showed at ``t`` seconds into the recording."""

    t: float
    rows: tuple[tuple[str, ...], ...]  # the pods table, AGE left out (it is drawn at other instants)
    path: str  # the gateway pane's text
    findings: tuple[str, ...] = ()  # the doctor's findings, as "id subject"


def pods_rows(app: ConsoleApp) -> tuple[tuple[str, ...], ...]:
    """The pods table as shown, in order (AGE left out)."""
    table = app.query_one(PodsPane).table
    shown = table.keys()  # in the table's order
    return tuple(
        tuple(
            cell.plain if isinstance(cell, Text) else str(cell) for i, cell in enumerate(table.get_row(k)) if i != AGE
        )
        for k in shown
    )


def finding_keys(app: ConsoleApp) -> tuple[str, ...]:
    """The doctor's findings now, as "id subject", sorted."""
    return tuple(sorted(f"{f.id} {f.subject.key if f.subject else ''}" for f in app.findings))


def seen(app: ConsoleApp, t: float) -> Seen:
    """What the pods and gateway panes show now, and the doctor's findings."""
    return Seen(round(t, 3), pods_rows(app), app.query_one(GatewayPane).shown_text(), finding_keys(app))


def plant_secrets(cluster: SimCluster) -> None:
    """A pod whose env and args carry a token, an event quoting it, and a Secret holding it."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "planted", "namespace": NAMESPACE},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "args": [f"--hf-token={PLANTED}"],
                    "env": [{"name": "HF_TOKEN", "value": PLANTED}],
                }
            ]
        },
    }
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "planted.1", "namespace": NAMESPACE},
        "involvedObject": {"kind": "Pod", "name": "planted", "namespace": NAMESPACE},
        "reason": "Leaked",
        "message": f"curl -H 'Authorization: Bearer {PLANTED}'",
        "type": "Warning",
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "planted", "namespace": NAMESPACE},
        "stringData": {"token": PLANTED},
    }
    with httpx.Client(base_url=cluster.url, timeout=30) as api:
        for path, body in (("pods", pod), ("events", event), ("secrets", secret)):
            response = api.post(f"/api/v1/namespaces/{NAMESPACE}/{path}", json=body)
            assert response.status_code == 201, response.text


async def watch_until(
    pilot: Pilot[Any], app: ConsoleApp, started: float, log: list[Seen], condition: Any, what: str
) -> None:
    """Note what the panes show each time it changes (only when every recorded batch has been
    drawn: the session's snapshot is the one the panes last received), until ``condition``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        version = app.session.snapshot.version
        await pilot.pause()
        if app.session.snapshot.version == version and app.query_one(PodsPane).snapshot.version == version:
            now = seen(app, app.now() - started)
            if not log or (now.rows, now.path, now.findings) != (log[-1].rows, log[-1].path, log[-1].findings):
                log.append(now)
            if condition():
                return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def path_broken(app: ConsoleApp) -> bool:
    return bool(app.snapshot.problems)


def healthy(app: ConsoleApp) -> bool:
    pods = [p for p in app.snapshot.pods.values() if p.name != "planted"]
    return (
        app.connection.phase is Phase.CONNECTED
        and bool(pods)
        and all(p.ready == "1/1" for p in pods)
        and not app.snapshot.problems
    )


@pytest.fixture(scope="module")
def recorded(world: tuple[SimCluster, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Seen]]:
    """A recording of the console through a healthy world, the EPP down, and its fix."""
    cluster, kubeconfig = world
    path = tmp_path_factory.mktemp("rec") / "session.rec.gz"
    log: list[Seen] = []

    async def go() -> None:
        app = ConsoleApp(Config(), Target(str(kubeconfig), None, None), layout="default")
        assert app.start_recording(path) == ""
        assert app.recorder is not None
        started = app.recorder.started
        async with app.run_test(size=(160, 45)) as pilot:
            await watch_until(pilot, app, started, log, lambda: healthy(app), "a healthy world")
            plant_secrets(cluster)
            await watch_until(
                pilot, app, started, log, lambda: f"{NAMESPACE}/planted" in app.snapshot.pods, "the planted pod"
            )
            set_scenario(cluster, "epp-down")
            await watch_until(pilot, app, started, log, lambda: path_broken(app), "the EPP down")
            set_scenario(cluster, None)
            await watch_until(pilot, app, started, log, lambda: healthy(app), "the fix")
            app.stop_recording()

    asyncio.run(go())
    return path, log


def test_the_replay_shows_what_the_console_showed(recorded: tuple[Path, list[Seen]]) -> None:
    path, log = recorded
    assert len({s.path for s in log}) > 1  # the request path broke and healed
    assert len({s.rows for s in log}) > 2  # the rows moved: startup, the fault, the fix
    assert any(f.startswith("epp-") for s in log for f in s.findings), [s.findings for s in log]  # the doctor saw it
    player = load_player(path, Config())
    assert not player.problem
    assert any(m.text.startswith("request path: ") for m in player.moments)
    assert any(m.text == "request path healthy" for m in player.moments)

    async def go() -> list[Seen]:
        app = ReplayApp(Config(), player, layout="default")
        shown: list[Seen] = []
        async with app.run_test(size=(160, 45)) as pilot:
            app.replay_bar.paused = True
            for expected in log:
                app.jump(expected.t)
                with contextlib.suppress(AssertionError):  # the comparison below says what differs
                    await until(pilot, lambda e=expected: seen(app, e.t) == e, limit=5)  # type: ignore[misc]
                shown.append(seen(app, expected.t))
            assert "REPLAY" in app.status_bar.render().plain  # type: ignore[union-attr]
        return shown

    shown = asyncio.run(go())
    for expected, got in zip(log, shown, strict=True):
        missing = set(expected.rows) - set(got.rows)
        extra = set(got.rows) - set(expected.rows)
        assert got.rows == expected.rows, f"at {expected.t:.3f}s: not replayed {missing}, replayed instead {extra}"
        assert got.path == expected.path, f"at {expected.t:.3f}s"
        assert got.findings == expected.findings, f"at {expected.t:.3f}s"
    # The last thing shown, after the last record arrived, is still in the replay's span.
    assert player.duration >= log[-1].t


def test_no_secret_reaches_the_file(recorded: tuple[Path, list[Seen]]) -> None:
    path, _ = recorded
    raw = gzip.decompress(path.read_bytes())
    assert b'"planted"' in raw  # the pod and its event were recorded ...
    assert PLANTED.encode() not in raw  # ... without the token
    assert b'"kind":"Secret"' not in raw


def test_a_cut_file_replays_up_to_the_cut_and_says_so(recorded: tuple[Path, list[Seen]], tmp_path: Path) -> None:
    path, log = recorded
    data = path.read_bytes()
    cut = tmp_path / "cut.rec.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    recording = read_recording(cut)
    assert recording.problem.startswith("truncated") and not recording.complete
    player = Player(recording, Config())
    early = player.ends_early()
    assert early.startswith("recording ends early at ")
    assert f"({len(recording.records)} records read)" in early
    reachable = [s for s in log if s.t <= player.duration]
    assert reachable

    async def go() -> tuple[str, Seen]:
        app = ReplayApp(Config(), player, speed=1.0, layout="default")
        async with app.run_test(size=(160, 45)) as pilot:
            app.replay_bar.speed = 1000.0
            await until(pilot, lambda: app.replay_bar.note != "", limit=30, what="the end of the replay")
            app.jump(reachable[-1].t)
            await until(pilot, lambda: seen(app, reachable[-1].t) == reachable[-1], limit=5, what="the last rows")
            return str(app.query_one(PodsPane).notice.render()), seen(app, reachable[-1].t)

    notice, last = asyncio.run(go())
    assert notice == early
    assert last == reachable[-1]


def replay_cli(path: Path) -> subprocess.CompletedProcess[str]:
    """``llmd-console replay path`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "llmd_console", "replay", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_garbage_and_a_future_version_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.rec.gz"
    garbage.write_bytes(b"PK\x03\x04 not a recording at all" * 50)
    done = replay_cli(garbage)
    assert done.returncode == 2
    assert "cannot replay" in done.stderr and "is not an llmd-console recording" in done.stderr
    future = tmp_path / "future.rec.gz"
    future.write_bytes(
        gzip.compress(json.dumps({"format": FORMAT, "version": [9, 1], "started": 1.0}).encode() + b"\n")
    )
    done = replay_cli(future)
    assert done.returncode == 2
    assert "version 9.1 is newer than this llmd-console reads (1.0): upgrade llmd-console" in done.stderr


async def test_the_record_key_starts_and_stops_a_recording(world: tuple[SimCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = world
    config = Config(ui=UiConfig(screenshot_dir=str(tmp_path)))
    app = ConsoleApp(config, Target(str(kubeconfig), None, None), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: bool(app.snapshot.pods), limit=30, what="the pods listed")
        await pilot.press("W")
        assert app.recorder is not None
        assert str(app.status_bar.render()).startswith(" ● REC ")
        pods = set(app.snapshot.pods)
        await pilot.press("W")
        assert app.recorder is None
        assert "REC" not in str(app.status_bar.render())
    first = recorded_start(tmp_path)
    assert set(first.pods) == pods


async def test_the_size_limit_stops_recording_and_says_so(world: tuple[SimCluster, Path], tmp_path: Path) -> None:
    _, kubeconfig = world
    app = ConsoleApp(Config(), Target(str(kubeconfig), None, None), layout="default")
    tiny = tmp_path / "tiny.rec.gz"
    assert "stopped at once: the size limit of 1 bytes was reached" in app.start_recording(tiny, limit_bytes=1)
    path = tmp_path / "limited.rec.gz"
    async with app.run_test(size=(160, 45)) as pilot:
        assert app.start_recording(path) == ""
        recorder = app.recorder
        assert recorder is not None
        recorder.writer.limit_bytes = recorder.writer.size + 1  # the next bytes to reach the disk cross it
        await until(pilot, lambda: app.recorder is None, limit=30, what="the recording to stop")
        assert "REC" not in str(app.status_bar.render())

        def told() -> bool:  # a toast is posted as a message: it is on screen a moment later
            return any(n.message.startswith("recording stopped: the size limit of ") for n in app._notifications)

        await until(pilot, told, limit=10, what="the toast saying why the recording stopped")
    assert read_recording(path).complete


def recorded_start(directory: Path) -> Snapshot:
    """What the one recording in ``directory`` says the console knew when it began (it is complete)."""
    (path,) = directory.glob("llmd-console-*.rec.gz")
    recording = read_recording(path)
    assert recording.complete
    return Player(recording, Config()).snapshots[1][1]  # after the reset


ACCESS_LINE = '"POST /v1/completions HTTP/1.1" 200 OK'


def decode_pod(app: ConsoleApp) -> str:
    """The model server pod's key ("" while there is none)."""
    return next((k for k, p in sorted(app.snapshot.pods.items()) if p.role == "decode"), "")


def recorded_player(directory: Path) -> Player:
    """The one recording the record key wrote into ``directory``, ready to replay."""
    (path,) = directory.glob("llmd-console-*.rec.gz")
    return load_player(path, Config())


def has_line(pane: LogsPane, text: str) -> bool:
    """Whether ``pane`` holds a line containing ``text``."""
    return any(text in line for _, line in pane.lines)


def follows(pane: LogsPane, pod: str, text: str) -> bool:
    """Whether ``pane`` follows ``pod`` and holds a line containing ``text``."""
    return pane.target is not None and pane.target.key == pod and has_line(pane, text)


async def test_a_recording_begun_mid_stream_replays_the_followed_log(
    world: tuple[SimCluster, Path], tmp_path: Path
) -> None:
    """The record key pressed while the logs pane follows the model server: the replay shows the
    lines the pane already held, under the container's name, and a line logged while recording
    only from its moment on."""
    cluster, kubeconfig = world
    config = Config(ui=UiConfig(screenshot_dir=str(tmp_path)))
    app = ConsoleApp(config, Target(str(kubeconfig), None, None), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await until(pilot, lambda: healthy(app) and decode_pod(app), limit=60, what="a ready model server")
        pod = decode_pod(app)
        app.post_message(PodSelected(pod))
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: follows(logs, pod, "startup complete"), limit=30, what="the model server's log")
        assert logs.container == "vllm"
        await pilot.press("W")
        held = [text for _, text in logs.lines]
        assert not any(ACCESS_LINE in text for text in held)
        url = f"http://{cluster.ctx.gateway_address}"
        body = {"model": MODEL, "prompt": "ping", "max_tokens": 1}
        async with httpx.AsyncClient(timeout=30) as client:
            assert (await client.post(f"{url}/v1/completions", json=body)).status_code == 200
        await until(pilot, lambda: has_line(logs, ACCESS_LINE), limit=30, what="the request in the log")
        await pilot.press("W")
    player = recorded_player(tmp_path)
    # When the access line was recorded.
    (logged,) = [
        t
        for t, r in player.logs
        if r.get("pod") == pod.partition("/")[2] and any(ACCESS_LINE in text for _, text in r.get("lines", ()))
    ]
    assert logged > 0

    replay = ReplayApp(Config(), player, layout="default")
    async with replay.run_test(size=(160, 45)) as pilot:
        replay.replay_bar.paused = True
        replay.post_message(PodSelected(pod))
        shown = replay.query_one(LogsPane)
        replay.jump(logged - 0.001)
        await until(
            pilot, lambda: follows(shown, pod, "startup complete"), limit=10, what="the lines held when recording began"
        )
        assert shown.container == "vllm"
        assert "[vllm]" in shown.header.render().plain  # type: ignore[union-attr]
        assert [text for _, text in shown.lines][-len(held) :] == held
        assert not has_line(shown, ACCESS_LINE)  # not yet
        replay.jump(logged)
        await until(pilot, lambda: has_line(shown, ACCESS_LINE), limit=10, what="the request's line at its moment")
        assert shown.container == "vllm"
