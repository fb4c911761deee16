"""Presenting (a mixin of ``ConsoleApp``): fault scenarios on cue from inside the console (``F``,
on a simulated cluster found from its control endpoint), the active scenario in the status bar,
and the scripted tour of ``demo --tour``, its caption on a bar of its own, advanced by ``]`` (or
``ctrl+n`` in a text field) or by each step's timer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import App

from llmd_console.sanitize import one_line
from llmd_console.ui.quiet import QuietStatic

if TYPE_CHECKING:
    from llmd_console.actions.audit import AuditLog
    from llmd_console.models import Connection
    from llmd_console.session import Session
    from llmd_console.tour import Step, Tour
    from llmd_console.ui.panes.base import Pane
    from llmd_console.ui.prompting import Prompting

WAIT_POLL = 0.5  # seconds between looks for a finding a tour step waits for


class TourBar(QuietStatic):
    """One line: the tour's step and caption, and what the step is doing."""

    def draw(self, tour: Tour | None, at: int, state: str) -> None:
        """Show step ``at`` of ``tour`` (hidden without a tour)."""
        self.display = tour is not None
        if tour is None:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" TOUR {min(at + 1, len(tour.steps))}/{len(tour.steps)} ", style="bold black on magenta")
        if at < len(tour.steps):
            text.append(f" {one_line(tour.steps[at].caption, 300)}", style="bold")
        if state:
            text.append(f"  {one_line(state, 200)}", style="dim")
        text.append("   ] or ctrl+n: next" if at < len(tour.steps) - 1 else "   end of the tour", style="magenta")
        self.show(text)


