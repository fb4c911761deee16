"""Metrics plumbing: EPP or vLLM metrics that cannot be read (unreachable, 401 from the
EPP's metrics authentication, 403), or pages whose names no known generation uses."""

from __future__ import annotations

from collections.abc import Mapping

from llmd_console.doctor.evidence import Evidence
from llmd_console.doctor.findings import Finding, Quote
from llmd_console.doctor.rules.common import Rule, split, text
from llmd_console.metrics.catalog import Source
from llmd_console.metrics.history import EndpointHistory
from llmd_console.metrics.scrape import WANTED
from llmd_console.models import Snapshot


def metrics_endpoints(snapshot: Snapshot, evidence: Evidence) -> list[Finding]:
    """Each endpoint that gave no metrics, or none the console knows."""
    feed = evidence.feed
    if feed is None:
        return []
    out = []
    sources: tuple[tuple[Source, Mapping[str, EndpointHistory]], ...] = (("vllm", feed.vllm), ("epp", feed.epp))
    for source, histories in sources:
        what = "the EPP" if source == "epp" else "the model server"
        for key, history in sorted(histories.items()):
            namespace, name = split(key)
            pod = snapshot.pods.get(key)
            if pod is not None and not pod.is_ready:
                continue  # a pod that is not Ready has its own finding; its metrics are a footnote
            if history.error:
                auth = "401" in history.error or "bearer token" in history.error
                out.append(
                    Finding(
                        "metrics-auth" if auth else "metrics-unreachable",
                        "warning",
                        f"{what}'s metrics on {name} cannot be read: {text(history.error, 200)}",
                        (Quote("Pod", namespace, name, text(history.error, 300)),),
                        (
                            ("# set metrics.kubeconfig_token: true (or metrics.token_file) in the console config",)
                            if auth
                            else (f"kubectl get --raw /api/v1/namespaces/{namespace}/pods/{name}:PORT/proxy/metrics",)
                        ),
                        area="metrics",
                    )
                )
                continue
            names: frozenset[str] = frozenset(getattr(history, "names", ()) or ())
            if len(history.times) and names and not (names & WANTED[source]):
                out.append(
                    Finding(
                        "metrics-unknown-names",
                        "warning",
                        f"{what}'s metrics on {name} use names no known release uses: the panes show no data",
                        (Quote("Pod", namespace, name, "names: " + ", ".join(sorted(names)[:5])),),
                        ("llmd-console --help  # the catalog covers vLLM 0.9-0.12 and GIE v1.0 to llm_d_epp_*",),
                        area="metrics",
                    )
                )
    return out


RULES: tuple[Rule, ...] = (metrics_endpoints,)
