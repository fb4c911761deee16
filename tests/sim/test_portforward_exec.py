"""Port-forward, exec, cp, attach and debug with the real kubectl and the Python client."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket
from kubernetes import client, config
from kubernetes.stream import portforward, stream

from llmd_console.sim import SimCluster
from llmd_console.sim.apiserver import channels, spdy
from llmd_console.sim.apiserver.podstreams import MAX_SESSIONS_PER_POD
from llmd_console.sim.worlds.world import NAMESPACE, SIM_HF_TOKEN
from tests.conftest import Kubectl, require_tool, wait_for

N = ("-n", NAMESPACE)
DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"
EPP_SERVICE = "gaie-pattern1-epp"
STREAM_MODULES = ("podstreams.py", "portforward.py", "podnet.py", "channels.py", "shell.py")


@pytest.fixture(scope="module")
def decode_pod(kubectl: Kubectl) -> str:
    """The decode pod, once its container runs."""
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", DECODE_SELECTOR, *N, "--timeout=60s", timeout=90)
    return kubectl.run("get", "pods", *N, "-l", DECODE_SELECTOR, "-o", "jsonpath={.items[0].metadata.name}")


@pytest.fixture(scope="module")
def core(sim: SimCluster, kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        yield client.CoreV1Api(api_client)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_forward(kubectl: Kubectl, target: str, remote: int) -> tuple[subprocess.Popen[str], int]:
    """``kubectl port-forward -n NS TARGET LOCAL:REMOTE &``, once it listens."""
    local = _free_port()
    proc = kubectl.popen("port-forward", *N, target, f"{local}:{remote}")
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith("Forwarding from"):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"port-forward {target} did not start: {first}{err}")
    return proc, local


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    return err


def _kubectl(kubectl: Kubectl, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl with its exit code and separate stderr."""
    return subprocess.run(
        [kubectl.binary, *args], env=kubectl.env, capture_output=True, text=True, timeout=30, check=False
    )


