"""The request path Gateway -> HTTPRoute -> InferencePool -> EPP -> model pods, each
hop with a light and, when it is not healthy, what is wrong in words and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from llmd_console.models import Hop, Light, Obj, RequestPath
from llmd_console.sanitize import one_line
from llmd_console.views.common import condition, is_true, meta, name
from llmd_console.views.pools import pool_picker, pool_ports, pool_selector

if TYPE_CHECKING:
    from llmd_console.config import ResourcesConfig

GATEWAY_API_FIX = (
    "gcloud container clusters update $CLUSTER_NAME --gateway-api=standard --zone $ZONE --project $PROJECT_ID"
)
# The kinds the request path is computed from.
PATH_KINDS = ("gateways", "httproutes", "inferencepools", "services", "deployments", "pods", "gatewayclasses")
POOL_CRD_FIX = "cd llm-d/guides/prereq/gateway-provider && ./install-gateway-provider-dependencies.sh apply"
# Hop problems that are consequences of another's (the doctor lists them after the causes, and
# the gateway pane does not open at them).
SYMPTOMS = frozenset({"gateway-no-routes", "model-pods-not-ready", "inferencepool-no-ready-pods"})


@dataclass(frozen=True)
class PathInput:
    """What the path is computed from (raw objects by key, and which kinds are unavailable)."""

    gateway_name: str
    route_name: str
    pool_name: str
    epp_name: str
    namespace: str
    gateways: Mapping[str, Obj]
    routes: Mapping[str, Obj]
    pools: Mapping[str, Obj]
    services: Mapping[str, Obj]
    deployments: Mapping[str, Obj]
    pods: Mapping[str, Obj]
    classes: Mapping[str, Obj]
    missing: frozenset[str] = field(default_factory=frozenset)  # kinds whose API is not served
    forbidden: frozenset[str] = field(default_factory=frozenset)
    # A route and a pool may live in other namespaces than their Gateway ("" means the Gateway's).
    route_namespace: str = ""
    pool_namespace: str = ""

    @classmethod
    def of(
        cls,
        resources: ResourcesConfig,
        namespace: str,
        objects: Mapping[str, Mapping[str, Obj]],
        missing: frozenset[str] = frozenset(),
        forbidden: frozenset[str] = frozenset(),
    ) -> PathInput:
        """The input from the configured names and the objects of ``PATH_KINDS`` by kind and key."""
        none: Mapping[str, Obj] = {}
        return cls(
            gateway_name=resources.gateway,
            route_name=resources.http_route,
            pool_name=resources.inference_pool,
            epp_name=resources.epp,
            namespace=namespace,
            gateways=objects.get("gateways", none),
            routes=objects.get("httproutes", none),
            pools=objects.get("inferencepools", none),
            services=objects.get("services", none),
            deployments=objects.get("deployments", none),
            pods=objects.get("pods", none),
            classes=objects.get("gatewayclasses", none),
            missing=missing,
            forbidden=forbidden,
        )

    @property
    def route_ns(self) -> str:
        """The HTTPRoute's namespace."""
        return self.route_namespace or self.namespace

    @property
    def pool_ns(self) -> str:
        """The InferencePool's namespace, which is also its EPP's and its model pods'."""
        return self.pool_namespace or self.namespace


def _entry_condition(obj: Obj, ctype: str) -> Obj | None:
    """A condition of an object (``status.conditions``) or of a status parent entry (``conditions``)."""
    if "conditions" in obj and "status" not in obj:
        for cond in obj.get("conditions") or []:
            if isinstance(cond, dict) and cond.get("type") == ctype:
                return cond
        return None
    return condition(obj, ctype)


def _true(obj: Obj, ctype: str) -> bool:
    cond = _entry_condition(obj, ctype)
    return bool(cond and cond.get("status") == "True")


def _cond_text(obj: Obj, ctype: str) -> str:
    cond = _entry_condition(obj, ctype)
    if cond is None:
        return f"{ctype}: not reported"
    text = f"{ctype}={cond.get('status')}"
    if cond.get("reason"):
        text += f" ({one_line(str(cond['reason']), 60)})"
    return text


