"""The replay's problems strip: drawn from the findings recorded at the replay's position (the
replay runs no rules of its own), "no problems found" while the recording had none; findings
are not toasted (the strip shows them), marks and prompt results still are."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_console.cluster.kube import KINDS
from llmd_console.cluster.watch import Batch
from llmd_console.config import Config
from llmd_console.doctor.findings import Finding
from llmd_console.inference.request import Outcome, PromptRequest
from llmd_console.models import KindState
from llmd_console.recording.player import load_player
from llmd_console.recording.recorder import Recorder
from llmd_console.ui.replay_app import ReplayApp
from tests.console.conftest import until
from tests.recording.test_replay_keys import START, pod

TITLE = "ns/a is in CrashLoopBackOff [demo]"  # with brackets: shown as text, not markup


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """20 s, every kind listed: pod a crashes from 5 s, the doctor says so at 8 s and clears at
    15 s; a mark at 10 s and a prompt answered at 12 s."""
    at = [START]
    path = tmp_path / "doctor.rec.gz"
    recorder = Recorder(path, context="ctx", namespace="ns", now=lambda: at[0])
    recorder.start_state({k: {} for k in KINDS}, {k: KindState("live") for k in KINDS}, "ns")

    def pod_now(waiting: str, t: float) -> None:
        change = pod(waiting)
        change["metadata"]["resourceVersion"] = str(t)
        recorder.batch(Batch(changed={"pods": {"ns/a": change}}))

    for t in (1.0, 5.0, 8.0, 10.0, 12.0, 15.0, 20.0):
        at[0] = START + t
        if t in (1.0, 5.0):
            pod_now("CrashLoopBackOff" if t == 5.0 else "", t)
        elif t == 8.0:
            recorder.findings([Finding("pod-crash", "error", TITLE)])
        elif t == 10.0:
            recorder.mark("fault scenario: crash")
        elif t == 12.0:
            recorder.prompt(Outcome(PromptRequest("hi", "qwen"), "r1", 0.0, status=200, text="hello", ttft=0.04))
        elif t == 15.0:
            recorder.findings([])
            pod_now("", t)
    recorder.close()
    return path


def strip(app: ReplayApp) -> str:
    """What the problems strip shows."""
    return str(app.problems_strip.render())


def toasts(app: ReplayApp) -> list[str]:
    """The toasts shown so far."""
    return [n.message for n in app._notifications]


async def test_the_strip_shows_the_recorded_findings_at_the_replay_position(recording: Path) -> None:
    app = ReplayApp(Config(), load_player(recording, Config()), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        app.replay_bar.paused = True
        assert app.problems_strip.is_mounted and app.problems_strip.region.height == 1
        assert not app.doctor_live  # the recorded findings, not rules run over the replay
        app.jump(3.0)
        await until(pilot, lambda: "no problems found" in strip(app), limit=5, what="healthy at 3 s")
        app.jump(9.0)
        await until(pilot, lambda: TITLE in strip(app), limit=5, what="the finding at 9 s")
        assert "1 error" in strip(app)
        app.jump(16.0)
        await until(pilot, lambda: "no problems found" in strip(app), limit=5, what="healthy again at 16 s")
        app.jump(0.0)
        await pilot.press("right_curly_bracket")  # to the finding: the strip says it, no toast
        assert app.player.position == 8.0
        await until(pilot, lambda: TITLE in strip(app), limit=5, what="the finding, jumped to")
        await pilot.press("0", "space")
        app.replay_bar.speed = 60.0
        await until(pilot, lambda: app.replay_bar.paused, limit=10, what="the end of the replay")
        assert app.doctor_evaluations == 0
        shown = toasts(app)
    assert not [t for t in shown if "finding" in t or TITLE in t], shown
    assert "fault scenario: crash" in shown
    assert any(t.startswith("prompt answered (HTTP 200") for t in shown), shown
