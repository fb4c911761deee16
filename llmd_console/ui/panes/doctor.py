"""The doctor's findings as a pane a layout can hold: the same view as the ``!`` screen."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.content import Content

from llmd_console.doctor.findings import Finding
from llmd_console.doctor.summary import Summary
from llmd_console.models import Snapshot
from llmd_console.sanitize import one_line
from llmd_console.ui.doctor_view import DoctorView, counts_text
from llmd_console.ui.panes.base import Pane
from llmd_console.ui.registry import register_pane


@register_pane
class DoctorPane(Pane):
    """Every finding of the doctor, live, with its evidence and fix."""

    pane_id = "doctor"
    title = "Doctor"
    summary = "What is wrong, worst first, with the evidence and the exact fix (also on '!')"
    kinds = ()

    def __init__(self) -> None:
        super().__init__()
        self.view = DoctorView(id="doctor-pane-view")

    def compose(self) -> ComposeResult:
        """Notice and the view."""
        yield self.notice
        yield self.view

    def on_mount(self) -> None:
        """A pane made after the last evaluation shows it at once."""
        summary, findings = getattr(self.app, "doctor_summary", None), getattr(self.app, "findings", None)
        if isinstance(summary, Summary) and isinstance(findings, (list, tuple)):
            self.doctor_round(summary, findings)

    def refresh_from(self, snapshot: Snapshot) -> None:
        """Findings come with :meth:`doctor_round`, not with snapshots."""
        del snapshot

    def doctor_round(self, summary: Summary, findings: Sequence[Finding]) -> None:
        """The doctor evaluated again."""
        self.view.show_findings(summary, findings)
        # Content, not a str: a headline names pods, and a border's str is parsed as markup.
        self.border_subtitle = Content(counts_text(summary).plain.strip() or one_line(summary.headline, 40))
