"""The live doctor in the console, against the simulator at demo speed: every scenario's expected
finding and its fix on screen within 20 s of the fault showing in the cluster, without scrolling,
at 160x45 and 80x24; the problems strip in every layout; a healthy world (also every namespace,
with a second healthy stack) with no finding at all; going to a finding's object, copying its
fix and asking for its action."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from llmd_console.config import Config
from llmd_console.doctor.crashes import BY_ID
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.summary import Summary, starting_pods, summarize
from llmd_console.models import Container, Hop, KindState, Pod, RequestPath, Snapshot
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.ui.app import ConsoleApp, Target
from llmd_console.ui.doctor_view import DoctorScreen, strip_text
from llmd_console.ui.messages import ActionRequested, PodSelected
from llmd_console.ui.panes.doctor import DoctorPane
from llmd_console.ui.panes.gateway import GatewayPane, path_findings
from llmd_console.ui.panes.logs import LogsPane
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.views.gateway import SYMPTOMS
from tests.conftest import Kubectl, require_tool
from tests.console.conftest import make_app, until
from tests.doctor.helpers import set_scenario
from tests.doctor.test_api_faults import TEAM_B
from tests.doctor.test_scenarios import EXPECTED

DEMO_SPEED = 20.0  # llmd-console demo's default
BUDGET = 20.0  # seconds from the fault showing in the cluster to its finding and fix on screen (issue 13)
PATTERN1 = f"{NAMESPACE}/infra-pattern1-inference-gateway"
# What the request path reports while the model server starts: consequences, not the fault.
# The order the scenarios are gone through: the request path's first (no model server restart).
ORDER = [
    "httproute-missing",
    "httproute-port",
    "gateway-no-address",
    "epp-down",
    "tpu-pool-empty",
    "no-tpu-devices",
    "pjrt-bounds",
    "xla-timeout",
    "oom",
    "gemma-tp4",
    "hf-403",
]


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimCluster, Path]]:
    """Pattern 1 on TPU at the demo's speed, and its kubeconfig."""
    with SimCluster(SimOptions(speed=DEMO_SPEED, seed=13)) as cluster:
        yield cluster, cluster.write_kubeconfig(tmp_path_factory.mktemp("doctor") / "kubeconfig")


class RecordingApp(ConsoleApp):
    """The console, also keeping the action requests its panes post (the app's own answer to them
    is another feature's; here only the request matters)."""

    def __init__(self, kubeconfig: Path, namespace: str | None = None) -> None:
        super().__init__(Config(), Target(str(kubeconfig), None, namespace), layout="auto")
        self.requested: list[ActionRequested] = []

    def on_action_requested(self, message: ActionRequested) -> None:
        self.requested.append(message)


def screen_text(app: ConsoleApp) -> str:
    """Everything on screen, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def squashed(text: str) -> str:
    """Without whitespace: a command wrapped over two lines reads as one."""
    return re.sub(r"\s+", "", text)


def fault_shows(snapshot: Snapshot) -> bool:
    """The fault shows in the cluster: a hop of Pattern 1's request path fails for a reason of its
    own, or a model server pod crashed, was killed, or cannot be scheduled."""
    for path in snapshot.paths:
        if path.title == PATTERN1 and any(h.problem and h.code not in SYMPTOMS for h in path.hops):
            return True
    for pod in snapshot.pods.values():
        if pod.namespace != NAMESPACE or pod.role != "decode" or pod.terminating:
            continue
        if pod.restarts or any(c.last_exit or c.waiting == "CrashLoopBackOff" for c in pod.containers):
            return True
        if not pod.node and any(e.reason == "FailedScheduling" for e in snapshot.events_of(pod.key)):
            return True
    return False


def strip_of(app: ConsoleApp) -> str:
    return strip_text(app.doctor_summary).plain


def healthy(app: ConsoleApp) -> bool:
    return not app.findings and app.doctor_summary.state == "healthy" and "no problems found" in screen_text(app)


@dataclass
class Shown:
    """What a scenario's check found on screen."""

    finding: Finding | None = None


def shown_with_fix(app: ConsoleApp, fid: str, fix: str, into: Shown) -> bool:
    """The doctor screen shows finding ``fid``: its title and the fix command holding ``fix``."""
    found = next((f for f in app.findings if f.id == fid), None)
    if found is None or not isinstance(app.screen, DoctorScreen):
        return False
    command = next((c for c in found.fix if fix in c), None)
    text = squashed(screen_text(app))
    into.finding = found
    return command is not None and squashed(command) in text and squashed(found.title[:60]) in text


