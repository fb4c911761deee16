"""Inference through the gateway with the openai SDK and the runbook's curl
commands; vLLM's errors; the EPP's decisions and metrics."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from prometheus_client.parser import text_string_to_metric_families

from llmd_console.sim import SimCluster
from llmd_console.sim.worlds.world import EPP_NAME, MODEL, NAMESPACE
from tests.conftest import Kubectl, require_tool

DECODE_SELECTOR = "llm-d.ai/inferenceServing=true"


def gateway_url(sim: SimCluster) -> str:
    return f"http://{sim.ctx.gateway_address}"


def decode_pod(kubectl: Kubectl) -> str:
    return kubectl.run("get", "pods", "-l", DECODE_SELECTOR, "-o", "jsonpath={.items[0].metadata.name}")


def vllm_metrics(sim: SimCluster, pod: str) -> dict[str, float]:
    """Scrape the pod's /metrics through the API server's pod proxy."""
    text = httpx.get(f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{pod}:8000/proxy/metrics").text
    return {
        s.name + json.dumps({k: v for k, v in s.labels.items() if k not in ("model_name", "engine")}): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture(scope="module")
def client(sim: SimCluster, kubectl: Kubectl) -> openai.OpenAI:
    kubectl.run("wait", "--for=condition=Ready", "pod", "-l", DECODE_SELECTOR, "--timeout=60s", timeout=70)
    kubectl.run(
        "wait", "--for=condition=Programmed", "gateway/infra-pattern1-inference-gateway", "--timeout=60s", timeout=70
    )
    return openai.OpenAI(base_url=gateway_url(sim) + "/v1", api_key="unused", max_retries=0)


def test_sdk_completion_and_chat_match_the_servers_counts(
    sim: SimCluster, kubectl: Kubectl, client: openai.OpenAI
) -> None:
    pod = decode_pod(kubectl)
    before = vllm_metrics(sim, pod)
    done = client.completions.create(model=MODEL, prompt="What is Kubernetes?", max_tokens=50)
    assert done.object == "text_completion" and done.id.startswith("cmpl-")
    assert done.choices[0].finish_reason == "length"
    assert done.choices[0].text.startswith(" (Part 1)")
    assert done.usage is not None
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.total_tokens) == (4, 50, 54)
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is a container?"}], max_tokens=500
    )
    assert chat.object == "chat.completion" and chat.id.startswith("chatcmpl-")
    assert chat.choices[0].message.role == "assistant"
    assert chat.choices[0].finish_reason == "stop"  # the answer ended before max_tokens
    assert chat.usage is not None and 0 < chat.usage.completion_tokens < 500
    after = vllm_metrics(sim, pod)
    served = done.usage.completion_tokens + chat.usage.completion_tokens
    assert after["vllm:generation_tokens_total{}"] - before["vllm:generation_tokens_total{}"] == served
    prompts = done.usage.prompt_tokens + chat.usage.prompt_tokens
    assert after["vllm:prompt_tokens_total{}"] - before["vllm:prompt_tokens_total{}"] == prompts
    length = 'vllm:request_success_total{"finished_reason": "length"}'
    stop = 'vllm:request_success_total{"finished_reason": "stop"}'
    assert after[length] - before[length] == 1
    assert after[stop] - before[stop] == 1


PROMPT = "Explain Docker in one sentence."


def test_sdk_streamed_completion_matches_the_whole_one(client: openai.OpenAI) -> None:
    whole = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=12)
    stream = client.completions.create(
        model=MODEL, prompt=PROMPT, max_tokens=12, stream=True, stream_options={"include_usage": True}
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            pieces.append(choice.text)
            finish = choice.finish_reason or finish
    assert "".join(pieces) == whole.choices[0].text
    assert finish == "length"
    assert usage is not None and usage.completion_tokens == 12 == len(pieces)


def test_sdk_streamed_chat_matches_the_whole_one(client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": PROMPT}]
    whole = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=12)
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, max_tokens=12, stream=True, stream_options={"include_usage": True}
    )
    pieces: list[str] = []
    roles, finish, usage = [], None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            roles.append(choice.delta.role)
            if choice.delta.content:
                pieces.append(choice.delta.content)
            finish = choice.finish_reason or finish
    assert roles[0] == "assistant"  # the opening chunk carries the role
    assert "".join(pieces) == whole.choices[0].message.content
    assert finish == "length"
    assert usage is not None and usage.completion_tokens == 12 == len(pieces)


def test_runbook_curl_commands_work_unchanged(kubectl: Kubectl, client: openai.OpenAI) -> None:
    curl = require_tool("curl")
    env = {**kubectl.env, "CURL": curl}
    script = """
