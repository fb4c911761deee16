"""Scaling against the simulator: the TPU node pool to 0 and back through the Container API
(the node goes and comes back, the decode pod goes Pending and back to Ready, the preview's
cost delta is the config's price), replicas with the fit warning, and bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmd_console.actions.audit import AuditLog
from llmd_console.actions.facts import read_facts
from llmd_console.actions.follow import wait_until
from llmd_console.actions.nodepool import (
    parse_nodes,
    plan_pool,
    plan_scale_back,
    plan_scale_to_zero,
    resize_pool,
    scale_back,
    scale_to_zero,
)
from llmd_console.actions.plan import Plan, Risk
from llmd_console.actions.runner import carry_out
from llmd_console.actions.scale import BadInput, parse_replicas, plan_replicas, read_scale
from llmd_console.cluster.kube import KINDS, KubeClient
from llmd_console.config import Config
from llmd_console.gke import NodePoolClient
from llmd_console.sim.worlds.world import DECODE_NAME, NAMESPACE

POOL = "tpu-v6e-pool"
DECODE = {"llm-d.ai/inferenceServing": "true"}


async def yes(plan: Plan) -> bool:
    return True


async def decode_phase(kube: KubeClient, want: str) -> str:
    async def check() -> tuple[str | None, str]:
        pods, _ = await kube.list(KINDS["pods"], NAMESPACE)
        mine = [p for p in pods if (p["metadata"].get("labels") or {}).get("llm-d.ai/inferenceServing") == "true"]
        ready = [
            p
            for p in mine
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
        ]
        phases = [p["status"].get("phase") for p in mine]
        if want == "Ready" and mine and len(ready) == len(mine):
            return "Ready", ""
        if want == "Pending" and phases and all(ph == "Pending" for ph in phases):
            return "Pending", ""
        return None, str(phases)

    return await wait_until(check, 60.0, f"the decode pod {want}")


async def test_tpu_pool_to_zero_and_back(kube: KubeClient, gke: NodePoolClient, config: Config, tmp_path: Path) -> None:
    await decode_phase(kube, "Ready")
    pool = await gke.get_pool(POOL)
    assert (pool.accelerator, pool.chips_per_node, pool.tpu_topology) == ("tpu-v6e-slice", 4, "2x2")
    facts = await read_facts(kube)
    down = plan_pool(config, pool, 0, facts)
    assert down.risk is Risk.DISRUPTIVE and down.confirm_word == POOL
    assert down.cost is not None and down.cost.delta == pytest.approx(-4 * config.prices["tpu-v6e-slice"])
    assert down.command[:4] == ("gcloud", "container", "clusters", "resize")
    assert any("serve Ready model pods" in w and DECODE_NAME in w for w in down.warnings), down.warnings
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = await carry_out(
        down, lambda: resize_pool(kube, gke, POOL, 0, 120.0), confirm=yes, audit=audit, context="sim", read_only=False
    )
    assert result.outcome == "done", result.message
    assert (await read_facts(kube)).pool_nodes(POOL) == []
    await decode_phase(kube, "Pending")

    up = plan_pool(config, await gke.get_pool(POOL), 1, await read_facts(kube))
    assert up.cost is not None and up.cost.delta == pytest.approx(4 * config.prices["tpu-v6e-slice"])
    result = await carry_out(
        up, lambda: resize_pool(kube, gke, POOL, 1, 120.0), confirm=yes, audit=audit, context="sim", read_only=False
    )
    assert result.outcome == "done", result.message
    assert len((await read_facts(kube)).pool_nodes(POOL)) == 1
    await decode_phase(kube, "Ready")
    assert [r["outcome"] for r in audit.read()] == ["done", "done"]


async def test_scale_to_zero_and_back(kube: KubeClient, gke: NodePoolClient, config: Config) -> None:
    model = await read_scale(kube, NAMESPACE, DECODE_NAME)
    pool = await gke.get_pool(POOL)
    zero = plan_scale_to_zero(config, pool, model, await read_facts(kube))
    assert zero.cost is not None and zero.cost.per_hour_after == 0 and len(zero.steps) == 2
    said = await scale_to_zero(kube, gke, POOL, model)
    assert "0 node(s)" in said
    assert (await read_scale(kube, NAMESPACE, DECODE_NAME)).replicas == 0
    back = plan_scale_back(config, await gke.get_pool(POOL), await read_scale(kube, NAMESPACE, DECODE_NAME), 1, 1)
    assert back.cost is not None and back.cost.chips_after == 4
    said = await scale_back(kube, gke, POOL, await read_scale(kube, NAMESPACE, DECODE_NAME), 1, 1)
    assert "1/1 Ready" in said
    await decode_phase(kube, "Ready")


async def test_replicas_beyond_the_free_chips_are_said_to_stay_pending(kube: KubeClient, config: Config) -> None:
    current = await read_scale(kube, NAMESPACE, DECODE_NAME)
    assert (current.replicas, current.chips_per_pod, current.accelerator) == (1, 4, "tpu-v6e-slice")
    plan = plan_replicas(current, 2, await read_facts(kube), config.prices)
    assert any("1 replica(s) will stay Pending" in w for w in plan.warnings), plan.warnings
    assert plan.cost is not None and (plan.cost.chips_before, plan.cost.chips_after) == (4, 8)
    assert plan.command == ("kubectl", "scale", "deployment", DECODE_NAME, "--replicas=2", "-n", NAMESPACE)
    fits = plan_replicas(current, 1, await read_facts(kube), config.prices)
    assert fits.warnings == ()


@pytest.mark.parametrize("text", ["-1", "two", "1.5", "17", "", "٣"])
def test_bad_replica_input_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="replicas must be"):
        parse_replicas(text, 16)


async def test_multi_host_slice_counts_go_by_whole_slices(gke: NodePoolClient) -> None:
    pool = await gke.get_pool(POOL)
    assert parse_nodes(" 2 ", pool) == 2
    multi = type(pool)(**{**pool.__dict__, "tpu_topology": "4x4", "name": "tpu-v6e-16"})
    assert multi.hosts_per_slice == 4
    with pytest.raises(BadInput, match="multiple of 4"):
        parse_nodes("3", multi)
    assert parse_nodes("8", multi) == 8
