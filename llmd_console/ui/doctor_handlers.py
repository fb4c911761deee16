"""The app's side of the live doctor (a mixin of ``ConsoleApp``): it evaluates the rules on
snapshots and metrics rounds, at most once a second, gathers the failing pods' logs in the
background, draws the problems strip, opens the doctor view on ``!`` and goes to the object
a finding is about."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.timer import Timer
from textual.worker import Worker

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.live import LOG_SECONDS, SIDE_SECONDS, LiveEvidence, evaluate_live
from llmd_console.doctor.summary import loaded, summarize
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.readings import Feed
from llmd_console.models import Snapshot
from llmd_console.ui.doctor_view import DoctorScreen, FindingChosen, ProblemsStrip
from llmd_console.ui.messages import PodSelected

if TYPE_CHECKING:
    from llmd_console.config import Config
    from llmd_console.inference.request import Outcome
    from llmd_console.session import Session
    from llmd_console.ui.panes.base import Pane

MIN_INTERVAL = 1.0  # seconds between two evaluations, at most
# The pane that shows each kind of object a finding can be about.
PANE_OF = {
    "Pod": "pods",
    "Deployment": "pods",
    "Secret": "pods",
    "Node": "nodes",
    "Gateway": "gateway",
    "HTTPRoute": "gateway",
    "InferencePool": "gateway",
}


class DoctorCommands(Provider):
    """The command palette's way to the doctor view."""

    async def discover(self) -> Hits:
        """Offered before anything is typed."""
        app = self.app
        if isinstance(app, DoctorHandlers):
            yield DiscoveryHit("Doctor", app.action_doctor, help="What is wrong, with the evidence and the exact fix")

    async def search(self, query: str) -> Hits:
        """Matched against "Doctor" and what it is for."""
        app = self.app
        if not isinstance(app, DoctorHandlers):
            return
        matcher = self.matcher(query)
        for words in ("Doctor", "Doctor: problems and fixes"):
            score = matcher.match(words)
            if score > 0:
                yield Hit(score, matcher.highlight(words), app.action_doctor, help="Findings with evidence and fix")
                return


