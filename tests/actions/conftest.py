"""Fixtures for the actions: the console's clients pointed at the module's simulator, and a
config whose GKE endpoint is the simulator's Container API."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmd_console.actions.steps import Progress
from llmd_console.config import Config, GkeConfig
from llmd_console.gke import NodePoolClient
from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import CLUSTER, LOCATION, PROJECT
from tests.inference.conftest import kube

__all__ = ["kube"]  # the console's Kubernetes client for the module's simulator, shared with tests/inference


@pytest.fixture()
def config(sim: SimCluster) -> Config:
    """The default config (the simulator's world is the runbook's), GKE pointed at the simulator."""
    gke = GkeConfig(project=PROJECT, location=LOCATION, cluster=CLUSTER, endpoint=sim.url + "/", auth="none")
    return replace(Config(), gke=gke)


@pytest.fixture()
def gke(config: Config) -> NodePoolClient:
    """The Container API client, polling operations quickly."""
    return NodePoolClient(config.gke, poll_seconds=0.1)


class Recorder:
    """Collects progress reports."""

    def __init__(self) -> None:
        self.seen: list[Progress] = []

    def __call__(self, progress: Progress) -> None:
        self.seen.append(progress)

    def states(self) -> list[tuple[str, str]]:
        """(step, state) in order."""
        return [(p.step, p.state) for p in self.seen]
