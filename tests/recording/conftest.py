"""Recording tests run the console against a simulated cluster of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.sim import SimCluster, SimOptions

SPEED = 100.0  # startups in seconds, idle enough for Pilot


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimCluster, Path]]:
    """A Pattern 1 cluster and its kubeconfig."""
    with SimCluster(SimOptions(speed=SPEED, seed=5)) as cluster:
        path = cluster.write_kubeconfig(tmp_path_factory.mktemp("recording") / "kubeconfig")
        yield cluster, path
