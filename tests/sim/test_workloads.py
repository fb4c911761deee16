"""Deployments as the real kubectl sees them: defaults, diff, rollout history and undo."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from kubernetes import client

from llmd_console.sim.worlds.world import DECODE_NAME, EPP_NAME, NAMESPACE
from tests.conftest import Kubectl, wait_for

N = ("-n", NAMESPACE)
D = ("-n", "default")


def _manifest(kubectl: Kubectl, name: str, tmp_path: Path) -> Path:
    """What ``kubectl create deployment --dry-run=client -o yaml`` writes (with its ``creationTimestamp: null``)."""
    text = kubectl.run("create", "deployment", name, *D, "--image=nginx:1.27", "--dry-run=client", "-o", "yaml")
    assert "creationTimestamp: null" in text
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def _diff(kubectl: Kubectl, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl.binary, "diff", *args], env=kubectl.env, capture_output=True, text=True, timeout=30, check=False
    )


def test_diff_of_an_unchanged_manifest_shows_nothing(kubectl: Kubectl, tmp_path: Path) -> None:
    path = _manifest(kubectl, "unchanged", tmp_path)
    kubectl.run("apply", "-f", str(path))
    for extra in ((), ("--server-side",)):
        proc = _diff(kubectl, *extra, "-f", str(path))
        assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr
    created = kubectl.run("get", "deploy", "unchanged", *D, "-o", "jsonpath={.metadata.creationTimestamp}")
    assert created.endswith("Z")
    # A real change still shows, with the generation the server would move, and nothing else.
    path.write_text(path.read_text().replace("nginx:1.27", "nginx:1.28"))
    proc = _diff(kubectl, "-f", str(path))
    assert proc.returncode == 1
    changed = [line for line in proc.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-  generation: 1",
        "+  generation: 2",
        "-      - image: nginx:1.27",
        "+      - image: nginx:1.28",
    ], proc.stdout
    assert kubectl.run("get", "deploy", "unchanged", *D, "-o", "jsonpath={.metadata.generation}") == "1"


def test_pod_only_defaults_stay_out_of_templates(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", str(_manifest(kubectl, "defaults", tmp_path)))
    dep = json.loads(kubectl.run("get", "deploy", "defaults", *D, "-o", "json"))
    template = dep["spec"]["template"]["spec"]
    # SetDefaults_PodSpec and the container defaults apply to templates too ...
    assert template["dnsPolicy"] == "ClusterFirst"
    assert template["schedulerName"] == "default-scheduler"
    assert template["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    # ... but the admission plugins and SetDefaults_Pod touch only pods.
    for pod_only in ("tolerations", "serviceAccountName", "serviceAccount", "enableServiceLinks"):
        assert pod_only not in template, pod_only
    kubectl.run("rollout", "status", "deploy/defaults", *D, "--timeout=30s", timeout=40)
    pod = json.loads(kubectl.run("get", "pods", *D, "-l", "app=defaults", "-o", "json"))["items"][0]["spec"]
    assert pod["serviceAccountName"] == pod["serviceAccount"] == "default"
    assert pod["enableServiceLinks"] is True
    assert {t["key"] for t in pod["tolerations"]} == {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
    # The decode template carries exactly what the chart wrote: TPU limits and requests, no
    # tolerations beyond the chart's own.
    decode = json.loads(kubectl.run("get", "deploy", DECODE_NAME, *N, "-o", "json"))["spec"]["template"]["spec"]
    assert [t["key"] for t in decode["tolerations"]] == ["google.com/tpu"]
    # A template's service account is mirrored into the deprecated field, as the v1 conversion does.
    epp = json.loads(kubectl.run("get", "deploy", EPP_NAME, *N, "-o", "json"))["spec"]["template"]["spec"]
    assert epp["serviceAccount"] == epp["serviceAccountName"] == EPP_NAME


def _revisions(kubectl: Kubectl, selector: str) -> dict[str, dict[str, str]]:
    """ReplicaSet name -> annotations."""
    items = json.loads(kubectl.run("get", "rs", *D, "-l", selector, "-o", "json"))["items"]
    return {rs["metadata"]["name"]: rs["metadata"].get("annotations", {}) for rs in items}


def test_rollout_history_and_undo_reuse_the_previous_replicaset(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("apply", "-f", str(_manifest(kubectl, "web", tmp_path)))
    kubectl.run("rollout", "status", "deploy/web", *D, "--timeout=30s", timeout=40)
    (first,) = _revisions(kubectl, "app=web")
    kubectl.run("set", "image", "deploy/web", *D, "nginx=nginx:1.28")
    kubectl.run("annotate", "deploy/web", *D, "kubernetes.io/change-cause=move to nginx 1.28")
    kubectl.run("rollout", "status", "deploy/web", *D, "--timeout=30s", timeout=40)
    wait_for(
        lambda: "move to nginx 1.28" in kubectl.run("rollout", "history", "deploy/web", *D),
        message="the change-cause in rollout history",
    )
    history = kubectl.run("rollout", "history", "deploy/web", *D).splitlines()
    assert history[2].split() == ["1", "<none>"]
    assert history[3].split(None, 1) == ["2", "move to nginx 1.28"]
    kubectl.run("rollout", "undo", "deploy/web", *D)
    kubectl.run("rollout", "status", "deploy/web", *D, "--timeout=30s", timeout=40)
    rs = _revisions(kubectl, "app=web")
    assert len(rs) == 2, rs  # no third ReplicaSet: the first one came back
    # The first ReplicaSet is revision 3 now, and remembers it was revision 1.
    assert rs[first]["deployment.kubernetes.io/revision"] == "3"
    assert rs[first]["deployment.kubernetes.io/revision-history"] == "1"
    replicas = kubectl.run("get", "rs", first, *D, "-o", "jsonpath={.spec.replicas}/{.status.readyReplicas}")
    assert replicas == "1/1"
    image = kubectl.run("get", "deploy", "web", *D, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx:1.27"
    assert [line.split()[0] for line in kubectl.run("rollout", "history", "deploy/web", *D).splitlines()[2:-1]] == [
        "2",
        "3",
    ]


def test_decode_rollout_stalls_on_the_single_tpu_node_as_on_a_real_cluster(kubectl: Kubectl) -> None:
    """The chart's decode Deployment keeps the default RollingUpdate (maxSurge 25% of 1 -> 1,
    maxUnavailable 0): the surge pod needs 4 TPU chips while the one TPU node's 4 are held by
    the old pod, so a real cluster with no free TPU node stalls too, until
    progressDeadlineSeconds; undo recovers. (The simulator has no cluster autoscaler: on GKE
    the pool's autoscaling could add a second TPU node, capacity permitting.)"""
    dep = yaml.safe_load(kubectl.run("get", "deploy", DECODE_NAME, *N, "-o", "yaml"))
    assert dep["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    kubectl.run("rollout", "status", f"deploy/{DECODE_NAME}", *N, "--timeout=60s", timeout=70)
    before = kubectl.run("get", "rs", *N, "-l", "llm-d.ai/role=decode", "-o", "name").split()
    kubectl.run("rollout", "restart", f"deploy/{DECODE_NAME}", *N)
    status = kubectl.run("rollout", "status", f"deploy/{DECODE_NAME}", *N, "--timeout=60s", check=False, timeout=70)
    assert f'deployment "{DECODE_NAME}" exceeded its progress deadline' in status
    progressing = kubectl.run(
        "get", "deploy", DECODE_NAME, *N, "-o", 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}'
    )
    assert progressing == "ProgressDeadlineExceeded"
    events = kubectl.run(
        "get", "events", *N, "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[*].message}"
    )
    assert "Insufficient google.com/tpu" in events
    # The old pod kept serving throughout.
    assert kubectl.run("get", "deploy", DECODE_NAME, *N, "-o", "jsonpath={.status.availableReplicas}") == "1"
    kubectl.run("rollout", "undo", f"deploy/{DECODE_NAME}", *N)
    kubectl.run("rollout", "status", f"deploy/{DECODE_NAME}", *N, "--timeout=60s", timeout=70)
    after = kubectl.run("get", "rs", *N, "-l", "llm-d.ai/role=decode", "-o", "name").split()
    assert len(after) == 2 and set(before) < set(after)
    active = kubectl.run(
        "get", "rs", *N, "-l", "llm-d.ai/role=decode", "-o", "jsonpath={.items[?(@.spec.replicas==1)].metadata.name}"
    )
    assert f"replicaset.apps/{active}" in before


def test_a_new_collision_count_does_not_start_a_rollout(
    kubectl: Kubectl, api: client.ApiClient, tmp_path: Path
) -> None:
    """The controller finds the Deployment's ReplicaSet by template (EqualIgnoreHash), not by
    hash: a collisionCount bump changes the hash a new ReplicaSet would get, not the template."""
    kubectl.run("apply", "-f", str(_manifest(kubectl, "steady", tmp_path)))
    kubectl.run("rollout", "status", "deploy/steady", *D, "--timeout=30s", timeout=40)
    (first,) = _revisions(kubectl, "app=steady")
    client.AppsV1Api(api).patch_namespaced_deployment_status("steady", "default", {"status": {"collisionCount": 1}})
    kubectl.run("scale", "deploy/steady", *D, "--replicas=2")
    kubectl.run("rollout", "status", "deploy/steady", *D, "--timeout=30s", timeout=40)
    assert list(_revisions(kubectl, "app=steady")) == [first]
    assert kubectl.run("get", "rs", first, *D, "-o", "jsonpath={.status.readyReplicas}") == "2"
    collisions = kubectl.run("get", "deploy", "steady", *D, "-o", "jsonpath={.status.collisionCount}")
    assert collisions == "1"