def _message(obj: Obj, ctype: str) -> str:
    cond = _entry_condition(obj, ctype) or {}
    return one_line(str(cond.get("message") or cond.get("reason") or ""), 300)


def gateway_hop(p: PathInput) -> Hop:
    """The Gateway: class, address, Accepted/Programmed, attached routes per listener."""
    if "gateways" in p.missing:
        return Hop(
            "Gateway",
            p.gateway_name,
            "error",
            problem="the Gateway API CRDs are not installed",
            fix=GATEWAY_API_FIX,
            code="gateway-api-missing",
        )
    if "gateways" in p.forbidden:
        return Hop("Gateway", p.gateway_name, "unknown", problem="forbidden: this user cannot list gateways")
    gw = p.gateways.get(f"{p.namespace}/{p.gateway_name}")
    if gw is None:
        return Hop(
            "Gateway",
            p.gateway_name,
            "error",
            problem=f"Gateway {p.gateway_name} does not exist in {p.namespace}",
            code="gateway-missing",
        )
    spec, status = gw.get("spec") or {}, gw.get("status") or {}
    class_name = one_line(str(spec.get("gatewayClassName", "")), 100)
    addresses = [one_line(str(a.get("value", "")), 100) for a in status.get("addresses") or [] if isinstance(a, dict)]
    facts = [f"class {class_name}", f"address {', '.join(addresses) or '(none)'}"]
    facts += [_cond_text(gw, "Accepted"), _cond_text(gw, "Programmed")]
    listeners = [
        f"listener {one_line(str(listener.get('name', '')), 40)}: {listener.get('attachedRoutes', 0)} attached route(s)"
        for listener in status.get("listeners") or []
        if isinstance(listener, dict)
    ]
    facts += listeners
    gc = p.classes.get(class_name)
    if p.classes and gc is None:
        return Hop(
            "Gateway",
            p.gateway_name,
            "error",
            tuple(facts),
            f"GatewayClass {class_name} does not exist",
            "kubectl get gatewayclass",
            "gatewayclass-missing",
        )
    if not is_true(gw, "Accepted"):
        return Hop(
            "Gateway",
            p.gateway_name,
            "error",
            tuple(facts),
            "not accepted: " + _message(gw, "Accepted"),
            code="gateway-not-accepted",
        )
    if not is_true(gw, "Programmed") or not addresses:
        message = _message(gw, "Programmed") or "no address yet"
        fix = ""
        if "proxy-only" in message:
            fix = (
                "gcloud compute networks subnets create proxy-only-subnet --purpose=REGIONAL_MANAGED_PROXY "
                "--role=ACTIVE --region=$REGION --network=default --range=192.168.100.0/23"
            )
        return Hop(
            "Gateway",
            p.gateway_name,
            "warning" if not fix else "error",
            tuple(facts),
            "not programmed: " + message,
            fix,
            "gateway-not-programmed",
        )
    attached = sum(int(listener.get("attachedRoutes") or 0) for listener in status.get("listeners") or [])
    if attached == 0:
        return Hop(
            "Gateway",
            p.gateway_name,
            "error",
            tuple(facts),
            "0 attached routes: requests get 'fault filter abort'",
            f"kubectl get httproute -n {p.route_ns}; kubectl describe httproute {p.route_name} -n {p.route_ns}",
            "gateway-no-routes",
        )
    return Hop("Gateway", p.gateway_name, "ok", tuple(facts))