class DoctorHandlers(App[int]):
    """The live doctor: evaluation, the strip, the view and its jumps."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("exclamation_mark", "doctor", "Doctor", id="doctor", tooltip="What is wrong and the exact fix"),
    ]
    COMMANDS = App.COMMANDS | {DoctorCommands}
    # The strip, the footer and the action and tour bars stay when a pane is zoomed.
    ALLOW_IN_MAXIMIZED_VIEW = "HintsFooter, ProblemsStrip, ActionBar, TourBar"

    config: Config
    session: Session
    panes: dict[str, Pane]
    _client_ready: asyncio.Event
    focus_pane: Callable[[str], None]  # the app's: bring a pane forward and focus it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems_strip = ProblemsStrip(id="problems-strip")
        self.findings: tuple[Finding, ...] = ()
        self.doctor_summary = summarize(Snapshot(), [])
        self.doctor_evidence = LiveEvidence()
        self.doctor_evaluations = 0
        self.doctor_seconds = 0.0  # how long the last evaluation took
        self.doctor_error = ""  # why the last background read failed ("" when it did not)
        self._doctor_last = 0.0
        self._doctor_timer: Timer | None = None
        self._doctor_worker: Worker[None] | None = None
        self._doctor_runs = False  # set by doctor_setup

    def doctor_setup(self, *, live: bool = True) -> ProblemsStrip:
        """The strip, for ``compose``. An app that composes it ``live`` runs the doctor; one that
        does not (a replay, which shows the findings it recorded) sets ``findings`` itself and
        calls :meth:`doctor_draw`."""
        self._doctor_runs = live
        return self.problems_strip

    @property
    def doctor_live(self) -> bool:
        """Whether this app evaluates the rules itself (it composed the strip live)."""
        return self._doctor_runs and self.problems_strip.is_mounted

    def _now(self) -> float:
        now = getattr(self, "now", time.time)
        return float(now())

    # ---- what arrives ----------------------------------------------------------------------
    def doctor_snapshot(self, snapshot: Snapshot) -> None:
        """A new snapshot: evaluate soon; gather logs in the background once connected."""
        del snapshot
        if not self.doctor_live:
            return
        if self._doctor_worker is None and self.session.client is not None:
            self._doctor_worker = self.run_worker(
                self._gather_doctor_evidence(),
                group="doctor",
                exclusive=True,
                exit_on_error=False,
                description="doctor's evidence",
            )
        self.doctor_soon()

    def doctor_metrics(self, feed: Feed, alerts: tuple[Alert, ...]) -> None:
        """A metrics round: its feed and alerts are evidence."""
        self.doctor_evidence.feed, self.doctor_evidence.alerts = feed, alerts
        self.doctor_soon()

    def doctor_prompt(self, outcome: Outcome, how: str) -> None:
        """A prompt's result is evidence about the request path (``how``: its endpoint)."""
        if self.doctor_live and self.doctor_evidence.note_prompt(outcome, how, self._now()):
            self.doctor_soon()

    def doctor_forget_prompts(self) -> None:
        """The prompts' path changed: what they said is about a path no longer used."""
        self.doctor_evidence.prompts = ()
        self.doctor_soon()

    def doctor_soon(self) -> None:
        """Evaluate now, or when a second has passed since the last time (one pending at most)."""
        if self._doctor_timer is not None or not self.doctor_live:
            return
        wait = max(0.05, MIN_INTERVAL - (time.monotonic() - self._doctor_last))
        self._doctor_timer = self.set_timer(wait, self._doctor_evaluate, name="doctor")

    async def _gather_doctor_evidence(self) -> None:
        """Forever: the logs of the pods that are not Ready every few seconds; the Secret's key
        names and older pools less often. Each read is bounded (pods, lines, bytes, seconds)."""
        await self._client_ready.wait()
        live = self.doctor_evidence
        while True:
            client = self.session.client
            if client is not None:
                snapshot = self.session.snapshot
                try:
                    changed = await live.read_logs(client, snapshot, self.config)
                    if not live.gathered_at or time.monotonic() - live.gathered_at >= SIDE_SECONDS:
                        changed = await live.read_side(client, snapshot, self.config) or changed
                except Exception as exc:  # one bad round must not stop the doctor's reading for good
                    self.doctor_error = f"{type(exc).__name__}: {exc}"[:300]
                    changed = False
                if changed:
                    self.doctor_soon()
            await asyncio.sleep(LOG_SECONDS)

    def _doctor_evaluate(self) -> None:
        """Every rule over the latest snapshot; the strip, the views and the gateway pane redrawn."""
        self._doctor_timer = None
        started = time.monotonic()
        snapshot = self.session.snapshot
        if loaded(snapshot):
            self.doctor_evidence.note_nodes(snapshot, self._now())
        evidence: Evidence = self.doctor_evidence.evidence(
            self.config, self._now(), Evidence.objects_of(self.session.state)
        )
        findings = evaluate_live(snapshot, evidence)
        self._doctor_last = time.monotonic()
        self.doctor_seconds = self._doctor_last - started
        self.doctor_evaluations += 1
        if findings is None:
            findings = []
        if tuple(findings) != self.findings:
            record = getattr(self, "record_findings", None)  # a recording in progress keeps them
            if record is not None:
                record(findings)
        self.findings = tuple(findings)
        self.doctor_summary = summarize(snapshot, findings)
        self.doctor_draw()

    def doctor_draw(self) -> None:
        """The strip, every doctor view and the panes that show findings."""
        summary, findings = self.doctor_summary, self.findings
        if self.problems_strip.is_mounted:
            self.problems_strip.draw(summary)
        for screen in self.screen_stack:
            if isinstance(screen, DoctorScreen):
                screen.view.show_findings(summary, findings)
        for pane in self.panes.values():
            if pane.is_mounted:
                pane.doctor_round(summary, findings)

    # ---- the view ---------------------------------------------------------------------------
    def action_doctor(self) -> None:
        """Open the doctor view (``!`` again or Escape closes it)."""
        if isinstance(self.screen, DoctorScreen):
            self.screen.dismiss(None)
            return
        if not self.doctor_live:  # a replay's findings, as recorded
            self.doctor_summary = summarize(self.session.snapshot, list(self.findings))
        self.push_screen(DoctorScreen(self.doctor_summary, self.findings))

    def on_finding_chosen(self, message: FindingChosen) -> None:
        """Close the doctor screen and go to the object the finding is about."""
        if isinstance(self.screen, DoctorScreen):
            self.screen.dismiss(None)
        subject = message.finding.subject
        if subject is None:
            self.notify("this finding is about no object in particular", severity="information")
            return
        self.call_after_refresh(self.go_to, subject)

    def go_to(self, quote: Quote) -> None:
        """Focus the pane that shows the object ``quote`` is about and put its cursor there."""
        pane_id = PANE_OF.get(quote.kind)
        if quote.kind == "Deployment" and self._epp_deployment(quote):
            pane_id = "gateway"
        if pane_id is None or pane_id not in self.panes:
            where = f"the {pane_id} pane is not in this layout" if pane_id else "no pane shows it"
            self.notify(f"{quote.kind} {quote.key}: {where}", severity="information")
            return
        self.focus_pane(pane_id)
        pane = self.panes[pane_id]
        if pane_id == "pods":
            pod = self._pod_for(quote)
            if pod is not None:
                self.post_message(PodSelected(pod))
        else:
            pane.show_object(quote.kind, quote.namespace, quote.name)

    def _epp_deployment(self, quote: Quote) -> bool:
        return any(
            hop.kind == "EPP" and hop.name == quote.name
            for path in self.session.snapshot.paths
            for hop in path.hops
            if path.title.startswith(f"{quote.namespace}/")
        )

    def _pod_for(self, quote: Quote) -> str | None:
        """The pod to select: the pod itself, or the first pod of the Deployment or namespace."""
        pods = self.session.snapshot.pods
        if quote.kind == "Pod":
            return quote.key if quote.key in pods else None
        in_ns = [p for p in sorted(pods.values(), key=lambda p: p.key) if p.namespace == quote.namespace]
        if quote.kind == "Deployment":
            owned = [p for p in in_ns if p.name.startswith(f"{quote.name}-")]
            return owned[0].key if owned else None
        serving = [p for p in in_ns if p.role in ("decode", "prefill")]
        return serving[0].key if serving else None
