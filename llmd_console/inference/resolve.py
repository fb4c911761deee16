"""Where requests go: a URL from the config, the Gateway's address from its status, or the
Kubernetes API server's proxy when the gateway cannot be reached from this machine (a private
address, a firewall): to the Service of a Gateway that has one, else to a ready model server pod.
``Endpoint.how`` says which, in words.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from llmd_console.cluster.kube import KubeClient, KubeError
from llmd_console.config import Config, PromptConfig
from llmd_console.inference.endpoint import Endpoint

GATEWAYS = "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/gateways/{name}"
POOLS = "/apis/inference.networking.k8s.io/v1/namespaces/{ns}/inferencepools/{name}"
# Gateway API implementations that deploy a proxy (Istio, kgateway, agentgateway) label its
# Service with the Gateway's name.
GATEWAY_LABEL = "gateway.networking.k8s.io/gateway-name"


class EndpointError(Exception):
    """No path to the OpenAI API was found; the message says why and what to do."""


async def reachable(base_url: str, seconds: float) -> bool:
    """Whether anything answers HTTP at ``base_url`` within ``seconds`` (an error status counts:
    the gateway answered, and the request's own failure will say why)."""
    try:
        async with httpx.AsyncClient(timeout=seconds, trust_env=False, verify=False) as client:  # noqa: S501
            # Only whether it answers is asked; nothing is sent or trusted on this connection.
            await client.get(base_url.rstrip("/") + "/v1/models")
    except httpx.HTTPError:
        return False
    return True


def config_endpoint(prompt: PromptConfig) -> Endpoint:
    """The endpoint of ``prompt.url``."""
    verify: bool | str = False if prompt.insecure else (prompt.ca_file or True)
    return Endpoint(prompt.url.rstrip("/"), f"config url {prompt.url} (prompt.url)", verify=verify)


def gateway_url(gateway: dict[str, Any]) -> str | None:
    """``http(s)://ADDRESS[:PORT]`` from a Gateway's status address and its listener (None: no address yet)."""
    addresses = (gateway.get("status") or {}).get("addresses") or []
    value = str((addresses[0] or {}).get("value") or "") if addresses else ""
    if not value:
        return None
    listeners = (gateway.get("spec") or {}).get("listeners") or [{}]
    listener = next((item for item in listeners if item.get("protocol") in ("HTTP", "HTTPS")), listeners[0])
    scheme = "https" if listener.get("protocol") == "HTTPS" else "http"
    port = int(listener.get("port") or (443 if scheme == "https" else 80))
    if value.count(":") == 1:
        return f"{scheme}://{value}"  # the address carries its port already
    host = f"[{value}]" if ":" in value else value  # an IPv6 address
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


async def resolve(kube: KubeClient | None, config: Config, namespace: str | None = None) -> Endpoint:
    """The endpoint to send to, following ``config.prompt.via``; raises :class:`EndpointError`."""
    prompt, ns = config.prompt, namespace or config.cluster.namespace
    if prompt.url and prompt.via in ("auto", "url"):
        return config_endpoint(prompt)
    if kube is None:
        raise EndpointError("no cluster connection and no prompt.url in the config: nowhere to send to")
    gw_name = config.resources.gateway
    direct: Endpoint | None = None
    why = ""
    if prompt.via in ("auto", "gateway"):
        try:
            gateway = await kube.get(GATEWAYS.format(ns=ns, name=gw_name))
        except KubeError as exc:
            gateway, why = {}, f"Gateway {gw_name} cannot be read ({exc})"
        url = gateway_url(gateway) if gateway else None
        if url is not None:
            direct = Endpoint(
                url, f"gateway {url.partition('://')[2]} (Gateway {gw_name}'s status address)", gateway_seen=url
            )
        elif gateway:
            why = f"Gateway {gw_name} has no address yet (kubectl describe gateway {gw_name} -n {ns})"
    if direct is not None and (prompt.via == "gateway" or await reachable(direct.base_url, prompt.probe_seconds)):
        return direct
    if prompt.via == "gateway":
        raise EndpointError(why)
    if direct is not None:
        why = f"the gateway {direct.base_url} does not answer from here within {prompt.probe_seconds:g} s"
    proxied = await proxy_endpoint(kube, config, ns, why)
    return replace(proxied, gateway_seen=direct.base_url if direct else "") if prompt.via == "auto" else proxied


async def proxy_endpoint(kube: KubeClient, config: Config, namespace: str, why: str = "") -> Endpoint:
    """Through the API server's proxy: to the Gateway's own Service when its implementation deploys
    one, else to a ready pod of the InferencePool (one model server: no gateway, no EPP)."""
    access = await kube.http_access()
    base = f"{access.server.rstrip('/')}/api/v1/namespaces/{namespace}"
    because = f" ({why})" if why else ""
    gw_name, pool_name = config.resources.gateway, config.resources.inference_pool
    services = await _items(kube, f"/api/v1/namespaces/{namespace}/services", f"{GATEWAY_LABEL}={gw_name}")
    for svc in services:
        ports = (svc.get("spec") or {}).get("ports") or []
        port = next((p.get("port") for p in ports if p.get("port") in (80, 8080)), None)
        if port is not None:
            name = svc["metadata"]["name"]
            return Endpoint(
                f"{base}/services/{name}:{port}/proxy",
                f"API server proxy to Service {name}:{port} (Gateway {gw_name}'s proxy){because}",
                access.headers,
                access.verify,
                access.cert,
            )
    try:
        pool = await kube.get(POOLS.format(ns=namespace, name=pool_name))
    except KubeError as exc:
        raise EndpointError(f"no path to the model servers{because}: InferencePool {pool_name}: {exc}") from None
    spec = pool.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    port = int(((spec.get("targetPorts") or [{}])[0]).get("number") or 8000)
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = await _items(kube, f"/api/v1/namespaces/{namespace}/pods", selector) if selector else []
    ready = sorted(p["metadata"]["name"] for p in pods if _ready(p))
    if not ready:
        raise EndpointError(
            f"no path to the model servers{because}: InferencePool {pool_name} has no ready pod "
            f"(kubectl get pods -n {namespace} -l {selector or '<the pool selector>'})"
        )
    pod = ready[0]
    return Endpoint(
        f"{base}/pods/{pod}:{port}/proxy",
        f"API server proxy to pod {pod}:{port} (one model server: no gateway, no EPP){because}",
        access.headers,
        access.verify,
        access.cert,
        served_by=pod,
    )


async def _items(kube: KubeClient, path: str, selector: str) -> list[dict[str, Any]]:
    try:
        data = await kube.get(path, labelSelector=selector)
    except KubeError:
        return []
    return [item for item in data.get("items") or [] if isinstance(item, dict)]


def _ready(pod: dict[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
