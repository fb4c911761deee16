"""The console's live evidence: when an accelerator node's last serving pod left, as the console
saw it, so that a node emptied by a rollout is not reported idle since its creation."""

from __future__ import annotations

from llmd_console.config import Config
from llmd_console.doctor.engine import evaluate
from llmd_console.doctor.live import PROMPT_SECONDS, LiveEvidence
from llmd_console.doctor.rules.cost import idle_accelerators
from llmd_console.doctor.rules.serving import commands_in
from llmd_console.inference.failures import FixHints, for_status
from llmd_console.inference.request import Failure, Outcome, PromptRequest
from llmd_console.models import Node, Snapshot

T0 = 1_795_000_000.0
# Created long before T0 (2023-11-14T22:13:20Z is 1_700_000_000).
NODE_OBJ = {"metadata": {"name": "tpu-1", "creationTimestamp": "2023-11-14T22:13:20Z"}}


def _world(used: int) -> Snapshot:
    node = Node(
        "tpu-1", "tpu-pool", "Ready", True, "ct6e-standard-4t", "tpu-v6e-slice", "2x2", used, 4, int(bool(used))
    )
    return Snapshot(nodes={"tpu-1": node})


def _idle(live: LiveEvidence, now: float) -> list[str]:
    evidence = live.evidence(Config(), now, {"nodes": {"tpu-1": NODE_OBJ}})
    return [f.id for f in evaluate(_world(0), evidence, rules=(idle_accelerators,))]


def test_a_node_emptied_while_watched_is_idle_since_then() -> None:
    live = LiveEvidence()
    live.note_nodes(_world(4), T0)
    live.note_nodes(_world(0), T0 + 10)
    assert live.idle_since == {"tpu-1": T0 + 10}
    assert _idle(live, T0 + 60) == []  # a rollout's gap, not 30 idle minutes
    assert _idle(live, T0 + 10 + 31 * 60) == ["idle-accelerator"]
    live.note_nodes(_world(0), T0 + 20)
    assert live.idle_since == {"tpu-1": T0 + 10}  # the first time it was seen idle counts
    live.note_nodes(_world(4), T0 + 30)
    assert live.idle_since == {}


def test_a_node_idle_when_the_console_started_falls_back_to_its_creation() -> None:
    live = LiveEvidence()
    live.note_nodes(_world(0), T0)
    live.note_nodes(_world(0), T0 + 10)
    assert live.idle_since == {}
    assert _idle(live, T0 + 60) == ["idle-accelerator"]  # created long ago, and no one uses it


def test_a_prompts_result_is_evidence_for_a_while_and_its_own_faults_are_not() -> None:
    live = LiveEvidence()
    request = PromptRequest("Hello", "m")
    no_route = Failure("no_route", "404: no route", "the HTTPRoute is missing", "kubectl apply -f httproute.yaml")
    for kind in ("cancelled", "bad_request", "model_not_found", "no_endpoint"):
        failed = Outcome(request, "r", 0.0, failure=Failure(kind, kind, "", ""))
        assert not live.note_prompt(failed, "the gateway", 100.0)
    assert live.note_prompt(Outcome(request, "r1", 0.0, status=404, failure=no_route), "gateway 10.0.0.1", 100.0)
    (finding,) = [f for f in evaluate(Snapshot(), live.evidence(Config(), 150.0, {})) if f.area == "serving"]
    assert finding.id == "inference-no-route"
    assert finding.title == "a prompt through gateway 10.0.0.1 failed: 404: no route"
    assert finding.fix == ("kubectl apply -f httproute.yaml",)
    hints = FixHints.from_config(Config(), "ns")
    advice = for_status(503, "fault filter abort", hints).fix  # prose around the commands
    assert commands_in(advice) == (
        "kubectl get httproute -n ns",
        f"kubectl describe gateway {hints.gateway} -n ns",
    ), "only what pastes into a shell as it is"
    assert live.evidence(Config(), 100.0 + PROMPT_SECONDS, {}).inferences == ()  # the path may be fixed since
    live.note_prompt(Outcome(request, "r2", 0.0, status=200, ttft=0.2, total=0.5), "gateway 10.0.0.1", 160.0)
    assert not [f for f in evaluate(Snapshot(), live.evidence(Config(), 161.0, {})) if f.area == "serving"]
