"""Cost: accelerator nodes running with no serving pod for longer than
``doctor.idle_accelerator_minutes``, with the scale-to-zero command."""

from __future__ import annotations

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.rules.common import Rule, resize_command
from llmd_console.models import Snapshot
from llmd_console.views.common import meta, timestamp


def idle_accelerators(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """Ready accelerator nodes whose chips nobody holds, idle past the threshold."""
    if not evidence.now:
        return []
    limit = evidence.config.doctor.idle_accelerator_minutes * 60
    raw = evidence.raw("nodes")
    pools = {p.name: p for p in snapshot.pools}
    out = []
    for name, node in sorted(snapshot.nodes.items()):
        if node.chips_total == 0 or node.chips_used > 0 or not node.ready:
            continue
        since = evidence.idle_since.get(name) or timestamp(meta(raw.get(name) or {}).get("creationTimestamp"))
        if since is None or evidence.now - since < limit:
            continue
        pool = pools.get(node.pool)
        cost = f" (~${pool.cost_per_hour / max(pool.nodes, 1):.2f}/h)" if pool and pool.cost_per_hour else ""
        minutes = (evidence.now - since) / 60
        out.append(
            Finding(
                "idle-accelerator",
                "warning",
                f"node {name} has {node.chips_total} idle {node.accelerator or 'accelerator'} chips "
                f"for {minutes:.0f} min{cost}: no serving pod uses them",
                (Quote("Node", "", name, f"chips used 0/{node.chips_total}, pool {node.pool}"),),
                (resize_command(evidence, 0, node.pool or None),),
                action="scale-node-pool",
                area="cost",
            )
        )
    return out


RULES: tuple[Rule, ...] = (idle_accelerators,)