def _families(text: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def _stream_tasks(sim: SimCluster) -> list[str]:
    """Tasks still running code of the streaming modules in the simulator's loop."""

    def collect() -> list[str]:
        names = []
        for task in asyncio.all_tasks():
            code = getattr(task.get_coro(), "cr_code", None)
            if code is not None and code.co_filename.endswith(STREAM_MODULES):
                names.append(code.co_name)
        return names

    return sim.call(collect)


# ---- port-forward ------------------------------------------------------------------------
def test_runbook_step_11_reads_metrics_through_port_forwards(kubectl: Kubectl, decode_pod: str) -> None:
    curl = require_tool("curl")
    epp, epp_port = _port_forward(kubectl, f"svc/{EPP_SERVICE}", 9090)
    vllm, vllm_port = _port_forward(kubectl, decode_pod, 8000)
    try:
        scheduler = subprocess.run(
            [curl, "-s", f"http://localhost:{epp_port}/metrics"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        assert {"controller_runtime_active_workers", "controller_runtime_reconcile_errors_total"} <= _families(
            scheduler
        )
        assert 'controller_runtime_active_workers{controller="inferencepool"}' in scheduler
        engine = subprocess.run(
            [curl, "-s", f"http://localhost:{vllm_port}/metrics"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert {
            "vllm:num_requests_running",
            "vllm:kv_cache_usage_perc",
            "vllm:e2e_request_latency_seconds_bucket",
        } <= _families(engine)
        # Several requests on one kept-alive connection, then several connections at once.
        with httpx.Client(base_url=f"http://localhost:{vllm_port}", timeout=30) as http:
            assert [http.get("/health").status_code for _ in range(3)] == [200, 200, 200]
            assert http.get("/v1/models").json()["data"][0]["id"]
        for _ in range(3):
            assert httpx.get(f"http://localhost:{epp_port}/metrics", timeout=30).status_code == 200
    finally:
        epp_err, vllm_err = _stop(epp), _stop(vllm)
    assert "error" not in epp_err.lower() and "error" not in vllm_err.lower()


def test_port_forward_over_an_upgraded_spdy_connection(kubectl: Kubectl, decode_pod: str) -> None:
    spdy_only = Kubectl(kubectl.binary, Path(kubectl.env["KUBECONFIG"]))
    spdy_only.env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false"  # as kubectl before 1.31 and client-go tools
    proc, local = _port_forward(spdy_only, decode_pod, 8000)
    try:
        for _ in range(3):
            assert "vllm:num_requests_running" in _families(httpx.get(f"http://localhost:{local}/metrics").text)
    finally:
        assert "error" not in _stop(proc).lower()


def test_port_forward_to_a_closed_port_reports_the_refusal(kubectl: Kubectl, decode_pod: str) -> None:
    proc, local = _port_forward(kubectl, decode_pod, 9999)
    try:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://localhost:{local}/", timeout=30)
        # kubectl 1.32 gives up on the forward when the pod refuses a connection.
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            _stop(proc)
    assert "localhost:9999" in err and "connection refused" in err


def test_port_forward_refuses_a_pod_that_is_not_there(kubectl: Kubectl) -> None:
    out = kubectl.run("port-forward", *N, "no-such-pod", "8000:8000", check=False)
    assert 'pods "no-such-pod" not found' in out


# ---- exec ----------------------------------------------------------------------------------
def test_exec_env_is_the_pods_own_environment(kubectl: Kubectl, decode_pod: str) -> None:
    env = dict(line.split("=", 1) for line in kubectl.run("exec", *N, decode_pod, "--", "env").splitlines())
    assert env["HOSTNAME"] == decode_pod
    assert env["HF_TOKEN"] == SIM_HF_TOKEN  # resolved from the Secret, as the process sees it
    cluster_ip = kubectl.run("get", "svc", *N, EPP_SERVICE, "-o", "jsonpath={.spec.clusterIP}")
    assert env["GAIE_PATTERN1_EPP_SERVICE_HOST"] == cluster_ip
    assert env["GAIE_PATTERN1_EPP_PORT_9090_TCP"] == f"tcp://{cluster_ip}:9090"
    assert kubectl.run("exec", *N, decode_pod, "--", "printenv", "HOSTNAME") == decode_pod + "\n"


def test_exec_cat_and_ls_of_files_the_simulator_knows(kubectl: Kubectl, decode_pod: str) -> None:
    assert kubectl.run("exec", *N, decode_pod, "--", "cat", "/etc/hostname") == decode_pod + "\n"
    pod_ip = kubectl.run("get", "pod", *N, decode_pod, "-o", "jsonpath={.status.podIP}")
    assert f"{pod_ip}\t{decode_pod}" in kubectl.run("exec", *N, decode_pod, "--", "cat", "/etc/hosts")
    sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert kubectl.run("exec", *N, decode_pod, "--", "cat", f"{sa_dir}/namespace") == NAMESPACE
    unknown = _kubectl(kubectl, "exec", *N, decode_pod, "--", "cat", "/etc/os-release")
    assert unknown.returncode == 1
    assert "/etc/os-release: not simulated" in unknown.stderr
    assert "command terminated with exit code 1" in unknown.stderr
    listing = _kubectl(kubectl, "exec", *N, decode_pod, "--", "ls", "/")
    assert listing.returncode == 2 and "listing not simulated" in listing.stderr


def test_exec_reports_unsimulated_commands_with_an_exit_code(kubectl: Kubectl, decode_pod: str) -> None:
    for argv, words in (
        (["nvidia-smi"], "nvidia-smi: command not simulated"),
        (["python3", "-c", "print(1)"], "running Python is not simulated"),
        (["sh"], "interactive shells are not simulated"),
        (["sh", "-c", "env | grep HF"], "shell syntax (pipes, redirections, variables, globs) is not simulated"),
    ):
        proc = _kubectl(kubectl, "exec", *N, decode_pod, "--", *argv)
        assert proc.returncode == 127, (argv, proc.stderr)
        assert words in proc.stderr
        assert "command terminated with exit code 127" in proc.stderr
    assert kubectl.run("exec", *N, decode_pod, "--", "sh", "-c", "echo simulated shell") == "simulated shell\n"


def test_exec_curl_reaches_the_containers_own_ports(kubectl: Kubectl, decode_pod: str) -> None:
    metrics = kubectl.run("exec", *N, decode_pod, "--", "curl", "-s", "http://localhost:8000/metrics")
    assert "vllm:num_requests_running" in _families(metrics)
    refused = kubectl.run("exec", *N, decode_pod, "--", "curl", "-s", "localhost:9999/", check=False)
    assert "Failed to connect to localhost port 9999" in refused and "exit code 7" in refused
    elsewhere = kubectl.run("exec", *N, decode_pod, "--", "curl", "https://example.com/", check=False)
    assert "only the container's own ports are simulated" in elsewhere


def test_exec_reads_standard_input_until_it_is_closed(kubectl: Kubectl, decode_pod: str) -> None:
    assert kubectl.run("exec", "-i", *N, decode_pod, "--", "cat", stdin="hello\nworld\n") == "hello\nworld\n"


def test_exec_over_spdy_without_websocket(kubectl: Kubectl, decode_pod: str) -> None:
    spdy_only = Kubectl(kubectl.binary, Path(kubectl.env["KUBECONFIG"]))
    spdy_only.env["KUBECTL_REMOTE_COMMAND_WEBSOCKETS"] = "false"  # as kubectl before 1.30 and client-go tools
    assert spdy_only.run("exec", *N, decode_pod, "--", "hostname") == decode_pod + "\n"
    assert spdy_only.run("exec", "-i", *N, decode_pod, "--", "cat", stdin="over spdy\n") == "over spdy\n"
    failed = _kubectl(spdy_only, "exec", *N, decode_pod, "--", "false")
    assert failed.returncode == 1 and "command terminated with exit code 1" in failed.stderr


def test_exec_errors_are_the_api_servers(kubectl: Kubectl, decode_pod: str) -> None:
    missing = kubectl.run("exec", *N, "no-such-pod", "--", "env", check=False)
    assert 'pods "no-such-pod" not found' in missing
    wrong = kubectl.run("exec", *N, decode_pod, "-c", "nope", "--", "env", check=False)
    assert f"container nope is not valid for pod {decode_pod}" in wrong


# ---- cp, attach, debug -----------------------------------------------------------------------
def test_cp_copies_a_file_out_and_refuses_to_write_in(kubectl: Kubectl, decode_pod: str, tmp_path: Path) -> None:
    target = tmp_path / "hostname"
    kubectl.run("cp", f"{NAMESPACE}/{decode_pod}:/etc/hostname", str(target))
    assert target.read_text() == decode_pod + "\n"
    into = kubectl.run("cp", str(target), f"{NAMESPACE}/{decode_pod}:/tmp/hostname", check=False)
    assert "writing files into the container is not simulated" in into


def test_exec_tar_is_a_real_archive(kubectl: Kubectl, decode_pod: str, tmp_path: Path) -> None:
    archive = tmp_path / "out.tar"
    with archive.open("wb") as out:
        subprocess.run(
            [kubectl.binary, "exec", *N, decode_pod, "--", "tar", "cf", "-", "/etc/hostname", "/etc/hosts"],
            env=kubectl.env,
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=30,
            check=True,
        )
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["etc/hostname", "etc/hosts"]
        member = tar.extractfile("etc/hostname")
        assert member is not None and member.read() == (decode_pod + "\n").encode()


def test_attach_follows_the_containers_output(sim: SimCluster, kubectl: Kubectl, decode_pod: str) -> None:
    proc = kubectl.popen("attach", *N, decode_pod)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        url = f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{decode_pod}:8000/proxy/v1/completions"
        body = {"model": "Qwen/Qwen2.5-3B-Instruct", "prompt": "attach", "max_tokens": 2}

        def access_line() -> str | None:
            # Requests keep coming until kubectl has attached and one of them is logged.
            httpx.post(url, json=body, timeout=30)
            return next((line for line in list(lines) if "POST /v1/completions" in line), None)

        assert "200 OK" in wait_for(access_line, timeout=60, interval=0.2, message="a request logged on the stream")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=10)


def test_debug_is_refused_cleanly(kubectl: Kubectl, decode_pod: str) -> None:
    proc = _kubectl(kubectl, "debug", *N, decode_pod, "--image=busybox", "--profile=general")
    assert proc.returncode == 1
    assert "ephemeral containers are disabled for this cluster" in proc.stderr
    assert "panic" not in proc.stderr


# ---- the Python client -------------------------------------------------------------------------
def _exec(core: client.CoreV1Api, pod: str, command: list[str], *, stdin: bool = False, preload: bool = True) -> Any:
    """``kubernetes.stream.stream`` of an exec, as its documentation shows it."""
    return stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        NAMESPACE,
        command=command,
        stderr=True,
        stdin=stdin,
        stdout=True,
        tty=False,
        _preload_content=preload,
    )


def test_python_client_exec_stream(core: client.CoreV1Api, decode_pod: str) -> None:
    assert _exec(core, decode_pod, ["cat", "/etc/hostname"]) == decode_pod + "\n"
    failing = _exec(core, decode_pod, ["false"], preload=False)
    failing.run_forever(timeout=30)
    assert failing.returncode == 1
    echo = _exec(core, decode_pod, ["cat"], stdin=True, preload=False)
    echo.write_stdin("from python\n")
    echo.close_channel(0)
    echo.run_forever(timeout=30)
    assert echo.read_stdout() == "from python\n" and echo.returncode == 0


def _http_over(sock: Any, path: str) -> bytes:
    sock.setblocking(True)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_python_client_portforward(core: client.CoreV1Api, decode_pod: str) -> None:
    forward = portforward(core.connect_get_namespaced_pod_portforward, decode_pod, NAMESPACE, ports="8000,9999")
    response = _http_over(forward.socket(8000), "/metrics")
    assert response.startswith(b"HTTP/1.1 200 OK")
    assert "vllm:kv_cache_usage_perc" in _families(response.partition(b"\r\n\r\n")[2].decode())
    assert forward.error(8000) is None
    assert "connection refused" in (forward.error(9999) or "")


# ---- the wire, and bounds ------------------------------------------------------------------------
def _ws(sim: SimCluster, pod: str, protocol: str, query: str = "") -> websocket.WebSocket:
    url = sim.url.replace("http://", "ws://") + f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/portforward{query}"
    return websocket.create_connection(url, subprotocols=[protocol], timeout=30)


def _binary(ws: websocket.WebSocket) -> bytes:
    message = ws.recv()
    assert isinstance(message, bytes)
    return message


def test_spdy_tunnel_answers_pings_and_rejects_an_oversized_frame(sim: SimCluster, decode_pod: str) -> None:
    ws = _ws(sim, decode_pod, "SPDY/3.1+portforward.k8s.io")
    try:
        reader = spdy.FrameReader(spdy.HeaderCodec())
        ws.send_binary(spdy.ping(7))
        (pong,) = reader.feed(_binary(ws))
        assert (pong.kind, pong.stream_id) == (spdy.PING, 7)
        # A data frame header announcing 8 MiB: the session ends with GOAWAY(PROTOCOL_ERROR).
        ws.send_binary(spdy.data(1, b"")[:5] + (8 << 20).to_bytes(3, "big"))
        (away,) = reader.feed(_binary(ws))
        assert away.kind == spdy.GOAWAY and int.from_bytes(away.payload[4:8], "big") == spdy.PROTOCOL_ERROR
    finally:
        ws.close()


def _open_fds() -> int:
    """Open file descriptors of this process (0 where /proc is not there to count them)."""
    fd_dir = Path("/proc/self/fd")
    return sum(1 for _ in fd_dir.iterdir()) if fd_dir.is_dir() else 0


def test_sessions_per_pod_are_bounded_and_end_with_their_clients(sim: SimCluster, decode_pod: str) -> None:
    _ws(sim, decode_pod, "v4.channel.k8s.io", "?ports=8000").close()
    wait_for(lambda: not _stream_tasks(sim), message="the first session to end")
    fds = _open_fds()  # the simulator runs in this process: its sockets and socket pairs count here
    sockets = [_ws(sim, decode_pod, "v4.channel.k8s.io", "?ports=8000") for _ in range(MAX_SESSIONS_PER_POD)]
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            _ws(sim, decode_pod, "v4.channel.k8s.io", "?ports=8000")
        assert refused.value.status_code == 429
        status = json.loads(refused.value.resp_body or b"{}")
        assert status["reason"] == "TooManyRequests" and "too many streaming sessions" in status["message"]
    finally:
        for ws in sockets:
            ws.close()
    wait_for(lambda: not _stream_tasks(sim), message="every streaming task to end")
    wait_for(lambda: _open_fds() <= fds, message=f"sockets to close (from {_open_fds()} back to {fds})")
    after = _ws(sim, decode_pod, "v4.channel.k8s.io", "?ports=8000")
    after.close()


def test_bad_ports_are_named(sim: SimCluster, decode_pod: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as bad:
        _ws(sim, decode_pod, "v4.channel.k8s.io", "?ports=80000")
    assert bad.value.status_code == 400
    assert '"80000"' in json.loads(bad.value.resp_body or b"{}")["message"]


def test_status_on_the_error_channel_carries_the_exit_code(sim: SimCluster, decode_pod: str) -> None:
    url = sim.url.replace("http://", "ws://") + (
        f"/api/v1/namespaces/{NAMESPACE}/pods/{decode_pod}/exec?command=ls&command=/nope&stdout=true&stderr=true"
    )
    ws = websocket.create_connection(url, subprotocols=["v4.channel.k8s.io"], timeout=30)
    messages: dict[int, bytes] = {}
    try:
        while True:
            opcode, data = ws.recv_data()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            messages[data[0]] = messages.get(data[0], b"") + data[1:]
    finally:
        ws.close()
    status = json.loads(messages[3])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "2"}]
    assert b"listing not simulated" in messages[2]


SCRATCH_POD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: scratch-config}
data: {plugins.yaml: "plugins: []\\n", mode: fast}
---
apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  containers:
  - name: web
    image: nginx:1.27
    ports: [{containerPort: 8080}]
    volumeMounts: [{name: config, mountPath: /etc/scratch}]
  volumes: [{name: config, configMap: {name: scratch-config}}]
"""


def test_mounted_config_is_readable_and_deleting_the_pod_ends_its_sessions(sim: SimCluster, kubectl: Kubectl) -> None:
    kubectl.run("apply", *N, "-f", "-", stdin=SCRATCH_POD)
    kubectl.run("wait", "--for=condition=Ready", "pod/scratch", *N, "--timeout=60s", timeout=90)
    assert kubectl.run("exec", *N, "scratch", "--", "ls", "/etc/scratch") == "mode\nplugins.yaml\n"
    assert kubectl.run("exec", *N, "scratch", "--", "cat", "/etc/scratch/mode") == "fast"
    ws = _ws(sim, "scratch", "v4.channel.k8s.io", "?ports=8080")
    try:
        assert _binary(ws) == b"\x00\x90\x1f" and _binary(ws) == b"\x01\x90\x1f"  # port 8080, little-endian
        ws.send_binary(b"\x00GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _binary(ws).startswith(b"\x00HTTP/1.1 200 OK")
        kubectl.run("delete", "pod", "scratch", *N, "--grace-period=0", "--force")

        def closed() -> bool:
            try:
                return bool(ws.recv_data()[0] == websocket.ABNF.OPCODE_CLOSE)
            except websocket.WebSocketConnectionClosedException:
                return True

        wait_for(closed, timeout=30, message="the session to end with its pod")
    finally:
        ws.close()
        kubectl.run("delete", "configmap", "scratch-config", *N, "--ignore-not-found")


def test_an_idle_session_is_closed(sim: SimCluster, decode_pod: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels, "IDLE_TIMEOUT", 0.5)
    ws = _ws(sim, decode_pod, "SPDY/3.1+portforward.k8s.io")
    try:
        (away,) = spdy.FrameReader(spdy.HeaderCodec()).feed(_binary(ws))
        assert away.kind == spdy.GOAWAY
    finally:
        ws.close()


def test_exec_into_a_container_that_is_not_running(kubectl: Kubectl) -> None:
    pending = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "unschedulable"},
        "spec": {"nodeSelector": {"no-such": "node"}, "containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    kubectl.run("apply", *N, "-f", "-", stdin=json.dumps(pending))
    try:
        out = kubectl.run("exec", *N, "unschedulable", "--", "env", check=False)
        assert 'unable to upgrade connection: container not found ("web")' in out
    finally:
        kubectl.run("delete", "pod", "unschedulable", *N, "--grace-period=0", "--force")
