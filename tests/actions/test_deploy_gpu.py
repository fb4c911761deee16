"""The GPU variant, end to end: in a simulated GPU cluster, the runbook's objects removed and
Pattern 1 deployed for NVIDIA GPUs until a first inference answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from llmd_console.actions.deploy import FollowTimes, deploy, plan_deploy
from llmd_console.actions.facts import read_facts
from llmd_console.actions.undeploy import undeploy
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config, DeployConfig
from llmd_console.sim import SimCluster, SimOptions
from llmd_console.sim.worlds.world import NAMESPACE
from tests.actions.conftest import Recorder
from tests.conftest import TEST_SPEED


@pytest.fixture(scope="module")
def sim() -> Iterator[SimCluster]:
    """Pattern 1 on an H100 node pool."""
    with SimCluster(SimOptions(speed=TEST_SPEED, seed=5, accelerator="gpu")) as cluster:
        yield cluster


async def test_gpu_deploy_answers_a_first_inference(kube: KubeClient, config: Config) -> None:
    gpu = replace(config, deploy=DeployConfig(accelerator="gpu", image="ghcr.io/llm-d/llm-d-cuda:v0.4.0"))
    await undeploy(kube, gpu, NAMESPACE)
    plan = await plan_deploy(kube, gpu, await read_facts(kube))
    assert [d.change for d in plan.diffs] == ["create"] * 9, plan.diffs
    assert plan.cost is not None
    assert plan.cost.per_hour_after == pytest.approx(4 * config.prices["nvidia-h100-80gb"])
    assert plan.warnings == ()
    said = await deploy(kube, gpu, Recorder(), FollowTimes(rollout=90.0, path=60.0, inference=60.0))
    assert "first inference answered" in said