export GATEWAY_IP=$(kubectl get gateway infra-pattern1-inference-gateway -n llm-d-inference-scheduling \\
  -o jsonpath='{.status.addresses[0].value}')
$CURL -s -X POST http://${GATEWAY_IP}/v1/completions \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "Qwen/Qwen2.5-3B-Instruct",
    "prompt": "Explain Docker in one sentence.",
    "max_tokens": 30
  }'
echo
$CURL -X POST http://${GATEWAY_IP}/v1/chat/completions \\
  -H "Content-Type: application/json" \\
  -d '{
    "model": "Qwen/Qwen2.5-3B-Instruct",
    "messages": [
      {"role": "user", "content": "What is a container?"}
    ],
    "max_tokens": 50
  }' -s
echo
$CURL -s -o /dev/null -w '%{http_code}\\n' http://${GATEWAY_IP}/health
$CURL http://${GATEWAY_IP}/v1/models -s
"""
    env["PATH"] = str(Path(kubectl.binary).parent) + ":" + env.get("PATH", "")
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True)
    completion, chat, health, models = out.stdout.strip().split("\n", 3)
    text = json.loads(completion)["choices"][0]["text"]
    assert text.startswith(" Docker is an open-source platform")
    assert json.loads(chat)["choices"][0]["message"]["content"].startswith("A container is")
    assert health == "200"
    assert [m["id"] for m in json.loads(models)["data"]] == [MODEL]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "JSON decode error"),
        (b'{"model": "gpt-4", "prompt": "hi"}', 404, "The model `gpt-4` does not exist."),
        (b'{"model": "Qwen/Qwen2.5-3B-Instruct"}', 400, "Field required"),
        (
            b'{"model": "Qwen/Qwen2.5-3B-Instruct", "prompt": "hi", "max_tokens": 100000}',
            400,
            "maximum context length is 2048 tokens",
        ),
    ],
)
def test_vllm_errors_are_openai_shaped(
    sim: SimCluster, kubectl: Kubectl, body: bytes, status: int, fragment: str
) -> None:
    pod = decode_pod(kubectl)
    url = f"{sim.url}/api/v1/namespaces/{NAMESPACE}/pods/{pod}:8000/proxy/v1/completions"
    response = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert fragment in error["message"]
    assert error["code"] == status


def test_sdk_raises_on_bad_requests(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.completions.create(model="no-such-model", prompt="hi", max_tokens=3)
    with pytest.raises(openai.BadRequestError, match="too large"):
        client.completions.create(model=MODEL, prompt="hi", max_tokens=5000)


def test_epp_logs_each_decision_and_counts_requests(sim: SimCluster, kubectl: Kubectl, client: openai.OpenAI) -> None:
    for i in range(3):
        client.completions.create(model=MODEL, prompt=f"Routing check {i}", max_tokens=2)
    epp = kubectl.run("get", "pods", "-l", f"inferencepool={EPP_NAME}", "-o", "jsonpath={.items[0].metadata.name}")
    lines = [json.loads(line) for line in kubectl.run("logs", epp, "--tail=50").splitlines() if line.startswith("{")]
    decisions = [line for line in lines if line["msg"] == "Scheduling decision"]
    assert len(decisions) >= 3
    pod = decode_pod(kubectl)
    assert decisions[-1]["pickedPod"] == f"{NAMESPACE}/{pod}"
    assert set(decisions[-1]["scores"][f"{NAMESPACE}/{pod}"]) == {
        "queue-scorer",
        "kv-cache-utilization-scorer",
        "prefix-cache-scorer",
    }
    text = httpx.get(f"{sim.url}/api/v1/namespaces/{NAMESPACE}/services/{EPP_NAME}:9090/proxy/metrics").text
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels.get("model_name") or s.labels.get("model_name") == MODEL
    }
    assert values["inference_objective_request_total"] >= 3
    assert values["inference_pool_ready_pods"] == 1
    assert values["inference_extension_scheduler_e2e_duration_seconds_count"] >= 3
    assert "_created" not in text  # the EPP is a Go program
