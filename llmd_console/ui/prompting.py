"""The app's side of the prompt pane: where requests go (found once, and again after a failure
that says the path is gone), one HTTP client per endpoint kept between prompts, the request in
flight as a worker that Escape cancels, and the state the pane draws.

The pane never sees a client: it posts ``PromptSubmitted`` / ``PromptCancelRequested``; this
object writes the pane's ``PromptState`` (which outlives the pane across relayouts) and asks
whichever prompt pane is mounted to redraw.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from llmd_console.config import Config
from llmd_console.inference.client import ModelsError, list_models, send
from llmd_console.inference.endpoint import Endpoint
from llmd_console.inference.failures import FixHints, cancelled_failure
from llmd_console.inference.request import Failure, Outcome, PromptRequest
from llmd_console.inference.resolve import EndpointError, gateway_url, resolve
from llmd_console.inference.served_by import epp_decisions
from llmd_console.load.process import LoadFailed, LoadProcess
from llmd_console.load.prompts import PromptSet, builtin_prompts, shared_prefixes
from llmd_console.load.report import run_json, summary
from llmd_console.load.runner import RunResult
from llmd_console.load.settings import RunSettings
from llmd_console.models import Obj
from llmd_console.ui.load_plan import LoadPlan
from llmd_console.ui.panes.load_view import LoadState
from llmd_console.ui.panes.prompt import PromptPane, PromptState

if TYPE_CHECKING:
    from llmd_console.cluster.kube import KubeClient
    from llmd_console.ui.panes.base import Pane

LOAD_DRAW_HZ = 4  # live figures of a load run per second
EPP_LOG_SECONDS = 10.0  # reading the EPP's decisions after a run
EPP_MAX_TAIL = 200_000  # lines of the EPP's log read for them
SERVED_BY_SECONDS = 3.0  # ... after one prompt
# Failures after which the path itself is suspect: the next request looks for the endpoint again.
PATH_FAILURES = frozenset({"refused", "dns", "tls", "timeout"})


class Prompting:
    """Sends the prompt pane's requests; ``state`` is what the pane shows."""

    def __init__(
        self,
        config: Config,
        kube: Callable[[], KubeClient | None],
        pane: Callable[[], Pane | None],
        on_load: Callable[[LoadState], None],
    ) -> None:
        """``pane`` finds the prompt pane mounted now; ``on_load`` hears a load run's progress."""
        self.config = config
        self.on_load = on_load
        self.kube = kube
        self._pane = pane
        self.state: PromptState | None = None
        self.endpoint: Endpoint | None = None
        self.client: httpx.AsyncClient | None = None
        self.namespace: str | None = None
        self.nowhere = ""  # why the last search found no endpoint
        self._connecting = asyncio.Lock()  # one search at a time (a search closes the old client)
        self.on_outcome: Callable[[Outcome], None] = lambda _outcome: None  # hears every result (a recorder)

    def pane(self) -> PromptPane | None:
        """The prompt pane mounted now, if any (relayouts replace it)."""
        pane = self._pane()
        return pane if isinstance(pane, PromptPane) else None

    def adopt(self, pane: PromptPane) -> None:
        """A new prompt pane: it shows the state kept so far (the first one's becomes the state)."""
        if self.state is None:
            self.state = pane.state
        else:
            pane.adopt(self.state)

    def wants_endpoint(self) -> bool:
        """Whether a prompt pane is shown without an endpoint or without the served models (and
        no search is under way)."""
        state = self.state
        return (
            self.pane() is not None
            and state is not None
            and not self._connecting.locked()
            and not state.in_flight
            and (self.endpoint is None or not state.models)
        )

    def hints(self) -> FixHints:
        """Names for the fixes: the configured ones in the namespace watched."""
        return FixHints.from_config(self.config, self.namespace)

    async def connect(self, namespace: str | None) -> Endpoint | None:
        """Find the endpoint and its models, and tell the pane (None: nowhere to send, ``nowhere`` says why)."""
        async with self._connecting:
            return await self._connect(namespace)

    async def _connect(self, namespace: str | None) -> Endpoint | None:
        self.namespace = namespace
        await self.forget()
        try:
            endpoint = await resolve(self.kube(), self.config, namespace)
        except EndpointError as exc:
            self.nowhere = str(exc)
            self._tell_endpoint("nowhere", [], self.nowhere)
            return None
        self.endpoint = endpoint
        self.client = endpoint.client(self.config.cluster.request_timeout_seconds)
        await self._list_models(endpoint, self.client)
        return endpoint

    async def _list_models(self, endpoint: Endpoint, client: httpx.AsyncClient) -> None:
        try:
            models = await list_models(client, endpoint, hints=self.hints())
        except ModelsError as exc:
            self._tell_endpoint(endpoint.how, [], exc.failure)
            return
        self._tell_endpoint(endpoint.how, models)

    async def _ready(self, request: PromptRequest) -> tuple[Endpoint | None, PromptRequest]:
        """The endpoint (found now if need be) and ``request`` with a served model: the models
        are listed again while none is known (the pool had no ready pod when the console started)."""
        state = self.state
        async with self._connecting:  # a search under way (the console just connected) ends first
            endpoint = self.endpoint or await self._connect(self.namespace)
            if endpoint is not None and self.client is not None and state is not None and not state.models:
                await self._list_models(endpoint, self.client)
        if state is not None and state.models and request.model not in state.models:
            # Written before the models were listed (or they changed): the first one served.
            request = dataclasses.replace(request, model=state.models[0])
            state.request = dataclasses.replace(state.request, model=request.model)
        return endpoint, request

    def _tell_endpoint(self, how: str, models: list[str], problem: Failure | str | None = None) -> None:
        pane = self.pane()
        if pane is not None:
            pane.set_endpoint(how, models, problem)
        elif self.state is not None:
            self.state.found(how, models, problem)

    def gateway_moved(self, gateway: Obj | None) -> bool:
        """Whether the Gateway's address changed since the endpoint was chosen: it has another
        one, lost it (requests would reach what is no longer the gateway), or got one (the
        gateway can be used instead of the API server's proxy)."""
        endpoint = self.endpoint
        if endpoint is None or endpoint.gateway_seen is None or self.state is None or self.state.in_flight:
            return False
        return ((gateway_url(gateway) if gateway else None) or "") != endpoint.gateway_seen

    async def forget(self) -> None:
        """Drop the endpoint and its connections (the next request looks again)."""
        client, self.client, self.endpoint = self.client, None, None
        if client is not None:
            await client.aclose()

    async def run(self, request: PromptRequest) -> None:
        """Send one request and show it (the worker running this is what Escape cancels: however
        it ends, the pane is told)."""
        state = self.state
        if state is None:
            return
        known: list[Outcome] = []  # the outcome, as soon as there is one
        try:
            await self._exchange(state, request, known)
        finally:
            self._finish(state, known[-1] if known else self._cancelled(request))

    @staticmethod
    def _cancelled(request: PromptRequest) -> Outcome:
        return Outcome(request, request.request_id, time.monotonic(), failure=cancelled_failure())

    async def _exchange(self, state: PromptState, request: PromptRequest, known: list[Outcome]) -> None:
        endpoint, request = await self._ready(request)
        if endpoint is None or self.client is None:
            why = Failure("no_endpoint", "Nowhere to send the prompt", self.nowhere, "see the cause; then ctrl+r again")
            known.append(Outcome(request, request.request_id, time.monotonic(), failure=why))
            return
        pane = self.pane()
        if pane is not None:
            pane.started(endpoint.how)

        def token(text: str) -> None:
            state.add(text)
            current = self.pane()
            if current is not None:
                current.tokens_arrived()

        prompt = self.config.prompt
        outcome = await send(
            self.client,
            endpoint,
            request,
            on_token=token,
            stall_seconds=prompt.stall_seconds,
            deadline_seconds=prompt.deadline_seconds,
            hints=self.hints(),
        )
        known.append(outcome)
        if outcome.failure is not None and outcome.failure.kind in PATH_FAILURES:
            await self.forget()
        if outcome.status is not None and outcome.served_by is None:
            # The gateway does not say which pod answered; the EPP's decision log does.
            found, _ = await self._decisions_for({outcome.request_id}, SERVED_BY_SECONDS)
            outcome.served_by = found.get(outcome.request_id)

    def _finish(self, state: PromptState, outcome: Outcome) -> None:
        self.on_outcome(outcome)
        state.finish(outcome)
        pane = self.pane()
        if pane is not None:
            pane.finished()

    async def load(self, plan: LoadPlan, request: PromptRequest, label: str) -> None:
        """A load run with the pane's request settings: live figures at LOAD_DRAW_HZ, then the
        summary with the per-pod split (the worker running this is what Escape stops)."""
        state = self.state
        if state is None:
            return
        load = state.load
        load.running, load.label, load.snapshot, load.summary, load.problem = True, label, None, [], ""
        self._draw_load()
        endpoint, request = await self._ready(request)
        if endpoint is None or self.client is None:
            load.running, load.problem = False, f"no load run: nowhere to send ({self.nowhere})"
            self._draw_load()
            return
        prompts = PromptSet(tuple(builtin_prompts()), tuple(shared_prefixes(plan.shared_prefixes)))
        settings = RunSettings.from_config(
            self.config.load,
            request.model,
            f"llmd-console-{int(time.time())}",
            api=request.api,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
        )
        # The run has a process of its own: hundreds of streams parsed in this one would make
        # the UI late for keys (see load/process.py).
        run = LoadProcess(endpoint, prompts, settings, self.hints(), self.config.cluster.request_timeout_seconds)
        finished = asyncio.get_running_loop().run_in_executor(None, run.run, plan.profile)
        try:
            while not finished.done():
                load.snapshot = run.snapshot()
                self._draw_load()
                await asyncio.wait({finished}, timeout=1 / LOAD_DRAW_HZ)
            result = finished.result()
            load.snapshot = result.overall  # the whole run, while the EPP's decisions are read
        except LoadFailed as exc:
            load.running, load.problem = False, str(exc)
            self._draw_load()
            return
        except asyncio.CancelledError:
            run.stop()  # the requests in flight are cancelled; what ended is summarised
            result = await asyncio.shield(finished)
            self._summarise(result, endpoint, {}, "stopped (esc)")
            raise
        finally:
            load.running = False
        decisions, note = await self._decisions_for(
            {r.request_id for r in result.records if not r.served_by}, EPP_LOG_SECONDS
        )
        self._summarise(result, endpoint, decisions, note)

    async def _decisions_for(self, wanted: set[str], seconds: float) -> tuple[dict[str, str], str]:
        """Request id -> pod from the EPP's decision log (bounded in time), and what was read."""
        kube = self.kube()
        if kube is None or not wanted:
            return {}, "" if not wanted else "the EPP's log was not read: no cluster connection"
        namespace = self.namespace or self.config.cluster.namespace
        tail = min(EPP_MAX_TAIL, 3 * len(wanted) + 2000)  # one decision per request, and other lines
        found = await epp_decisions(kube, namespace, self.config.resources.epp, wanted, tail=tail, seconds=seconds)
        return found, f"{len(found)} of {len(wanted)} requests matched in the EPP's decision log"

    def _summarise(self, result: RunResult, endpoint: Endpoint, decisions: dict[str, str], note: str) -> None:
        state = self.state
        if state is None:
            return
        data = run_json(result, (endpoint.base_url, endpoint.how), decisions)
        state.load.snapshot = result.overall
        state.load.summary = [*summary(data), *([note] if note else [])]
        state.load.running = False
        self._draw_load()

    def _draw_load(self) -> None:
        pane = self.pane()
        if pane is not None:
            pane.load_view.draw()
            pane.refresh_bindings()
        if self.state is not None:
            self.on_load(self.state.load)

    async def close(self) -> None:
        """Release the connections (the app is closing)."""
        await self.forget()