async def go_through(pilot: Pilot[Any], app: RecordingApp, cluster: SimCluster, name: str) -> None:
    fid, fix, _ = EXPECTED[name]
    await until(pilot, lambda: healthy(app), limit=120, what=f"before {name}: a healthy world with no finding")
    set_scenario(cluster, name)
    await until(pilot, lambda: fault_shows(app.snapshot), limit=120, what=f"{name}: the fault showing in the cluster")
    if name == "httproute-missing":
        await opened_at_first_problem(pilot, app)
    await pilot.press("exclamation_mark")
    seen = Shown()
    await until(
        pilot,
        lambda: shown_with_fix(app, fid, fix, seen),
        limit=BUDGET,
        what=f"{name}: finding {fid} with its fix ({fix}) on screen at 160x45 within {BUDGET:g} s; "
        f"findings {[f.id for f in app.findings]}",
    )
    await pilot.resize_terminal(80, 24)
    await until(pilot, lambda: shown_with_fix(app, fid, fix, seen), limit=5, what=f"{name}: {fid} and fix at 80x24")
    await pilot.press("escape")
    # The strip, under the status bar of the compact layout: the count and the worst finding.
    await until(pilot, lambda: not isinstance(app.screen, DoctorScreen), limit=5, what="the doctor view closed")
    await until(pilot, lambda: "error" in strip_of(app) and strip_of(app)[:40] in screen_text(app), what="the strip")
    await pilot.resize_terminal(160, 45)
    if name == "tpu-pool-empty":
        await copy_act_and_jump(pilot, app, fid)
    subject = seen.finding.subject if seen.finding is not None else None
    pod = app.snapshot.pods.get(subject.key) if subject is not None else None
    if fid in BY_ID and pod is not None and pod.role == "decode":  # the tracker is vLLM's
        await tracker_names_the_crash(pilot, app, fid, pod.key)
    set_scenario(cluster, None)


async def tracker_names_the_crash(pilot: Pilot[Any], app: ConsoleApp, fid: str, pod: str) -> None:
    """The logs pane's startup tracker names the known failure and its finding."""
    await until(pilot, lambda: app.layout_name == "default" and bool(app.query(LogsPane)), what="the default layout")
    app.post_message(PodSelected(pod))
    logs = app.query_one(LogsPane)

    def named() -> bool:
        crash = logs.tracker.crash
        return crash is not None and crash.id == fid and f"finding {fid}" in screen_text(app)

    await until(
        pilot,
        named,
        limit=30,
        what=f"the startup tracker of {pod} naming {fid}",
    )


async def copy_act_and_jump(pilot: Pilot[Any], app: RecordingApp, fid: str) -> None:
    """In the doctor view: c copies the fix, a asks for its action, enter goes to the pod."""
    await pilot.press("exclamation_mark")
    screen = app.screen
    assert isinstance(screen, DoctorScreen)
    view = screen.view
    await until(pilot, lambda: any(f.id == fid for f in view.findings), what=f"{fid} listed")
    at = next(i for i, f in enumerate(view.findings) if f.id == fid)
    view.options.highlighted = at
    await pilot.press("c")

    def copied() -> bool:
        # The highlighted finding's (the list follows the cluster: a pool being drained reads as
        # pending-no-chips, then tpu-pool-empty, with their own fixes).
        shown = view.highlighted
        return shown is not None and bool(shown.fix) and app.clipboard == "\n".join(shown.fix) + "\n"

    await until(pilot, copied, what="the highlighted finding's fix in the clipboard")
    await pilot.press("a")
    await until(pilot, lambda: bool(app.requested), what="the scale-node-pool action asked for")
    assert app.requested[-1].action == "scale-node-pool"
    finding = view.highlighted
    assert finding is not None
    subject = finding.subject
    assert subject is not None and subject.kind == "Pod"
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, DoctorScreen), what="back to the layout")
    pods = app.query_one(PodsPane)
    await until(
        pilot,
        lambda: pods.is_on_screen and pods.table.cursor_key == subject.key and app.selected_pod == subject.key,
        what=f"the pods pane on {subject.key}",
    )


async def opened_at_first_problem(pilot: Pilot[Any], app: ConsoleApp) -> None:
    """The gateway pane is scrolled to its first failing hop (the missing HTTPRoute)."""
    pane = app.panes["gateway"]
    assert isinstance(pane, GatewayPane)

    seen: list[str] = []

    def at_route() -> bool:
        scroll = pane.query_one("#gateway-scroll")
        top = int(scroll.scroll_y)
        lines = pane.shown_text().splitlines()
        seen[:] = [f"top {top} of {len(lines)}: {lines[top : top + 2]}"]
        return 0 < top < len(lines) and "HTTPRoute" in lines[top]

    try:
        await until(pilot, at_route, limit=10, what="the gateway pane scrolled to the HTTPRoute hop")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {seen}") from None


@pytest.mark.timeout(900)  # eleven faults and eleven recoveries (cold starts) at the demo's speed
async def test_every_scenario_is_on_screen_with_its_fix_and_clears(demo_world: tuple[SimCluster, Path]) -> None:
    assert sorted(ORDER) == sorted(EXPECTED)
    cluster, kubeconfig = demo_world
    app = RecordingApp(kubeconfig)
    async with app.run_test(size=(160, 45)) as pilot:
        try:
            for name in ORDER:
                await go_through(pilot, app, cluster, name)
        finally:
            set_scenario(cluster, None)
        await until(pilot, lambda: healthy(app), limit=120, what="healthy again after the last scenario")


