"""The replay's keys and slider on a small recording made here (no cluster): pause, step, the
next and previous moment and finding, speed, back to the start; the status bar says REPLAY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmd_console.cluster.watch import Batch
from llmd_console.config import Config
from llmd_console.doctor.findings import Finding
from llmd_console.inference.request import Outcome, PromptRequest
from llmd_console.models import KindState
from llmd_console.recording.player import clock, load_player
from llmd_console.recording.recorder import Recorder
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.ui.panes.prompt import PromptPane
from llmd_console.ui.replay_app import ReplayApp
from llmd_console.ui.replay_bar import ReplayBar
from tests.console.conftest import until

START = 1_800_000_000.0


def pod(waiting: str = "") -> dict[str, Any]:
    """Pod ns/a, running, or waiting for ``waiting``."""
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2027-01-15T08:00:00Z"}}
    return {
        "metadata": {"name": "a", "namespace": "ns", "resourceVersion": waiting or "1"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "c", "ready": not waiting, "restartCount": 0, "state": state}],
        },
    }


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """30 s: pod a healthy, in CrashLoopBackOff from 10 s (a finding at 12 s), healthy from 20 s, a
    prompt answered at 25 s."""
    at = [START]
    path = tmp_path / "small.rec.gz"
    recorder = Recorder(path, context="ctx", namespace="ns", now=lambda: at[0])
    recorder.start_state({"pods": {}}, {}, "ns")
    steps = ((1.0, pod()), (10.0, pod("CrashLoopBackOff")), (12.0, None), (20.0, pod("")), (25.0, None), (30.0, None))
    for t, change in steps:
        at[0] = START + t
        if t == 12.0:
            recorder.findings([Finding("pod-crash", "error", "ns/a crashes")])
        elif t == 25.0:
            request = PromptRequest("Why is the sky blue?", "qwen")
            recorder.prompt(Outcome(request, "r1", 0.0, status=200, text="Rayleigh scattering.", ttft=0.04))
        elif change is not None:
            change["metadata"]["resourceVersion"] = str(t)
            recorder.batch(Batch(changed={"pods": {"ns/a": change}}, states={"pods": KindState("live")}))
        else:
            recorder.mark("the end")
    recorder.close()
    return path


def status_of_a(app: ReplayApp) -> str:
    """The STATUS cell of pod a as the pods pane shows it."""
    table = app.query_one(PodsPane).table
    return str(table.get_row("ns/a")[3]) if table.has_row("ns/a") else ""


async def test_keys_move_the_replay(recording: Path) -> None:
    player = load_player(recording, Config())
    # 1 s: the request path's objects do not exist (a moment too).
    assert [m.t for m in player.moments] == [1.0, 10.0, 12.0, 20.0, 25.0, 30.0]
    app = ReplayApp(Config(), player, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("space")
        assert app.replay_bar.paused
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert player.position == 10.0
        await until(pilot, lambda: status_of_a(app) == "CrashLoopBackOff", limit=5, what="the crash shown")
        assert f"REPLAY {clock(START + 10.0)}" in str(app.status_bar.render())
        await pilot.press("right_curly_bracket")
        assert player.position == 12.0
        await pilot.press("full_stop", "full_stop")
        assert player.position == 14.0
        await pilot.press("comma")
        assert player.position == 13.0
        await pilot.press("greater_than_sign")
        assert player.position == 20.0
        await until(pilot, lambda: status_of_a(app) == "Running", limit=5, what="the pod healthy again")
        await pilot.press("less_than_sign", "less_than_sign")
        assert player.position == 10.0
        await until(pilot, lambda: status_of_a(app) == "CrashLoopBackOff", limit=5, what="the crash, going back")
        app.query_one(PodsPane).table.focus()
        await pilot.press("d")  # describe reads the live object: a replay says why not
        await until(pilot, lambda: any("not the objects" in n.message for n in app._notifications), limit=5)
        assert len(app.screen_stack) == 1
        await pilot.press("plus", "plus")
        assert app.replay_bar.speed == 5.0
        await pilot.press("minus")
        assert app.replay_bar.speed == 2.0
        await pilot.press("0")
        assert player.position == 0.0
        start, width = app.replay_bar.slider_span
        await pilot.click(ReplayBar, offset=(start + (width - 1) // 2, 0))
        await until(pilot, lambda: abs(player.position - 15.0) < 0.5, limit=5, what="the middle, clicked")
        await pilot.press("space")
        assert not app.replay_bar.paused
        app.replay_bar.speed = 60.0
        await until(pilot, lambda: app.replay_bar.paused, limit=10, what="the end of the replay")
        assert player.position == player.duration == 30.0
        assert app.replay_bar.note == ""  # it ended as recorded
        prompt = app.query_one(PromptPane)
        assert prompt.input.text == "Why is the sky blue?"
        assert prompt.state.outcome is not None and prompt.state.outcome.text == "Rayleigh scattering."
        assert "".join(prompt.state.parts) == "Rayleigh scattering."


def test_a_crash_loop_is_one_moment(tmp_path: Path) -> None:
    at = [START]
    path = tmp_path / "loop.rec.gz"
    recorder = Recorder(path, context="ctx", namespace="ns", now=lambda: at[0])
    recorder.start_state({"pods": {}}, {}, "ns")
    for i in range(12):  # in and out of CrashLoopBackOff every 2 s, then well for good
        at[0] = START + 2.0 * i
        change = pod("CrashLoopBackOff" if i % 2 == 0 and i < 10 else "")
        change["metadata"]["resourceVersion"] = str(i)
        recorder.batch(Batch(changed={"pods": {"ns/a": change}}, states={"pods": KindState("live")}))
    recorder.close()
    texts = [(m.t, m.text) for m in load_player(path, Config()).moments if "pod" in m.text]
    assert texts == [(0.0, "pod ns/a: CrashLoopBackOff"), (18.0, "no pod in error")]
