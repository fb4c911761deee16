"""What on-call users rely on: every namespace at once, resizing, columns that fit, sorting,
a selection that survives relayouts, and an outage said once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from llmd_console.models import Hop
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.panes.gateway import GatewayPane
from llmd_console.ui.panes.pods import PodsPane
from llmd_console.views.pods import short_name, status_of
from tests.conftest import Kubectl, require_tool
from tests.console.conftest import make_app, until

# A second llm-d stack in its own namespace: Gateway, route, pool, picker, one model pod.
TEAM_B = """
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: v1
kind: Pod
metadata:
  name: team-b-model-decode-0
  namespace: team-b
  labels: {app: team-b-model, llm-d.ai/role: decode}
spec:
  containers: [{name: vllm, image: busybox}]
---
apiVersion: v1
kind: Service
metadata: {name: team-b-epp, namespace: team-b}
spec:
  selector: {app: team-b-epp}
  ports: [{name: grpc, port: 9002}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: team-b-pool, namespace: team-b}
spec:
  selector: {matchLabels: {app: team-b-model}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {kind: Service, name: team-b-epp, port: {number: 9002}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: team-b-gateway, namespace: team-b}
spec:
  gatewayClassName: gke-l7-regional-external-managed
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: team-b-route, namespace: team-b}
spec:
  parentRefs: [{name: team-b-gateway}]
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: team-b-pool}]}]
"""

PATTERN1_STACK = f"{NAMESPACE}/infra-pattern1-inference-gateway"


def pods_pane(app: ConsoleApp) -> PodsPane:
    return app.query_one(PodsPane)


def decode_ready(app: ConsoleApp) -> bool:
    return any(p.role == "decode" and p.is_ready for p in app.snapshot.pods.values() if p.namespace == NAMESPACE)


def hops_of(app: ConsoleApp, title: str) -> dict[str, Hop]:
    paths = [p for p in app.snapshot.paths if p.title == title]
    return {hop.kind: hop for hop in paths[0].hops} if paths else {}


async def test_every_namespace_shows_each_stack_and_the_namespace_column(
    world: tuple[SimCluster, Path],
) -> None:
    _, kubeconfig = world
    kubectl = Kubectl(require_tool("kubectl"), kubeconfig)
    kubectl.run("apply", "-f", "-", stdin=TEAM_B)
    try:
        app = make_app(kubeconfig, namespace="all", layout="default")
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: decode_ready(app), what="the Pattern 1 decode pod ready")
            await until(pilot, lambda: "team-b/team-b-model-decode-0" in app.snapshot.pods, what="team-b's pod")
            await until(pilot, lambda: hops_of(app, "team-b/team-b-gateway"), what="team-b's stack on the gateway path")
            # Pattern 1's own stack is whole, whatever else the cluster holds.
            pattern1 = hops_of(app, PATTERN1_STACK)
            await until(
                pilot, lambda: hops_of(app, PATTERN1_STACK)["Model pods"].light == "ok", what="pattern1 pods ok"
            )
            pattern1 = hops_of(app, PATTERN1_STACK)
            assert pattern1["Model pods"].name == "1/1 ready"
            assert [h.light for h in pattern1.values()] == ["ok"] * 5, pattern1
            team_b = hops_of(app, "team-b/team-b-gateway")
            assert team_b["HTTPRoute"].name == "team-b-route"
            assert team_b["InferencePool"].name == "team-b-pool"
            assert team_b["Model pods"].name.endswith("/1 ready")
            # The picker named by team-b's pool has no Deployment: the fix names team-b, never "all".
            fixes = [hop.fix for path in app.snapshot.paths for hop in path.hops if hop.fix]
            assert not any("-n all" in fix or "-n  " in fix for fix in fixes), fixes
            assert "team-b-epp" in team_b["EPP"].problem or "team-b-epp" in team_b["EPP"].name
            text = app.query_one(GatewayPane).shown_text()
            assert f"Stack {PATTERN1_STACK}" in text and "Stack team-b/team-b-gateway" in text

            table = pods_pane(app).table
            await until(pilot, lambda: table.row_count >= 3, what="pods of every namespace")
            assert "NAMESPACE" in table.shown_columns()
            assert table.get_row("team-b/team-b-model-decode-0")[0] == "team-b"
    finally:
        kubectl.run("delete", "namespace", "team-b", "--wait=false")


async def test_one_namespace_has_no_namespace_column(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        table = pods_pane(app).table
        await until(pilot, lambda: table.row_count > 0, what="pods")
        await pilot.pause(0.1)
        assert "NAMESPACE" not in table.shown_columns()
        assert [p.title for p in app.snapshot.paths] == [PATTERN1_STACK]


async def select_in_default_layout(pilot: Pilot[Any], app: ConsoleApp, role: str) -> str:
    """Once the default layout shows a settled world, select the pod of ``role`` in the pods table."""
    await until(pilot, lambda: app.layout_name == "default" and decode_ready(app), what="default layout")
    table = pods_pane(app).table
    await until(pilot, lambda: table.row_count == 2, what="rows")
    key = next(k for k, p in app.snapshot.pods.items() if p.role == role)
    table.focus()
    table.move_to_key(key)
    await until(pilot, lambda: app.selected_pod == key, what=f"the {role} pod selected")
    return key


async def test_resizing_picks_the_layout_again_keeping_selection_and_focus(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig)  # layout auto, as the default config and demo have it
    async with app.run_test(size=(160, 45)) as pilot:
        epp = await select_in_default_layout(pilot, app, "epp")

        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.layout_name == "compact", what="compact after shrinking")
        await until(pilot, lambda: pods_pane(app).table.row_count == 2, what="rows again")
        await pilot.pause(0.2)
        assert app.selected_pod == epp
        assert pods_pane(app).table.cursor_key == epp
        assert app._focused_pane() == "pods"
        shown = pods_pane(app).table.shown_columns()
        for column in ("NAME", "READY", "STATUS", "RESTARTS", "AGE"):
            assert column in shown, shown

        await pilot.resize_terminal(160, 45)
        await until(pilot, lambda: app.layout_name == "default", what="default after growing")
        await until(pilot, lambda: pods_pane(app).table.row_count == 2, what="rows again")
        await pilot.pause(0.2)
        assert app.selected_pod == epp and pods_pane(app).table.cursor_key == epp


async def test_layout_switch_keeps_the_selected_pod(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        table = pods_pane(app).table
        await until(pilot, lambda: table.row_count == 2 and app.selected_pod is not None, what="rows")
        order = table.keys()  # a LiveTable's display order
        other = next(k for k in order if k != app.selected_pod)
        table.focus()
        table.move_to_key(other)
        await until(pilot, lambda: app.selected_pod == other, what="the other pod selected")
        for _ in range(3):  # default -> oncall -> demo -> ...
            before = app.layout_name
            await pilot.press("v")
            await until(pilot, lambda: app.layout_name != before, what="the next layout")  # noqa: B023
            await pilot.pause(0.3)
            assert app.selected_pod == other, app.layout_name


async def test_columns_fit_the_pane_and_sort_like_k9s(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        pane = pods_pane(app)
        table = pane.table
        await until(pilot, lambda: table.row_count == 2, what="rows")
        shown = table.shown_columns()
        for column in ("NAME", "READY", "STATUS", "RESTARTS", "AGE"):
            assert column in shown, shown
        # Every drawn row shows the role word of the decode pod, however narrow NAME is.
        decode = next(k for k, p in app.snapshot.pods.items() if p.role == "decode")
        line = table.render_line(1 + table.get_row_index(decode)).text
        assert "decode" in line, line
        assert line.rstrip().endswith(app.snapshot.pods[decode].name[-5:]) or "decode" in line

        table.focus()
        await pilot.press("T")
        assert table.sort_column == "RESTARTS" and not table.sort_reverse
        await pilot.press("T")
        assert table.sort_column == "RESTARTS" and table.sort_reverse
        header = table.render_line(0).text
        assert "RESTA… ▼" in header and "▲" not in header, header  # a narrow column keeps the arrow
        await pilot.press("A")
        assert table.sort_column == "AGE"
        order = table.keys()
        ages = [app.snapshot.pods[k].created or 0 for k in order]
        assert ages == sorted(ages, reverse=True)  # youngest first
        await pilot.press("N")
        assert table.keys() == sorted(table.keys())


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (60, "ms-pattern1-llm-d-modelservice-decode-dnwvfh9rnd-gmg7f"),
        (50, "ms-pattern1-llm-d-modelservice-decode-…-gmg7f"),
        (30, "ms-pattern1-ll…-decode-…-gmg7f"),
        (20, "ms-p…-decode-…-gmg7f"),
    ],
)
def test_long_names_lose_their_middle_never_the_role_word(width: int, expected: str) -> None:
    assert short_name("ms-pattern1-llm-d-modelservice-decode-dnwvfh9rnd-gmg7f", width) == expected


def test_status_says_why_a_container_keeps_dying() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "vllm",
                    "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
        },
    }
    assert status_of(pod) == ("CrashLoopBackOff (OOMKilled)", "error")
    pod["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 2}}  # type: ignore[index]
    assert status_of(pod)[0] == "ExitCode:2"


def test_status_of_init_containers_as_kubectl_prints_it() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n", "initContainers": [{"name": "a"}, {"name": "b"}]},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "b", "state": {"running": {}}},
            ],
        },
    }
    assert status_of(pod) == ("Init:1/2", "progress")
    pod["status"]["initContainerStatuses"][1]["state"] = {  # type: ignore[index]
        "waiting": {"reason": "CrashLoopBackOff"}
    }
    assert status_of(pod) == ("Init:CrashLoopBackOff", "error")


async def test_a_pods_tab_hidden_by_a_resize_keeps_the_selection(world: tuple[SimCluster, Path]) -> None:
    _, kubeconfig = world
    app = make_app(kubeconfig)
    async with app.run_test(size=(160, 45)) as pilot:
        decode = await select_in_default_layout(pilot, app, "decode")
        app.focus_pane("gateway")  # the compact layout will open on the gateway tab, pods hidden
        await pilot.pause(0.2)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.layout_name == "compact", what="compact")
        await pilot.pause(0.3)
        await pilot.press("1")
        await until(pilot, lambda: pods_pane(app).table.row_count == 2, what="the pods tab filled")
        await pilot.pause(0.3)
        assert pods_pane(app).table.cursor_key == decode and app.selected_pod == decode