@pytest.mark.timeout(300)
async def test_every_namespace_with_a_second_stack_has_no_finding(demo_world: tuple[SimCluster, Path]) -> None:
    cluster, kubeconfig = demo_world
    kubectl = Kubectl(require_tool("kubectl"), kubeconfig)
    set_scenario(cluster, None)
    kubectl.run("apply", "-f", "-", stdin=TEAM_B)
    try:
        app = make_app(kubeconfig, namespace="all", layout="auto")
        async with app.run_test(size=(80, 24)) as pilot:

            def both_stacks() -> bool:
                titles = {p.title for p in app.snapshot.paths}
                return titles == {PATTERN1, "team-b/team-b-gateway"}

            await until(pilot, both_stacks, limit=60, what="both stacks on the request path")
            await until(pilot, lambda: healthy(app), limit=120, what="every namespace healthy, with no finding")
            evaluated = app.doctor_evaluations
            # Still none a few evaluations later (metrics rounds and log reads included).
            await until(pilot, lambda: app.doctor_evaluations >= evaluated + 3, limit=30, what="three more rounds")
            assert app.findings == (), [f.title for f in app.findings]
            await pilot.press("exclamation_mark")
            await until(pilot, lambda: "no problems found" in screen_text(app), what="the doctor view, empty")
    finally:
        kubectl.run("delete", "namespace", "team-b", "--wait=false")


# ---- without a cluster --------------------------------------------------------------------
def _pod(name: str, *, ready: bool = False, restarts: int = 0, waiting: str = "") -> Pod:
    return Pod(
        f"ns/{name}",
        "ns",
        name,
        "decode",
        "0/1",
        "Running",
        "warning",
        restarts,
        None,
        "node-1",
        4,
        (Container("vllm", restarts=restarts, waiting=waiting),),
        is_ready=ready,
    )


def _finding(fid: str, *, symptom: bool) -> Finding:
    return Finding(fid, "error", f"{fid} title", (Quote("InferencePool", "ns", "pool", "said"),), symptom=symptom)


LOADED = frozenset({"pods"})


def test_a_cold_start_reads_as_starting_and_a_crash_does_not() -> None:
    symptoms = [_finding("model-pods-not-ready", symptom=True)]
    starting = Snapshot(pods={"ns/p": _pod("p")}, watched=LOADED, kinds={"pods": KindState("live")})
    summary = summarize(starting, symptoms)
    assert summary.state == "starting" and "p" in summary.headline
    crashed = Snapshot(pods={"ns/p": _pod("p", restarts=1, waiting="CrashLoopBackOff")}, watched=LOADED)
    assert starting_pods(crashed, symptoms) == []
    assert summarize(starting, [*symptoms, _finding("tpu-no-devices", symptom=False)]).state == "error"
    assert summarize(starting, []).headline == "no problems found"


def test_a_long_title_is_cut_so_that_the_strip_still_says_where_the_fix_is() -> None:
    long = Finding("x", "error", ("HTTPRoute pattern1-route does not exist in llm-d-inference-scheduling " * 3).strip())
    summary = Summary("error", {"error": 2, "warning": 1}, long.title, long)
    for width in (80, 160):
        plain = strip_text(summary, width).plain
        assert len(plain) <= width and plain.endswith("…  (! for the fix)"), plain
        assert plain.startswith(" doctor ✗ 2 errors ▲ 1 warning HTTPRoute pattern1-route")
    assert strip_text(summary).plain.endswith("scheduling  (! for the fix)")  # no width: not cut


def test_the_strip_and_the_gateway_findings_are_text_not_markup() -> None:
    hostile = Finding("x", "error", "[bold red]boom[/] \x1b[31m", (Quote("Pod", "ns", "p", "[/]"),))
    summary = Summary("error", {"error": 1}, hostile.title, hostile)
    plain = strip_text(summary).plain
    assert "[bold red]boom[/]" in plain and "\x1b" not in plain
    hop = Hop("HTTPRoute", "r", "error", problem="gone", code="httproute-missing")
    path = (RequestPath((hop,), "ns/gw"),)
    other = Finding("inferencepool-selector-mismatch", "error", "t", area="request path")
    on_hop = Finding("httproute-missing", "error", "t", area="request path")
    assert path_findings(path, [on_hop, other, Finding("oom-killed", "error", "t", area="startup")]) == [other]


async def test_a_layout_can_hold_the_doctor_pane(
    demo_world: tuple[SimCluster, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kubeconfig = demo_world
    layouts = tmp_path / "llmd-console" / "layouts"
    layouts.mkdir(parents=True)
    (layouts / "doctor-first.yaml").write_text("description: the doctor beside the pods\ntabs: [doctor, pods]\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = make_app(kubeconfig, layout="doctor-first")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.layout_name == "doctor-first" and "doctor" in app.panes, what="the layout")
        pane = app.panes["doctor"]
        assert isinstance(pane, DoctorPane)
        await until(pilot, lambda: healthy(app), limit=120, what="a healthy world")
        await until(pilot, lambda: pane.view.summary is not None and pane.view.summary.state == "healthy")
        assert pane.view.findings == ()
