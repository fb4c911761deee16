"""The vLLM decode Deployment: the model server pods, with the accelerator fields the runbook
makes mandatory (TPU: chips = the topology's chips, requests = limits, TPU_CHIPS_PER_HOST_BOUNDS,
both node selector labels, the google.com/tpu toleration)."""

from __future__ import annotations

from typing import Any

from llmd_console.config import Config, topology_chips

Obj = dict[str, Any]
TPU_RESOURCE = "google.com/tpu"
GPU_RESOURCE = "nvidia.com/gpu"
VLLM_PORT = 8000


def model_labels(config: Config) -> dict[str, str]:
    """The labels of the model pods: the InferencePool selects ``llm-d.ai/inferenceServing``."""
    return {
        "llm-d.ai/inferenceServing": "true",
        "llm-d.ai/role": "decode",
        "llm-d.ai/model": config.deploy.model.rsplit("/", 1)[-1][:63].strip("-_.") or "model",
        "app.kubernetes.io/name": "llm-d-modelservice",
        "app.kubernetes.io/instance": f"ms-{config.deploy.release}",
    }


def chips_per_host_bounds(topology: str) -> str:
    """``TPU_CHIPS_PER_HOST_BOUNDS`` for a single-host slice: ``2x2`` -> ``2,2,1``, ``2x4`` -> ``2,4,1``."""
    parts = topology.split("x")
    return ",".join([*parts, "1"][:3])


def accelerator_fields(config: Config) -> tuple[str, list[Obj], dict[str, str], list[Obj]]:
    """The extended resource, extra env, node selector and tolerations of the variant."""
    d = config.deploy
    if d.accelerator == "gpu":
        selector = {"cloud.google.com/gke-accelerator": d.gpu_accelerator}
        toleration = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
        return GPU_RESOURCE, [], selector, [toleration]
    env: list[Obj] = [
        {"name": "PJRT_DEVICE", "value": "TPU"},
        {"name": "TPU_CHIPS_PER_HOST_BOUNDS", "value": chips_per_host_bounds(d.topology)},
        {"name": "TPU_HOST_BOUNDS", "value": "1,1,1"},
        {"name": "TPU_NUM_DEVICES", "value": str(topology_chips(d.topology) or d.chips)},
    ]
    selector = {
        "cloud.google.com/gke-tpu-topology": d.topology,
        "cloud.google.com/gke-tpu-accelerator": d.tpu_accelerator,
    }
    toleration = {"key": TPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
    return TPU_RESOURCE, env, selector, [toleration]


def decode_deployment(config: Config, namespace: str) -> Obj:
    """The decode Deployment (``resources.decode_deployment``)."""
    d = config.deploy
    resource, acc_env, selector, tolerations = accelerator_fields(config)
    chips = str(topology_chips(d.topology) or d.chips) if d.accelerator == "tpu" else str(d.chips)
    labels = model_labels(config)
    env: list[Obj] = [
        {"name": "HF_HOME", "value": "/model-cache"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": d.hf_secret, "key": "HF_TOKEN"}}},
        {"name": "TP_SIZE", "value": str(d.tensor_parallel)},
        {"name": "DP_SIZE", "value": "1"},
        *acc_env,
    ]
    probe_get = {"httpGet": {"path": "/v1/models", "port": "vllm"}}
    container: Obj = {
        "name": "vllm",
        "image": d.image,
        "command": ["vllm", "serve"],
        "args": [
            d.model,
            "--port",
            str(VLLM_PORT),
            "--tensor-parallel-size",
            str(d.tensor_parallel),
            "--served-model-name",
            d.model,
            f"--max-model-len={d.max_model_len}",
        ],
        "env": env,
        "ports": [{"containerPort": VLLM_PORT, "name": "vllm", "protocol": "TCP"}],
        # Requests equal limits for the chips: GKE Warden refuses a TPU pod that differs.
        "resources": {
            "requests": {resource: chips, "cpu": "8", "memory": "64Gi"},
            "limits": {resource: chips, "memory": "64Gi"},
        },
        "volumeMounts": [{"name": "model-cache", "mountPath": "/model-cache"}],
        # TPU startup (download, XLA compilation) takes minutes: a long startup budget.
        "startupProbe": {**probe_get, "initialDelaySeconds": 15, "periodSeconds": 30, "failureThreshold": 60},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "vllm"}, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {**probe_get, "periodSeconds": 5, "failureThreshold": 3},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": config.resources.decode_deployment,
            "namespace": namespace,
            # The chart labels the Deployment itself only with its own (helm) labels; the role
            # says which of the release's Deployments this is.
            "labels": {"llm-d.ai/role": "decode"},
        },
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [container],
                    "nodeSelector": selector,
                    "tolerations": tolerations,
                    "volumes": [{"name": "model-cache", "emptyDir": {}}],
                },
            },
        },
    }
