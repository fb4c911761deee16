"""Why a request failed, in words: the title, the likely cause (quoting what the server said)
and the fix, with the deployment's own names in the commands.

The texts matched are the ones the data path really answers with: GKE's load balancer
(Envoy) says ``fault filter abort`` when no route matches and ``no healthy upstream`` when no
backend is ready, the ext-proc filter of a pool that fails closed answers 500
``ext_proc_error_gRPC_error_14`` when the endpoint picker is unreachable, and vLLM answers
OpenAI-shaped JSON errors.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from llmd_console.config import ClusterConfig, Config, ResourcesConfig
from llmd_console.inference.request import Failure
from llmd_console.sanitize import one_line

QUOTE_CHARS = 300  # what a cause quotes of a server's answer


@dataclass(frozen=True)
class FixHints:
    """The deployment's names, so that a fix is a command that can be pasted."""

    # The defaults are the configuration's (the runbook's Pattern 1).
    namespace: str = ClusterConfig.namespace
    gateway: str = ResourcesConfig.gateway
    http_route: str = ResourcesConfig.http_route
    inference_pool: str = ResourcesConfig.inference_pool
    epp: str = ResourcesConfig.epp
    decode_deployment: str = ResourcesConfig.decode_deployment

    @classmethod
    def from_config(cls, config: Config, namespace: str | None = None) -> FixHints:
        """The names from the console's configuration (``namespace`` overrides the config's)."""
        r = config.resources
        return cls(
            namespace or config.cluster.namespace, r.gateway, r.http_route, r.inference_pool, r.epp, r.decode_deployment
        )


def quoted(text: str) -> str:
    """A server's words, on one line, bounded and inert."""
    return one_line(text.strip(), QUOTE_CHARS) or "(an empty body)"


def error_message(body: str) -> str | None:
    """The ``message`` of an OpenAI-shaped error body, or of a Kubernetes Status."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return None
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):
        return str(inner["message"])
    if isinstance(data.get("message"), str):  # a Kubernetes Status, or {"message": ...}
        return str(data["message"])
    if isinstance(data.get("detail"), str):  # FastAPI's default errors
        return str(data["detail"])
    return None


def for_status(status: int, body: str, hints: FixHints, models: Sequence[str] = ()) -> Failure:
    """An HTTP answer other than 200: what it means on llm-d's data path."""
    ns, said = hints.namespace, quoted(body)
    lowered = body.lower()
    if "fault filter abort" in lowered:
        return Failure(
            "no_route",
            "No HTTPRoute sends this Gateway's traffic anywhere",
            f"The gateway answered {status} {said!r}: the load balancer has no routing rule, because no HTTPRoute "
            f"is attached to Gateway {hints.gateway} (deleted, never created, or not accepted).",
            f"kubectl get httproute -n {ns}; kubectl describe gateway {hints.gateway} -n {ns}  "
            f"(attached routes must be 1). Re-create the HTTPRoute {hints.http_route} that sends / to InferencePool "
            f"{hints.inference_pool} (no port on the backendRef), then wait a minute for the load balancer.",
        )
    if "ext_proc" in lowered or "ext-proc" in lowered:
        return Failure(
            "epp_down",
            "The endpoint picker (EPP) does not answer, and the pool fails closed",
            f"The gateway answered {status} {said!r}: its call to the EPP failed, and InferencePool "
            f"{hints.inference_pool} has failureMode FailClose, so the request is refused instead of routed.",
            f"kubectl get deploy {hints.epp} -n {ns}; kubectl logs deploy/{hints.epp} -n {ns} --tail=50  "
            f"(scaled to 0? kubectl scale deploy {hints.epp} -n {ns} --replicas=1; not Ready? check --pool-name "
            f"matches {hints.inference_pool}).",
        )
    # Envoy's words, and the EPP's own when it finds no candidate pod and answers itself.
    if any(words in lowered for words in ("no healthy upstream", "upstream connect error", "failed to find candidate")):
        return Failure(
            "no_upstream",
            "No ready model server behind the gateway",
            f"The gateway answered {status} {said!r}: no pod of InferencePool {hints.inference_pool} is Ready "
            "(scaled to 0, still starting, crashing), or the Gateway itself is not programmed yet.",
            f"kubectl get pods -n {ns} -l llm-d.ai/inferenceServing=true; kubectl get deploy "
            f"{hints.decode_deployment} -n {ns}  (scaled to 0? kubectl scale deploy {hints.decode_deployment} -n {ns} "
            f"--replicas=1; starting? TPU pods take minutes: kubectl logs deploy/{hints.decode_deployment} -n {ns}).",
        )
    message = error_message(body)
    if status == 404 and message and "model" in message.lower():
        served = ", ".join(models) if models else "(none listed: GET /v1/models gave nothing)"
        return Failure(
            "model_not_found",
            "The model servers do not serve this model name",
            f"vLLM answered 404: {quoted(message)!r}. Served: {served}.",
            "Choose a served model name exactly as /v1/models lists it (the --served-model-name of "
            f"{hints.decode_deployment}), e.g. {models[0]!r}."
            if models
            else f"Check --served-model-name in deploy/{hints.decode_deployment} -n {ns}.",
        )
    if status == 400:
        return _bad_request(message or body, hints)
    if status in (401, 403):
        return Failure(
            "http",
            f"Refused with {status}",
            f"The server answered {status} {said!r}: credentials are missing or not allowed "
            "(through the API server proxy: RBAC must allow services/proxy or pods/proxy).",
            f"kubectl auth can-i get services/proxy -n {ns}; kubectl auth can-i get pods/proxy -n {ns}",
        )
    if status == 503 and message and "no endpoints available" in message:
        return Failure(
            "no_upstream",
            "The API server proxy finds no ready endpoint",
            f"The API server answered 503 {quoted(message)!r}.",
            f"kubectl get pods -n {ns} -l llm-d.ai/inferenceServing=true",
        )
    return Failure(
        "http",
        f"The server answered {status}",
        f"HTTP {status}: {quoted(message or body)!r}",
        "Check the model server's log for this request: "
        f"kubectl logs deploy/{hints.decode_deployment} -n {ns} --tail=50",
    )


