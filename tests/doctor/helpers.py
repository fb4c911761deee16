"""Running the doctor against a cluster the way ``llmd-console check`` does: one list of every
kind, the evidence gathered once, every rule."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.doctor.engine import evaluate
from llmd_console.doctor.findings import Finding
from llmd_console.doctor.gather import Gathered, gather
from llmd_console.sim import SimCluster


def diagnose(
    kubeconfig: Path, namespace: str | None, *, infer: bool = True, config: Config | None = None
) -> tuple[Gathered, list[Finding]]:
    """Gather once and evaluate every rule."""
    config = config or Config()

    async def go() -> Gathered:
        client = await KubeClient.connect(str(kubeconfig), None, namespace, 10.0)
        try:
            return await gather(client, config, namespace, infer=infer)
        finally:
            await client.close()

    gathered = asyncio.run(go())
    return gathered, evaluate(gathered.snapshot, gathered.evidence)


def finding(findings: list[Finding], fid: str) -> Finding | None:
    """The first finding with this id."""
    return next((f for f in findings if f.id == fid), None)


def set_scenario(cluster: SimCluster, name: str | None) -> None:
    """Switch the simulator's fault scenario (None: back to the healthy world)."""
    with httpx.Client(base_url=cluster.url, timeout=30) as api:
        if name is None:
            response = api.delete("/llmd-sim/v1/scenario")
        else:
            response = api.put("/llmd-sim/v1/scenario", json={"name": name})
    assert response.status_code == 200, response.text
