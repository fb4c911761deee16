"""The prompt pane, driven by keys against the simulated gateway: a prompt streams in with its
timings and the pod that served it; failures made with the simulator or plain API changes are
explained in the pane; Escape reaches the server; the history outlives the app; a load run's
request count matches the model server's own counters exactly."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from textual.pilot import Pilot

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, PromptConfig
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import DECODE_NAME, MODEL, NAMESPACE, ROUTE_NAME
from llmd_console.ui.app import ConsoleApp
from llmd_console.ui.panes.load_view import LoadDialog
from llmd_console.ui.panes.prompt import PromptInput, PromptPane, PromptState
from tests.conftest import Kubectl, require_tool, wait_for
from tests.console.conftest import make_app, until
from tests.doctor.helpers import set_scenario
from tests.inference.conftest import serves
from tests.inference.test_cancel import engine_counts
from tests.inference.test_failures import closed_port

DECODE = "llm-d.ai/inferenceServing=true"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimCluster, Path]]:
    """Pattern 1, serving through its gateway."""
    with SimCluster(SimOptions(speed=100, seed=11)) as cluster:
        path = cluster.write_kubeconfig(tmp_path_factory.mktemp("prompt") / "kubeconfig")
        url = wait_for(lambda: cluster.ctx.gateway_address and f"http://{cluster.ctx.gateway_address}")
        wait_for(lambda: serves(url), timeout=90, message="a completion through the gateway")
        yield cluster, path


@pytest.fixture()
def kubectl(world: tuple[SimCluster, Path]) -> Kubectl:
    return Kubectl(require_tool("kubectl"), world[1])


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's prompt history in a directory of its own."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def config(**prompt: Any) -> Config:
    return dataclasses.replace(Config(), prompt=PromptConfig(**prompt))


def pane_of(app: ConsoleApp) -> PromptPane:
    return app.query_one(PromptPane)


def shown(app: ConsoleApp) -> str:
    """The prompt pane's text as drawn (header, result line, answer)."""
    pane = pane_of(app)
    parts = [pane.header.render(), pane.timings.render(), pane.answer.render(), pane.load_view.render()]
    return "\n".join(str(getattr(p, "plain", p)) for p in parts)


async def ready(pilot: Pilot[Any], app: ConsoleApp, *, models: bool = True) -> PromptState:
    """The prompt pane focused, with its endpoint (and the served models) known."""
    await until(pilot, lambda: app.prompting.state is not None, limit=30, what="the prompt pane")
    state = app.prompting.state
    assert state is not None
    await until(pilot, lambda: state.endpoint != "not resolved yet", limit=30, what="the endpoint")
    if models:
        await until(pilot, lambda: bool(state.models), limit=60, what="the served models")
    await pilot.press(str(list(app.panes).index("prompt") + 1))
    await until(pilot, lambda: isinstance(app.focused, PromptInput), what="the prompt's input")
    return state


async def ask(pilot: Pilot[Any], app: ConsoleApp, text: str, limit: float = 60.0) -> PromptState:
    """Write ``text``, send it (ctrl+r), wait for its outcome."""
    state = app.prompting.state
    assert state is not None
    pane_of(app).input.load_text(text)
    await pilot.press("ctrl+r")
    await until(pilot, lambda: state.outcome is not None and not state.in_flight, limit=limit, what="the answer")
    await pilot.pause(0.1)
    return state


async def engine(kubeconfig: Path) -> dict[str, float]:
    """The decode pods' running gauge and finished counter, through the API server's pod proxy."""
    kube = await KubeClient.connect(str(kubeconfig), None, NAMESPACE, 10.0)
    try:
        return await engine_counts(kube)
    finally:
        await kube.close()


