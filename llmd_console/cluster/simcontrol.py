"""The fault scenarios of a simulated cluster, through its control endpoint next to the
Kubernetes API (``/llmd-sim/v1``): what they are, which one is active, switch and clear. A real
API server answers 404 there, which is how the console knows it is not talking to a simulator."""

from __future__ import annotations

from dataclasses import dataclass

from llmd_console.cluster.kube import KubeClient, KubeError

CONTROL = "/llmd-sim/v1"
MAX_SCENARIOS = 100  # listed; a control endpoint sending more is cut there


class NotSimulated(Exception):
    """The API server is not a simulator (it has no control endpoint)."""


@dataclass(frozen=True)
class Scenario:
    """One fault scenario: its name and one line on what it breaks."""

    name: str
    summary: str


@dataclass(frozen=True)
class Scenarios:
    """The scenarios a simulator offers and the active one (None: the healthy world)."""

    active: str | None
    offered: tuple[Scenario, ...]


def _parse(body: object) -> Scenarios:
    if not isinstance(body, dict) or not isinstance(body.get("scenarios"), list):
        raise NotSimulated("the control endpoint's answer is not a scenario list")
    offered = tuple(
        Scenario(str(s.get("name", ""))[:64], str(s.get("summary", ""))[:300])
        for s in body["scenarios"][:MAX_SCENARIOS]
        if isinstance(s, dict) and s.get("name")
    )
    active = body.get("active")
    return Scenarios(str(active)[:64] if isinstance(active, str) and active else None, offered)


async def _call(kube: KubeClient, method: str, path: str, body: dict[str, str] | None = None) -> Scenarios:
    try:
        if method == "GET":
            answer = await kube.get(CONTROL + path)
        elif method == "DELETE":
            answer = await kube.delete(CONTROL + path)
        else:
            answer = await kube.send(method, CONTROL + path, body or {})
    except KubeError as exc:
        if exc.status in (404, 403, 401) and method == "GET":
            raise NotSimulated(f"{kube.server} is not a simulated cluster (no {CONTROL} endpoint)") from None
        raise
    return _parse(answer)


async def scenarios(kube: KubeClient) -> Scenarios:
    """The scenarios and the active one; :class:`NotSimulated` on a real cluster."""
    return await _call(kube, "GET", "/scenarios")


async def set_scenario(kube: KubeClient, name: str) -> Scenarios:
    """Switch to scenario ``name`` (the previous one is cleared first, by the simulator)."""
    return await _call(kube, "PUT", "/scenario", {"name": name})


async def clear_scenario(kube: KubeClient) -> Scenarios:
    """Back to the healthy world."""
    return await _call(kube, "DELETE", "/scenario")
