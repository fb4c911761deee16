"""The request path, hop by hop, each with a status light and, when unhealthy, the
failing condition in words and the fix."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from llmd_console.config import ResourcesConfig
from llmd_console.state import Changes, ClusterState
from llmd_console.ui.panes.base import Pane
from llmd_console.views.gateway import Hop, PathInput, request_path

LIGHTS = {"ok": ("●", "green"), "warning": ("●", "yellow"), "error": ("●", "bold red"), "unknown": ("○", "dim")}
KINDS = ("gateways", "httproutes", "inferencepools", "services", "deployments", "pods", "gatewayclasses")


def draw_path(hops: list[Hop]) -> Text:
    """The hops as a vertical chain."""
    out = Text()
    for i, hop in enumerate(hops):
        symbol, style = LIGHTS[hop.light]
        out.append(f"{symbol} ", style=style)
        out.append(f"{hop.kind} ", style="bold")
        out.append(f"{hop.name}\n")
        for fact in hop.facts:
            out.append(f"│   {fact}\n", style="dim")
        if hop.problem:
            out.append("│   ✗ ", style=style)
            out.append(f"{hop.problem}\n", style=style)
        if hop.fix:
            out.append("│   fix: ", style="bold")
            out.append(f"{hop.fix}\n", style="cyan")
        if i < len(hops) - 1:
            out.append("▼\n", style="dim")
    return out


class GatewayPane(Pane):
    """Gateway -> HTTPRoute -> InferencePool -> EPP -> model pods."""

    pane_id = "gateway"
    title = "Gateway path"
    kinds = KINDS

    def __init__(self, resources: ResourcesConfig, namespace: str) -> None:
        super().__init__()
        self.resources = resources
        self.namespace = namespace
        self.body = Static("", id="gateway-path")
        self.hops: list[Hop] = []

    def compose(self) -> ComposeResult:
        """Notice and the path."""
        yield self.notice
        with VerticalScroll():
            yield self.body

    def refresh_from(self, state: ClusterState, changes: Changes | None) -> None:
        """Recompute the path when any of its objects changed."""
        if changes is not None and not changes.touched(*KINDS):
            return
        self.show_notice(self.status_notice(state))
        r = self.resources
        self.hops = request_path(
            PathInput(
                gateway_name=r.gateway,
                route_name=r.http_route,
                pool_name=r.inference_pool,
                epp_name=r.epp,
                namespace=self.namespace,
                gateways=state.of("gateways"),
                routes=state.of("httproutes"),
                pools=state.of("inferencepools"),
                services=state.of("services"),
                deployments=state.of("deployments"),
                pods=state.of("pods"),
                classes=state.of("gatewayclasses"),
                missing=state.unavailable("missing"),
                forbidden=state.unavailable("forbidden"),
            )
        )
        self.body.update(draw_path(self.hops))
        bad = [h for h in self.hops if h.light in ("error", "warning")]
        self.border_subtitle = "healthy" if not bad else f"{len(bad)} problem(s)"
