"""Pods as a kubelet runs them: probes dial the pod IP, and a terminating pod keeps its phase."""

from __future__ import annotations

import json

from tests.conftest import Kubectl, wait_for

D = ("-n", "default")


def _pod(name: str, probe: dict[str, object], *, ports: list[dict[str, object]] | None = None) -> str:
    container: dict[str, object] = {"name": "web", "image": "nginx:1.27", "readinessProbe": probe}
    if ports is not None:
        container["ports"] = ports
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [container], "terminationGracePeriodSeconds": 5},
        }
    )


def _events(kubectl: Kubectl, pod: str) -> str:
    return kubectl.run(
        "get", "events", *D, "--field-selector", f"involvedObject.name={pod}", "-o", "jsonpath={.items[*].message}"
    )


def test_a_probe_reaches_an_undeclared_port_the_process_listens_on(kubectl: Kubectl) -> None:
    # nginx listens on 80 whether or not the pod declares it: the kubelet dials the pod IP.
    probe = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}
    kubectl.run("apply", "-f", "-", stdin=_pod("undeclared", probe))
    kubectl.run("wait", "--for=condition=Ready", "pod/undeclared", *D, "--timeout=30s", timeout=40)
    assert "Unhealthy" not in kubectl.run("get", "events", *D, "--field-selector", "involvedObject.name=undeclared")


def test_a_probe_on_a_port_nothing_listens_on_is_refused(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=_pod("refused", {"tcpSocket": {"port": 8081}, "periodSeconds": 2}))
    ip = wait_for(lambda: kubectl.run("get", "pod", "refused", *D, "-o", "jsonpath={.status.podIP}"), message="pod IP")
    refused = f"Readiness probe failed: dial tcp {ip}:8081: connect: connection refused"
    wait_for(
        lambda: refused in _events(kubectl, "refused"),
        message="the refused probe's event",
    )
    assert kubectl.run("get", "pod", "refused", *D, "-o", "jsonpath={.status.containerStatuses[0].ready}") == "false"


def test_a_named_probe_port_must_be_declared(kubectl: Kubectl) -> None:
    probe = {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 2}
    kubectl.run("apply", "-f", "-", stdin=_pod("unnamed", probe))
    wait_for(
        lambda: (
            'Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "http": invalid syntax'
            in _events(kubectl, "unnamed")
        ),
        message="the probe error event",
    )
    kubectl.run("apply", "-f", "-", stdin=_pod("named", probe, ports=[{"name": "http", "containerPort": 80}]))
    kubectl.run("wait", "--for=condition=Ready", "pod/named", *D, "--timeout=30s", timeout=40)


def test_a_terminating_pod_keeps_running_then_ends_succeeded(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=_pod("leaving", {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}))
    kubectl.run("wait", "--for=condition=Ready", "pod/leaving", *D, "--timeout=30s", timeout=40)
    watch = kubectl.popen(
        "get",
        "pod",
        "leaving",
        *D,
        "-w",
        "--output-watch-events",
        "-o",
        'jsonpath={.type} {.object.status.phase} {.object.metadata.deletionTimestamp}{"\\n"}',
    )
    try:
        assert watch.stdout is not None
        first = watch.stdout.readline()  # the watch is open before the delete
        kubectl.run("delete", "pod", "leaving", *D, "--wait=true", timeout=40)
        wait_for(lambda: kubectl.run("get", "pods", *D, "--field-selector", "metadata.name=leaving") == "")
    finally:
        watch.terminate()
        out, _ = watch.communicate(timeout=10)
    events = [line.split() for line in (first + out).splitlines() if line.strip()]
    phases = [e[1] for e in events]
    assert "Pending" not in phases, events
    assert phases[0] == "Running" and events[-1][0] == "DELETED", events
    # Once its container has stopped, the deleted pod's last phase is terminal.
    assert phases[-1] == "Succeeded", events
    assert all(len(e) == 3 for e in events[1:]), events  # every later event carries the deletionTimestamp