async def test_a_prompt_streams_in_with_its_timings_and_the_pod_that_served_it(
    world: tuple[SimCluster, Path],
) -> None:
    app = make_app(world[1], layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        assert "gateway" in state.endpoint and MODEL in state.models
        outcome = (await ask(pilot, app, "Explain the KV cache in one sentence.")).outcome
        assert outcome is not None and outcome.ok, outcome
        assert outcome.ttft is not None and outcome.total is not None and outcome.ttft <= outcome.total
        assert outcome.completion_tokens and len(outcome.itls) >= 1
        assert outcome.served_by is not None and DECODE_NAME in outcome.served_by
        text = shown(app)
        assert "200 · TTFT" in text and "tok/s" in text and f"served by {outcome.served_by}" in text
        assert (outcome.text and outcome.text[:20] in text.replace("\n", " ")) or outcome.text[:20] in text


async def test_failures_are_explained_in_the_pane(world: tuple[SimCluster, Path], kubectl: Kubectl) -> None:
    app = make_app(world[1], layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        # 400: a prompt longer than the context, with vLLM's own words.
        outcome = (await ask(pilot, app, "word " * 4000)).outcome
        assert outcome is not None and outcome.failure is not None and outcome.failure.kind == "bad_request"
        assert "maximum context length" in shown(app)
        # 404: the model list is stale (the model was redeployed under another name since).
        state.models = ["Qwen/Qwen2.5-7B-Instruct"]
        state.request = dataclasses.replace(state.request, model="Qwen/Qwen2.5-7B-Instruct")
        outcome = (await ask(pilot, app, "Hello")).outcome
        assert outcome is not None and outcome.failure is not None and outcome.failure.kind == "model_not_found"
        assert f"Served: {MODEL}" in shown(app)
        state.models = [MODEL]
        await pilot.pause(1.2)  # a doctor round: the request's own faults say nothing of the cluster
        assert prompt_findings(app) == []
        # No HTTPRoute: the gateway's "fault filter abort", with the fix.
        route = kubectl.run("get", "httproute", ROUTE_NAME, "-o", "json")
        kubectl.run("delete", "httproute", ROUTE_NAME)
        try:
            await until_failure(pilot, app, "no_route")
            assert "kubectl apply" in shown(app) or "HTTPRoute" in shown(app)
            # The doctor weighs the prompt's answer too, as check weighs its test inference.
            await until(pilot, lambda: prompt_findings(app) == ["inference-no-route"], what="the prompt's finding")
        finally:
            kubectl.run("apply", "-f", "-", stdin=route)
        # No ready model server: 503 "no healthy upstream".
        kubectl.run("scale", "deploy", DECODE_NAME, "--replicas=0")
        try:
            await until_failure(pilot, app, "no_upstream")
            assert f"kubectl scale deploy {DECODE_NAME}" in shown(app)
        finally:
            kubectl.run("scale", "deploy", DECODE_NAME, "--replicas=1")
        await until_failure(pilot, app, None, limit=120)
        await until(pilot, lambda: prompt_findings(app) == [], what="the prompt's finding cleared by an answer")


async def test_a_gateway_that_loses_its_address_is_not_asked_there_again(world: tuple[SimCluster, Path]) -> None:
    cluster, kubeconfig = world
    app = make_app(kubeconfig, layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        assert "status address" in state.endpoint
        set_scenario(cluster, "gateway-no-address")
        try:
            # The address prompts went to is not the gateway's now: the path is looked for again.
            await until(pilot, lambda: "status address" not in state.endpoint, limit=60, what="another path")
            assert app.prompting.endpoint is None or app.prompting.endpoint.gateway_seen == ""
        finally:
            set_scenario(cluster, None)
        # With an address again, prompts go to the gateway again, not on through the proxy.
        await until(pilot, lambda: "status address" in state.endpoint, limit=90, what="the gateway again")
        await until_failure(pilot, app, None, limit=120)


def prompt_findings(app: ConsoleApp) -> list[str]:
    """The doctor's findings that come from the prompt pane's results."""
    return [f.id for f in app.findings if f.title.startswith("a prompt through ")]


async def until_failure(pilot: Pilot[Any], app: ConsoleApp, kind: str | None, limit: float = 60.0) -> None:
    """Send until the outcome fails with ``kind`` (None: until it succeeds)."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        state = await ask(pilot, app, "Hello")
        outcome = state.outcome
        assert outcome is not None
        if (outcome.failure.kind if outcome.failure else None) == kind:
            if outcome.failure is not None:
                assert outcome.failure.title in shown(app)
            return
        assert asyncio.get_running_loop().time() < deadline, f"never {kind}: last {outcome.failure}"
        await pilot.pause(0.3)


@pytest.fixture()
async def stalling_server() -> AsyncIterator[str]:
    """An OpenAI-looking server whose stream sends one token and then nothing."""

    async def models(request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def chat(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk = {"choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await asyncio.sleep(30)
        return response

    app = web.Application()
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.parametrize(
    ("url", "kind", "words"),
    [
        (lambda: f"http://127.0.0.1:{closed_port()}", "refused", "refused"),
        (lambda: "http://no-such-gateway.invalid", "dns", "no-such-gateway.invalid"),
    ],
    ids=["refused", "dns"],
)
async def test_a_path_that_cannot_be_reached_is_explained(
    world: tuple[SimCluster, Path], url: Any, kind: str, words: str
) -> None:
    app = make_app(world[1], config(url=url()), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await ready(pilot, app, models=False)
        state = await ask(pilot, app, "Hello")
        assert state.outcome is not None and state.outcome.failure is not None
        assert state.outcome.failure.kind == kind
        assert words in shown(app) and "prompt.url" in shown(app)


async def test_a_stalled_stream_is_shown_stalled_not_hung(world: tuple[SimCluster, Path], stalling_server: str) -> None:
    app = make_app(world[1], config(url=stalling_server, stall_seconds=0.5), layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        await ready(pilot, app)
        state = await ask(pilot, app, "Hello", limit=20)
        assert state.outcome is not None and state.outcome.stalled
        assert state.outcome.failure is not None and state.outcome.failure.kind == "stalled"
        assert "Hel" in shown(app) and state.outcome.failure.title in shown(app)


async def test_escape_cancels_and_the_server_sees_it(world: tuple[SimCluster, Path]) -> None:
    app = make_app(world[1], layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        state.request = dataclasses.replace(state.request, max_tokens=1500)
        pane_of(app).input.load_text("Tell me everything about Kubernetes.")
        await pilot.press("ctrl+r")
        # Escape at the first tokens, while the answer is still coming (that the server counted
        # the request running meanwhile is tests/inference/test_cancel.py's).
        await until(pilot, lambda: bool(state.parts), limit=30, what="the first tokens")
        await pilot.press("escape")
        await until(
            pilot,
            lambda: not state.in_flight,
            what=f"the request to end ({[(w.group, w.state) for w in app.workers]}, focus {app.focused})",
        )
        assert state.outcome is not None and state.outcome.failure is not None
        assert state.outcome.failure.kind == "cancelled" and "cancelled" in shown(app).lower()
        for _ in range(100):
            if (await engine(world[1]))["running"] == 0:
                break
            await pilot.pause(0.1)
        assert (await engine(world[1]))["running"] == 0


async def test_history_outlives_the_app(world: tuple[SimCluster, Path]) -> None:
    first = make_app(world[1], layout="default")
    async with first.run_test(size=(160, 45)) as pilot:
        await ready(pilot, first)
        await ask(pilot, first, "What is an InferencePool?")
        await ask(pilot, first, "What does the EPP score?")
    again = make_app(world[1], layout="default")
    async with again.run_test(size=(160, 45)) as pilot:
        await ready(pilot, again, models=False)
        await pilot.press("up")
        assert pane_of(again).input.text == "What does the EPP score?"
        await pilot.press("up")
        assert pane_of(again).input.text == "What is an InferencePool?"
        await pilot.press("down", "down")
        assert pane_of(again).input.text == ""


async def test_a_load_burst_matches_the_model_servers_counters(world: tuple[SimCluster, Path]) -> None:
    app = make_app(world[1], layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        before = await engine(world[1])
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LoadDialog), what="the load dialog")
        app.screen.query_one("#ld-requests").value = "30"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: state.load.running or state.load.problem, what="the run to start")
        assert not state.load.problem, state.load.problem
        await until(pilot, lambda: not state.load.running and bool(state.load.summary), limit=120, what="the summary")
        after = await engine(world[1])
        snapshot = state.load.snapshot
        assert snapshot is not None and snapshot.completed == 30 and snapshot.ok == 30
        assert after["finished"] - before["finished"] == 30
        text = shown(app)
        assert "30 sent, 30 ok" in text and "per pod" in text and DECODE_NAME in text
        # The metrics pane draws the run on its time axis.
        metrics = app.panes["metrics"]
        assert metrics.load is state.load  # type: ignore[attr-defined]


async def test_escape_stops_a_load_run_and_its_process(world: tuple[SimCluster, Path]) -> None:
    app = make_app(world[1], layout="default")
    async with app.run_test(size=(160, 45)) as pilot:
        state = await ready(pilot, app)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LoadDialog), what="the load dialog")
        app.screen.query_one("#ld-requests").value = "100000"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(
            pilot, lambda: state.load.snapshot is not None and state.load.snapshot.completed > 5, what="some requests"
        )
        await pilot.press("escape")
        await until(pilot, lambda: not state.load.running and bool(state.load.summary), limit=60, what="the summary")
        snapshot = state.load.snapshot
        assert snapshot is not None and snapshot.completed < 100_000
        assert "stopped" in shown(app)
