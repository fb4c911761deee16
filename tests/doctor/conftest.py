"""A Pattern 1 simulator per test module, with its kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd_console.sim import SimCluster, SimOptions
from tests.conftest import TEST_SPEED


@pytest.fixture(scope="module")
def cluster() -> Iterator[SimCluster]:
    """A healthy Pattern 1 on TPU, at the tests' speed."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=13)) as c:
        yield c


@pytest.fixture(scope="module")
def cluster_kubeconfig(cluster: SimCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig for ``cluster``."""
    return cluster.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
