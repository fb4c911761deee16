"""The doctor run live, as the console runs it: the same rules as ``llmd-console check`` over the
session's latest snapshot, with the evidence the console's sources gathered so far.

What the watch does not bring is gathered in the background, bounded: the recent log lines of
the model server and EPP pods that are not Ready (the only ones a rule reads logs of), the token
Secret's key names (never its values) and the older API group's InferencePools. The prompt
pane's recent results are evidence too, as ``check``'s test inferences are. Evaluating is cheap
(no I/O) and the caller keeps it to at most once a second.

Nothing here imports Textual: the console's app drives it (``ui/doctor_handlers.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.doctor.engine import evaluate
from llmd_console.doctor.evidence import Evidence, Inference, PodLog
from llmd_console.doctor.findings import Finding
from llmd_console.doctor.gather import inference_of, old_pools, pod_logs, secret_keys
from llmd_console.doctor.summary import WATCHED_ROLES, loaded
from llmd_console.inference.request import Outcome
from llmd_console.metrics.alerts import Alert
from llmd_console.metrics.readings import Feed
from llmd_console.models import Obj, Pod, Snapshot

LOG_SECONDS = 2.0  # between two reads of the failing pods' logs
SIDE_SECONDS = 15.0  # between two reads of the Secret's key names and the older pools
MAX_LOG_LINES = 300  # per container, whatever the config asks: the console reads them again and again
# A prompt's result is evidence this long: the path may have been fixed since, with no prompt sent.
PROMPT_SECONDS = 90.0
MAX_PROMPTS = 4
# Failures of the request itself (a model name typed wrong, parameters the server refuses, the
# operator's Escape): they say nothing about the cluster.
# No endpoint found is not one either: the rules read why from the objects themselves.
REQUEST_FAULTS = frozenset({"cancelled", "bad_request", "model_not_found", "no_endpoint"})


def _unready(pod: Pod) -> bool:
    return pod.role in WATCHED_ROLES and not pod.is_ready and not pod.terminating and bool(pod.node)


@dataclass
class LiveEvidence:
    """What the console's sources last delivered, beyond the snapshot."""

    logs: tuple[PodLog, ...] = ()
    secrets: Mapping[str, frozenset[str]] | None = None
    old_pools: Mapping[str, Obj] | None = None
    feed: Feed | None = None
    alerts: tuple[Alert, ...] = ()
    idle_since: dict[str, float] = field(default_factory=dict)  # node -> when the console saw its chips freed
    gathered_at: float = 0.0  # monotonic time of the last side read (0: never)
    prompts: tuple[tuple[float, Inference], ...] = ()  # (when, the result) of the latest prompts
    _pods_read: frozenset[str] = field(default_factory=frozenset)
    _busy: set[str] | None = None  # accelerator nodes seen with chips in use (None: no snapshot yet)

    def evidence(self, config: Config, now: float, objects: Mapping[str, Mapping[str, Obj]]) -> Evidence:
        """The evidence for one evaluation (``objects``: the session state's raw objects)."""
        return Evidence(
            config=config,
            now=now,
            objects=objects,
            logs=self.logs,
            secrets=self.secrets,
            old_pools=self.old_pools,
            feed=self.feed,
            alerts=self.alerts,
            idle_since=dict(self.idle_since),
            inferences=tuple(i for at, i in self.prompts if now - at < PROMPT_SECONDS),
        )

    def note_prompt(self, outcome: Outcome, how: str, now: float) -> bool:
        """A result from the prompt pane (``how``: its endpoint, in words); True when it is
        evidence about the cluster."""
        if outcome.failure is not None and outcome.failure.kind in REQUEST_FAULTS:
            return False
        self.prompts = (*self.prompts, (now, inference_of(outcome, how, "a prompt")))[-MAX_PROMPTS:]
        return True

    def note_nodes(self, snapshot: Snapshot, now: float) -> None:
        """Remember when each accelerator node's last serving pod left, as the console saw it: a
        node emptied by a rollout is idle since then, not since it was created. Nodes already idle
        when the console started keep the rule's own fallback (their creation time)."""
        accelerators = {name for name, node in snapshot.nodes.items() if node.chips_total}
        busy = {name for name in accelerators if snapshot.nodes[name].chips_used}
        if self._busy is not None:
            for name in accelerators - busy:
                if name in self._busy:  # it served, and no longer does
                    self.idle_since.setdefault(name, now)
        for name in busy | (set(self.idle_since) - accelerators):
            self.idle_since.pop(name, None)
        self._busy = ((self._busy or set()) & accelerators) | busy

    async def read_logs(self, client: KubeClient, snapshot: Snapshot, config: Config) -> bool:
        """Read the logs of the pods that are not Ready (none when all are: nothing to read).
        True when the evidence changed."""
        pods = {key: pod for key, pod in snapshot.pods.items() if _unready(pod)}
        if not pods and not self._pods_read:
            return False
        tail = max(1, min(config.doctor.log_lines, MAX_LOG_LINES))
        only = Snapshot(pods=pods) if pods else Snapshot()
        logs = await pod_logs(client, only, tail) if pods else ()
        self._pods_read = frozenset(pods)
        if logs == self.logs:
            return False
        self.logs = logs
        return True

    async def read_side(self, client: KubeClient, snapshot: Snapshot, config: Config) -> bool:
        """Read the token Secret's key names and the older group's pools; True when they changed."""
        secrets, pools = await asyncio.gather(
            secret_keys(client, snapshot, config.deploy.hf_secret), old_pools(client, snapshot)
        )
        self.gathered_at = time.monotonic()
        changed = (secrets, pools) != (self.secrets, self.old_pools)
        self.secrets, self.old_pools = secrets, pools
        return changed


def evaluate_live(snapshot: Snapshot, evidence: Evidence) -> list[Finding] | None:
    """Every rule over the snapshot: the same engine as ``check``, without the test inferences
    (None until every kind is loaded: nothing is known yet, so nothing is wrong)."""
    if not loaded(snapshot):
        return None
    return evaluate(snapshot, evidence)