def route_hop(p: PathInput) -> Hop:
    """The HTTPRoute: parents with Accepted/ResolvedRefs, backendRefs (a port on a pool is flagged)."""
    if "httproutes" in p.missing:
        return Hop(
            "HTTPRoute",
            p.route_name,
            "error",
            problem="the HTTPRoute CRD is not installed",
            fix=GATEWAY_API_FIX,
            code="gateway-api-missing",
        )
    route = p.routes.get(f"{p.route_ns}/{p.route_name}")
    if route is None:
        return Hop(
            "HTTPRoute",
            p.route_name,
            "error",
            problem=f"HTTPRoute {p.route_name} does not exist in {p.route_ns}",
            fix=f"kubectl apply -n {p.route_ns} -f httproute.yaml",
            code="httproute-missing",
        )
    facts: list[str] = []
    problem, fix, code = "", "", ""
    for rule in (route.get("spec") or {}).get("rules") or []:
        for ref in rule.get("backendRefs") or []:
            kind = ref.get("kind", "Service")
            text = f"backend {one_line(str(kind), 40)}/{one_line(str(ref.get('name', '')), 100)}"
            if ref.get("port") is not None:
                text += f" port {one_line(str(ref.get('port')), 10)}"
                if kind == "InferencePool":
                    problem = "the InferencePool backendRef sets a port; the pool's targetPorts define it"
                    fix = f"kubectl edit httproute {p.route_name} -n {p.route_ns}  # remove backendRefs[].port"
                    code = "httproute-backend-port"
            facts.append(text)
    parents = (route.get("status") or {}).get("parents") or []
    if not parents:
        return Hop(
            "HTTPRoute",
            p.route_name,
            "warning",
            tuple(facts),
            problem or "no controller has reported on it",
            fix,
            code or "httproute-no-status",
        )
    light: Light = "ok"
    for parent in parents:
        ref = parent.get("parentRef") or {}
        facts.append(
            f"parent {one_line(str(ref.get('name', '')), 100)}: {_cond_text(parent, 'Accepted')}, "
            f"{_cond_text(parent, 'ResolvedRefs')}"
        )
        for ctype in ("Accepted", "ResolvedRefs"):
            if not _true(parent, ctype):
                light = "error"
                if not problem:
                    problem = f"{ctype} is False: {_message(parent, ctype)}"
                    code = "httproute-not-accepted" if ctype == "Accepted" else "httproute-refs-unresolved"
    if problem and light == "ok":
        light = "warning"
    return Hop("HTTPRoute", p.route_name, light, tuple(facts), problem, fix, code if problem else "")


def pool_hop(p: PathInput, ready: int, total: int) -> Hop:
    """The InferencePool: selector, target ports, endpoint picker, status parents, pods ready/total."""
    if "inferencepools" in p.missing:
        return Hop(
            "InferencePool",
            p.pool_name,
            "error",
            problem="the InferencePool CRD (inference.networking.k8s.io/v1) is not installed",
            fix=POOL_CRD_FIX,
            code="inferencepool-crd-missing",
        )
    pool = p.pools.get(f"{p.pool_ns}/{p.pool_name}")
    if pool is None:
        return Hop(
            "InferencePool",
            p.pool_name,
            "error",
            problem=f"InferencePool {p.pool_name} does not exist in {p.pool_ns}",
            code="inferencepool-missing",
        )
    labels = pool_selector(pool)
    ports = [str(port) for port in pool_ports(pool)]
    epp_name, epp_port, failure_mode = pool_picker(pool)
    facts = [
        "selector " + ", ".join(f"{one_line(str(k), 80)}={one_line(str(v), 80)}" for k, v in labels.items()),
        f"target ports {', '.join(ports) or '(none)'}",
        f"endpoint picker {one_line(epp_name, 100)}:{epp_port or '?'} ({one_line(failure_mode, 20)})",
        f"model pods ready {ready}/{total}",
    ]
    parents = (pool.get("status") or {}).get("parents") or []
    for parent in parents:
        facts.append(
            f"parent {one_line(str((parent.get('parentRef') or {}).get('name', '')), 100)}: "
            f"{_cond_text(parent, 'Accepted')}, {_cond_text(parent, 'ResolvedRefs')}"
        )
        for ctype in ("Accepted", "ResolvedRefs"):
            if not _true(parent, ctype):
                return Hop(
                    "InferencePool",
                    p.pool_name,
                    "error",
                    tuple(facts),
                    f"{ctype} is False: {_message(parent, ctype)}",
                    code="inferencepool-not-accepted" if ctype == "Accepted" else "inferencepool-refs-unresolved",
                )
    if not parents:
        return Hop(
            "InferencePool",
            p.pool_name,
            "warning",
            tuple(facts),
            "not attached to any Gateway (no status parents)",
            code="inferencepool-unattached",
        )
    if total == 0:
        return Hop(
            "InferencePool",
            p.pool_name,
            "error",
            tuple(facts),
            "the selector matches no pods",
            code="inferencepool-no-pods",
        )
    if ready == 0:
        return Hop(
            "InferencePool",
            p.pool_name,
            "error",
            tuple(facts),
            "no model pod is Ready: requests get 503 'no healthy upstream'",
            code="inferencepool-no-ready-pods",
        )
    return Hop("InferencePool", p.pool_name, "ok", tuple(facts))