class PresenterHandlers(App[int]):
    """Scenario picker, scenario in the status bar, tour."""

    session: Session
    read_only: bool
    tour_bar: TourBar
    tour: Tour | None
    tour_at: int
    simulated: bool | None  # None: not known yet; False: a real cluster (nothing to poll)
    scenario: str | None

    if TYPE_CHECKING:
        prompting: Prompting

        @property
        def audit(self) -> AuditLog: ...
        @property
        def connection(self) -> Connection: ...
        def focus_pane(self, name: str) -> None: ...
        def _pane(self, name: str) -> Pane | None: ...
        def _draw_status(self) -> None: ...
        def record_mark(self, text: str) -> None: ...

    # ---- scenarios ---------------------------------------------------------------------------------
    def action_scenarios(self) -> None:
        """Open the fault scenario picker (a simulated cluster only)."""
        self._pick_scenario()

    @work(group="scenarios", exclusive=True, exit_on_error=False, description="fault scenarios")
    async def _pick_scenario(self) -> None:
        from llmd_console.cluster.simcontrol import NotSimulated, scenarios  # noqa: PLC0415
        from llmd_console.ui.scenario_picker import HEALTHY, ScenarioPicker  # noqa: PLC0415

        kube = self.session.client
        if kube is None:
            self.notify("not connected to a cluster yet", severity="warning")
            return
        try:
            offered = await scenarios(kube)
        except NotSimulated as exc:
            self.simulated = False
            self.notify(f"{exc}: fault scenarios need `llmd-console demo` or `llmd-console sim`", severity="warning")
            return
        chosen = await self.push_screen_wait(ScenarioPicker(offered))
        if chosen is None:
            return
        await self.apply_scenario(None if chosen == HEALTHY else chosen)

    async def apply_scenario(self, name: str | None) -> bool:
        """Switch the simulator to scenario ``name`` (None: the healthy world), refused in read-only
        mode and audited like every change; whether it was applied."""
        from llmd_console.actions.plan import Plan  # noqa: PLC0415
        from llmd_console.actions.runner import carry_out  # noqa: PLC0415
        from llmd_console.cluster.simcontrol import clear_scenario, set_scenario  # noqa: PLC0415

        kube = self.session.client
        if kube is None:
            return False
        plan = Plan(
            action="scenario",
            title=f"Fault scenario {name}" if name else "Back to the healthy world",
            target=name or "healthy",
            namespace="",
            changes=(f"the simulated cluster switches to {name or 'the healthy world'}",),
            command=("llmd-console", "scenario", *(("set", name) if name else ("clear",))),
        )

        async def run() -> str:
            state = await (set_scenario(kube, name) if name else clear_scenario(kube))
            self._scenario_seen(state.active)
            return f"active: {state.active or 'none (healthy world)'}"

        async def chosen(_: Plan) -> bool:
            return True  # picking it from the list, with its line on what breaks, is the confirmation

        result = await carry_out(
            plan, run, confirm=chosen, audit=self.audit, context=self.connection.context, read_only=self.read_only
        )
        severity: Any = "information" if result.outcome == "done" else "error"
        self.notify(result.message, severity=severity, timeout=5)
        return result.outcome == "done"

    def poll_scenario(self) -> None:
        """Look at the simulator's active scenario (from the periodic tick; not on a real cluster)."""
        if self.simulated is not False and self.session.client is not None:
            self._poll_scenario()

    @work(group="scenario-poll", exclusive=True, exit_on_error=False, description="active scenario")
    async def _poll_scenario(self) -> None:
        from llmd_console.cluster.kube import KubeError  # noqa: PLC0415
        from llmd_console.cluster.simcontrol import NotSimulated, scenarios  # noqa: PLC0415

        kube = self.session.client
        if kube is None:
            return
        try:
            state = await scenarios(kube)
        except NotSimulated:
            self.simulated = False
            return
        except KubeError:
            return  # unreachable for now: the status bar says so already
        self.simulated = True
        if state.active != self.scenario:
            self._scenario_seen(state.active)

    def _scenario_seen(self, active: str | None) -> None:
        """The active scenario moved: the status bar says so, and a recording marks the moment."""
        self.scenario = active
        self._draw_status()
        self.record_mark(f"fault scenario: {active or 'none (the healthy world)'}")

    # ---- the tour ---------------------------------------------------------------------------------
    def start_tour(self, tour: Tour) -> None:
        """Show the tour's first step and do it."""
        self.tour, self.tour_at = tour, 0
        self._run_step()

    def action_tour_next(self) -> None:
        """The next step of the tour."""
        tour = self.tour
        if tour is None:
            self.notify("no tour is running (llmd-console demo --tour)", severity="information")
            return
        if self.tour_at >= len(tour.steps) - 1:
            self.notify("that was the tour's last step", severity="information")
            return
        self.tour_at += 1
        self._run_step()

    @work(group="tour", exclusive=True, exit_on_error=False, description="tour step")
    async def _run_step(self) -> None:
        tour, at = self.tour, self.tour_at
        if tour is None:
            return
        step = tour.steps[at]
        self.tour_bar.draw(tour, at, "")
        said = await self._do_step(step)
        self.tour_bar.draw(tour, at, said)
        if step.advance is not None and at < len(tour.steps) - 1:
            await asyncio.sleep(step.advance)
            if self.tour is tour and self.tour_at == at:  # not moved on by the key meanwhile
                self.action_tour_next()

    async def _do_step(self, step: Step) -> str:
        """Carry out one step; a few words on how it went."""
        from llmd_console.ui.messages import LoadRequested, PromptSubmitted  # noqa: PLC0415

        if step.kind == "focus":
            self.focus_pane(str(step.value))
            return ""
        if step.kind == "scenario":
            return "" if await self.apply_scenario(str(step.value)) else "(not applied)"
        if step.kind == "clear":
            return "" if await self.apply_scenario(None) else "(not applied)"
        if step.kind == "wait":
            await asyncio.sleep(float(step.value))
            return ""
        if step.kind == "wait_for_finding":
            return await self._wait_for_finding(str(step.value), step.timeout)
        state = self.prompting.state
        if state is None:
            return "(this layout has no prompt pane)"
        if step.kind == "prompt":
            # Not focused: the prompt's text field would keep "]" (the next-step key) for itself.
            self.post_message(PromptSubmitted(_with_prompt(state.request, str(step.value))))
            return ""
        if step.kind == "load":
            from llmd_console.ui.load_plan import describe, plan_of  # noqa: PLC0415

            requests, concurrency = step.value
            plan = plan_of("concurrent", str(requests), str(concurrency), "", "", "", "0")
            self.post_message(LoadRequested(plan, state.request, describe(plan)))
            return ""
        return ""

    async def _wait_for_finding(self, finding: str, seconds: float) -> str:
        self.tour_bar.draw(self.tour, self.tour_at, f"waiting for the doctor to see {finding}...")
        try:
            async with asyncio.timeout(seconds):
                while finding not in self.finding_ids():  # noqa: ASYNC110 - the doctor sets no event; a look twice a second is enough
                    await asyncio.sleep(WAIT_POLL)
        except TimeoutError:
            return f"the doctor did not report {finding} within {seconds:g} s"
        return f"✓ the doctor sees {finding}"

    def finding_ids(self) -> set[str]:
        """The ids of the live doctor's current findings."""
        return {str(getattr(f, "id", "")) for f in getattr(self, "findings", ())}


def _with_prompt(request: Any, prompt: str) -> Any:
    import dataclasses  # noqa: PLC0415

    return dataclasses.replace(request, prompt=prompt)
