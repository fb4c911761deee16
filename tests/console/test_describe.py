"""Describe and YAML of objects the real kubectl reads from the simulator: the text
matches ``kubectl describe`` where it matters, and secret values never appear."""

from __future__ import annotations

import base64
import json
import time

from llmd_console.sim.worlds.world import NAMESPACE
from llmd_console.views.describe import describe_pod, redacted, to_yaml
from tests.conftest import Kubectl, wait_for


def decode_pod_name(kubectl: Kubectl) -> str:
    names = kubectl.run("get", "pods", "-n", NAMESPACE, "-o", "name").split()
    return next(n.split("/", 1)[1] for n in names if "decode" in n)


def test_describe_pod_reads_like_kubectl_describe(kubectl: Kubectl) -> None:
    # A settled pod: both descriptions are taken a moment apart.
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", "llm-d.ai/inferenceServing=true", "--timeout=60s")
    name = wait_for(lambda: decode_pod_name(kubectl), message="a decode pod")
    pod = json.loads(kubectl.run("get", "pod", name, "-n", NAMESPACE, "-o", "json"))
    events = json.loads(
        kubectl.run("get", "events", "-n", NAMESPACE, "-o", "json", f"--field-selector=involvedObject.name={name}")
    )["items"]
    ours = describe_pod(pod, events, time.time())
    theirs = kubectl.run("describe", "pod", name, "-n", NAMESPACE)
    # The same facts, line for line, where kubectl's wording is fixed.
    for label in ("Name:", "Namespace:", "Node:", "Status:", "IP:", "Controlled By:", "    Image:", "    Port:"):
        line = next(x for x in theirs.splitlines() if x.startswith(label))
        assert line.split(":", 1)[1].strip() in ours, line
    hf_token = next(x for x in theirs.splitlines() if "HF_TOKEN:" in x).split(":", 1)[1].strip()
    assert hf_token == "<set to the key 'HF_TOKEN' in secret 'huggingface-token'>  Optional: false"
    assert hf_token in ours
    assert "Events:" in ours
    for event in events:
        assert event["reason"] in ours and event["message"] in ours


def test_yaml_never_shows_secret_values(kubectl: Kubectl) -> None:
    secret = json.loads(kubectl.run("get", "secret", "huggingface-token", "-n", NAMESPACE, "-o", "json"))
    values = [base64.b64decode(v).decode() for v in secret["data"].values()] + list(secret["data"].values())
    assert values and all(values)
    text = to_yaml(secret)
    for value in values:
        assert value not in text
    for key in secret["data"]:
        assert f"{key}: <redacted, " in text
    listed = json.loads(kubectl.run("get", "secrets", "-n", NAMESPACE, "-o", "json"))
    listed_text = to_yaml(listed)
    assert not any(value in listed_text for value in values)


def test_redaction_covers_string_data_and_the_last_applied_copy() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"t":"hunter2"}}'},
            "managedFields": [{"manager": "kubectl"}],
        },
        "stringData": {"t": "hunter2"},
    }
    out = redacted(secret)
    assert "hunter2" not in json.dumps(out) and "managedFields" not in out["metadata"]
    assert secret["stringData"] == {"t": "hunter2"}  # the original is left as it was


def test_pod_yaml_has_kubectls_layout_without_managed_fields(kubectl: Kubectl) -> None:
    name = wait_for(lambda: decode_pod_name(kubectl), message="a decode pod")
    pod = json.loads(kubectl.run("get", "pod", name, "-n", NAMESPACE, "-o", "json"))
    theirs = kubectl.run("get", "pod", name, "-n", NAMESPACE, "-o", "yaml")
    ours = to_yaml(pod)

    def top(text: str) -> list[str]:
        return [line.split(":")[0] for line in text.splitlines() if line and not line.startswith((" ", "-"))]

    assert top(ours) == top(theirs) == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert "secretKeyRef:" in ours and "managedFields" not in ours