def epp_hop(p: PathInput) -> Hop:
    """The EPP Deployment and Service."""
    dep = p.deployments.get(f"{p.pool_ns}/{p.epp_name}")
    svc = p.services.get(f"{p.pool_ns}/{p.epp_name}")
    facts = []
    if svc is None:
        return Hop(
            "EPP",
            p.epp_name,
            "error",
            problem=f"Service {p.epp_name} does not exist: the pool cannot reach its picker",
            code="epp-service-missing",
        )
    ports = [
        f"{one_line(str(sp.get('name', '')), 40)}:{sp.get('port')}" for sp in (svc.get("spec") or {}).get("ports") or []
    ]
    facts.append("service ports " + ", ".join(ports))
    if dep is None:
        return Hop(
            "EPP", p.epp_name, "error", tuple(facts), f"Deployment {p.epp_name} does not exist", code="epp-missing"
        )
    want = int((dep.get("spec") or {}).get("replicas", 1) or 0)
    have = int((dep.get("status") or {}).get("readyReplicas") or 0)
    facts.append(f"deployment ready {have}/{want}")
    if have == 0:
        return Hop(
            "EPP",
            p.epp_name,
            "error",
            tuple(facts),
            "no EPP replica is Ready: requests fail (FailClose) or skip scheduling (FailOpen)",
            f"kubectl logs -n {p.pool_ns} deploy/{p.epp_name} --tail=50",
            "epp-not-ready",
        )
    return Hop("EPP", p.epp_name, "ok", tuple(facts))


def model_pods(p: PathInput) -> tuple[list[Obj], int]:
    """Pods the pool selects, and how many are Ready."""
    pool = p.pools.get(f"{p.pool_ns}/{p.pool_name}")
    labels = pool_selector(pool or {})
    if not labels:
        return [], 0
    selected = [
        pod
        for pod in p.pods.values()
        if meta(pod).get("namespace") == p.pool_ns
        and not meta(pod).get("deletionTimestamp")
        and all((meta(pod).get("labels") or {}).get(k) == v for k, v in labels.items())
    ]
    return selected, sum(1 for pod in selected if is_true(pod, "Ready"))


def request_path(p: PathInput) -> list[Hop]:
    """Every hop, in request order."""
    selected, ready = model_pods(p)
    pods_hop = Hop(
        "Model pods",
        f"{ready}/{len(selected)} ready",
        "ok" if ready else "error",
        tuple(f"{name(pod)} {'Ready' if is_true(pod, 'Ready') else 'not ready'}" for pod in selected[:8]),
        "" if ready else "no Ready model-server pod",
        code="" if ready else "model-pods-not-ready",
    )
    return [gateway_hop(p), route_hop(p), pool_hop(p, ready, len(selected)), epp_hop(p), pods_hop]