def _bad_request(message: str, hints: FixHints) -> Failure:
    lowered = message.lower()
    if "context length" in lowered:
        fix = "Shorten the prompt or lower max tokens: prompt tokens plus max tokens must fit the model's context."
        title = "The prompt and max tokens do not fit the model's context"
    elif "model not found in request body" in lowered or "unmarshaling request body" in lowered:
        fix = "The endpoint picker needs a JSON body with a model field; check the request."
        title = "The endpoint picker refused the request body"
    else:
        fix = "Change the parameter the message names and send again."
        title = "The model server refused a parameter"
    return Failure("bad_request", title, f"The server answered 400: {quoted(message)!r}", fix)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 16:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def for_exception(exc: BaseException, url: str, *, responded: bool) -> Failure:
    """A transport error: refused, DNS, TLS, timeouts, a broken stream (``responded``: after the
    response headers came)."""
    host = httpx.URL(url).host or url
    chain = _chain(exc)
    words = quoted(str(exc) or type(exc).__name__)
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        text in str(e).lower() for e in chain for text in ("name or service not known", "name resolution")
    ):
        return Failure(
            "dns",
            f"The host name {host} does not resolve",
            f"DNS has no address for {host} ({words}).",
            "Check the URL (prompt.url in the config) or the Gateway's address: kubectl get gateway -A -o wide",
        )
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return Failure(
            "tls",
            f"TLS with {host} failed",
            f"The TLS handshake failed ({words}): the server may speak plain HTTP on this port, or its certificate "
            "is not trusted.",
            "Use http:// if the listener is plain HTTP (GKE's gateway listens on port 80 without TLS); "
            "for a certificate this machine does not trust, set prompt.ca_file to its CA bundle "
            "(or prompt.insecure: true to skip the check).",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in str(exc).lower():
        return Failure(
            "refused",
            f"Connection to {host} refused",
            f"Nothing listens at {url} ({words}).",
            "Check the address and port: kubectl get gateway -A -o wide (ADDRESS, PROGRAMMED); a port-forward "
            "or proxy that ended must be restarted.",
        )
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        if responded:
            return stalled_failure(None)
        return Failure(
            "timeout",
            f"No answer from {host} in time",
            f"The request timed out ({words}): the address may be filtered (firewall) or the server overloaded.",
            "Check the gateway is reachable from this machine (curl -m 5 -v its address); "
            "if not, use the API server proxy or a port-forward.",
        )
    return Failure(
        "protocol",
        "The connection broke" if responded else f"{host} did not speak HTTP",
        f"{type(exc).__name__}: {words}",
        "Check the server's logs; retry once (a pod that restarted drops its connections).",
    )


def timeout_failure(seconds: float) -> Failure:
    """The overall deadline passed."""
    return Failure(
        "timeout",
        f"No complete answer within {seconds:g} s",
        f"The request's deadline of {seconds:g} s passed before the answer ended.",
        "Raise the deadline, lower max tokens, or check the model servers' queue (vllm:num_requests_waiting).",
    )


def stalled_failure(seconds: float | None) -> Failure:
    """The stream stopped sending."""
    after = f" for {seconds:g} s" if seconds is not None else ""
    return Failure(
        "stalled",
        "The stream stalled",
        f"No byte arrived{after} in the middle of the answer: the model server or the path to it hangs.",
        "Check the model server (kubectl logs, vllm:num_requests_running) and the gateway; send again.",
    )


def protocol_failure(what: str) -> Failure:
    """The server's answer is not the OpenAI API's."""
    return Failure(
        "protocol",
        "The answer is not an OpenAI API response",
        what,
        "Check that the URL points at the gateway or a vLLM server (it should serve /v1/models).",
    )


def cancelled_failure() -> Failure:
    """The operator cancelled the request (what a pane or a load run records; ``send`` itself
    re-raises the cancellation)."""
    return Failure(
        "cancelled",
        "Cancelled",
        "The request was cancelled here; its connection was closed, so the model server aborts it.",
        "Nothing to fix: send it again when wanted.",
    )