# ---- finding the stacks ---------------------------------------------------------------------
def _refs(obj: Obj, field_name: str, kind: str, default_kind: str, namespace: str) -> list[tuple[str, str]]:
    """(namespace, name) of the references of ``kind`` in ``spec.<field_name>`` (parentRefs) or in
    ``spec.rules[].backendRefs``; a reference without a namespace points into ``namespace``."""
    spec = obj.get("spec") or {}
    if field_name == "backendRefs":
        rules = [rule for rule in spec.get("rules") or [] if isinstance(rule, dict)]
        refs = [ref for rule in rules for ref in rule.get("backendRefs") or []]
    else:
        refs = list(spec.get(field_name) or [])
    return [
        (str(ref.get("namespace") or namespace), str(ref.get("name") or ""))
        for ref in refs
        if isinstance(ref, dict) and ref.get("kind", default_kind) == kind and ref.get("name")
    ]


def _split(key: str) -> tuple[str, str]:
    namespace, _, obj_name = key.partition("/")
    return namespace, obj_name


def _stack(p: PathInput, gateway: tuple[str, str], route: tuple[str, str], pool: tuple[str, str]) -> PathInput:
    """The path input of one stack: its names, each in its namespace; the EPP is the one the pool names."""
    epp = p.epp_name
    found = p.pools.get(f"{pool[0]}/{pool[1]}")
    if found is not None:
        epp = pool_picker(found)[0] or epp
    return replace(
        p,
        namespace=gateway[0],
        gateway_name=gateway[1],
        route_namespace=route[0],
        route_name=route[1],
        pool_namespace=pool[0],
        pool_name=pool[1],
        epp_name=epp,
    )


def find_stacks(p: PathInput, every_namespace: bool) -> list[PathInput]:
    """The llm-d stacks in view: each Gateway with each HTTPRoute attached to it and each
    InferencePool that route sends to, whatever their namespaces.

    The configured names (in ``p``) fill the gaps, so that a missing hop is reported with its
    fix: watching one namespace, the configured stack is shown when no Gateway there leads to a
    pool; watching every namespace, a Gateway with the configured name but no route, and a pool no
    route reaches, are shown as stacks with their missing hops.
    """
    stacks: dict[tuple[tuple[str, str], ...], PathInput] = {}
    reached_pools: set[tuple[str, str]] = set()
    chained_gateways: set[tuple[str, str]] = set()
    for route_key in sorted(p.routes):
        route_ns, route_name = _split(route_key)
        route = p.routes[route_key]
        pools = _refs(route, "backendRefs", "InferencePool", "Service", route_ns)
        for gateway in _refs(route, "parentRefs", "Gateway", "Gateway", route_ns):
            for pool in pools:
                stacks[(gateway, (route_ns, route_name), pool)] = _stack(p, gateway, (route_ns, route_name), pool)
                reached_pools.add(pool)
                chained_gateways.add(gateway)
    if not every_namespace:
        configured = (p.namespace, p.gateway_name)
        if configured not in chained_gateways:
            key = (configured, (p.namespace, p.route_name), (p.namespace, p.pool_name))
            stacks = {key: _stack(p, *key), **stacks}
        return list(stacks.values())
    for gateway_key in sorted(p.gateways):
        gateway = _split(gateway_key)
        if gateway[1] == p.gateway_name and gateway not in chained_gateways:
            key = (gateway, (gateway[0], p.route_name), (gateway[0], p.pool_name))
            stacks[key] = _stack(p, *key)
            reached_pools.add(key[2])
    for pool_key in sorted(p.pools):
        pool = _split(pool_key)
        if pool not in reached_pools:
            key = ((pool[0], p.gateway_name), (pool[0], p.route_name), pool)
            stacks[key] = _stack(p, *key)
    return list(stacks.values())


def request_paths(p: PathInput, every_namespace: bool) -> tuple[RequestPath, ...]:
    """The request path of every stack in view (see ``find_stacks``), titled by its Gateway."""
    stacks = find_stacks(p, every_namespace)
    if not stacks:
        nothing = Hop(
            "Gateway",
            "(none)",
            "unknown",
            problem="no llm-d stack in any namespace: no Gateway, HTTPRoute or InferencePool",
            fix="kubectl get gateways,httproutes,inferencepools -A",
        )
        return (RequestPath((nothing,)),)
    return tuple(RequestPath(tuple(request_path(s)), title=f"{s.namespace}/{s.gateway_name}") for s in stacks)
