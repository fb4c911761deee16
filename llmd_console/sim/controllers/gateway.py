"""Status for GatewayClass, Gateway, HTTPRoute and InferencePool, as the GKE gateway
controller writes it."""

from __future__ import annotations

from llmd_console.sim.controllers.base import Controller
from llmd_console.sim.runtime.context import SimContext
from llmd_console.sim.storage.objects import Obj, deep_copy, name_of, namespace_of, set_condition
from llmd_console.sim.storage.registry import ResourceType

GW_GROUP = "gateway.networking.k8s.io"
POOL_GROUP = "inference.networking.k8s.io"
GKE_CONTROLLER = "networking.gke.io/gateway"
KNOWN_CONTROLLERS = {
    GKE_CONTROLLER,
    "istio.io/gateway-controller",
    "kgateway.dev/kgateway",
    "agentgateway.dev/agentgateway",
}
ADDRESS_DELAY = 45.0  # simulated seconds before a new Gateway gets its address
# Classes backed by a regional Envoy-based load balancer, which needs a proxy-only subnet.
REGIONAL_CLASSES = {"gke-l7-regional-external-managed", "gke-l7-rilb"}
NO_PROXY_SUBNET = (
    "error cause: gceSync: generic::invalid_argument: Insert: Invalid value for field 'resource.target': "
    "An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule."
)


def previous_conditions(entries: list[Obj] | None, name: str, *, key: str = "parentRef") -> list[Obj]:
    """A copy of the conditions last written for the entry called ``name`` (a status parent,
    matched on parentRef.name, or a listener with ``key=""``), so transition times carry over."""
    for entry in entries or []:
        entry_name = entry.get(key, {}).get("name") if key else entry.get("name")
        if entry_name == name:
            return deep_copy(entry.get("conditions") or [])
    return []


class GatewayController(Controller):
    """Reconciles the whole request path in one pass (it is small)."""

    watches = (
        f"gatewayclasses.{GW_GROUP}",
        f"gateways.{GW_GROUP}",
        f"httproutes.{GW_GROUP}",
        f"inferencepools.{POOL_GROUP}",
        "services",
        "customresourcedefinitions.apiextensions.k8s.io",
    )
    resync_sim_seconds = 5.0

    def __init__(self, ctx: SimContext) -> None:
        super().__init__(ctx)
        self._first_seen: dict[str, float] = {}
        self._elapsed = 0.0

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        if (
            etype == "MODIFIED"
            and old is not None
            and new is not None
            and {k: v for k, v in old.items() if k not in {"status", "metadata"}}
            == {k: v for k, v in new.items() if k not in {"status", "metadata"}}
            and old["metadata"].get("generation") == new["metadata"].get("generation")
        ):
            return []
        return ["all"]

    def resync(self) -> None:
        self._elapsed += self.resync_sim_seconds or 0.0
        self.enqueue("all")

    def _has(self, plural: str, group: str) -> bool:
        return self.ctx.registry.has(f"{plural}.{group}")

    def reconcile(self, key: str) -> None:
        if not self._has("gateways", GW_GROUP):
            return
        self._classes()
        routes = self.ctx.store.list(f"httproutes.{GW_GROUP}") if self._has("httproutes", GW_GROUP) else []
        accepted_by_gateway: dict[tuple[str, str], int] = {}
        pool_parents: dict[tuple[str, str], list[Obj]] = {}
        for route in routes:
            for ref, ok, backends in self._route(route):
                if ok:
                    accepted_by_gateway[ref] = accepted_by_gateway.get(ref, 0) + 1
                    for pool_key in backends:
                        pool_parents.setdefault(pool_key, []).append({"name": ref[1], "namespace": ref[0]})
        gateways = self.ctx.store.list(f"gateways.{GW_GROUP}")
        for gw in gateways:
            self._gateway(gw, accepted_by_gateway.get((namespace_of(gw), name_of(gw)), 0))
        if self.ctx.load_balancers is not None:
            self.ctx.load_balancers.retain({f"{namespace_of(gw)}/{name_of(gw)}" for gw in gateways})
        if self._has("inferencepools", POOL_GROUP):
            for pool in self.ctx.store.list(f"inferencepools.{POOL_GROUP}"):
                self._pool(pool, pool_parents.get((namespace_of(pool), name_of(pool)), []))

    def _classes(self) -> None:
        if not self._has("gatewayclasses", GW_GROUP):
            return
        rt = self.ctx.rt(f"gatewayclasses.{GW_GROUP}")
        now = self.ctx.clock.iso()
        for gc in self.ctx.store.list(rt.key):
            known = gc.get("spec", {}).get("controllerName") in KNOWN_CONTROLLERS

            def update(draft: Obj, known: bool = known) -> None:
                conds = draft.setdefault("status", {}).setdefault("conditions", [])
                gen = draft["metadata"].get("generation", 1)
                set_condition(
                    conds,
                    "Accepted",
                    "True" if known else "Unknown",
                    "Accepted" if known else "Pending",
                    "" if known else "Waiting for controller",
                    now,
                    gen,
                )

            self.ctx.store.mutate(rt, "", name_of(gc), update, status_only=True)

    def _gateway(self, gw: Obj, attached: int) -> None:
        rt = self.ctx.rt(f"gateways.{GW_GROUP}")
        now = self.ctx.clock.iso()
        uid = gw["metadata"]["uid"]
        first = self._first_seen.setdefault(uid, self._elapsed)
        class_name = gw.get("spec", {}).get("gatewayClassName", "")
        gc = (
            self.ctx.store.get(f"gatewayclasses.{GW_GROUP}", "", class_name)
            if self._has("gatewayclasses", GW_GROUP)
            else None
        )
        controller = (gc or {}).get("spec", {}).get("controllerName")
        gen = gw["metadata"].get("generation", 1)

        blocked = class_name in REGIONAL_CLASSES and not self.ctx.network.proxy_only_subnet
        if blocked and controller == GKE_CONTROLLER:
            self.ctx.record_event(
                gw,
                "Warning",
                "SYNC",
                f"failed to sync Gateway {namespace_of(gw)}/{name_of(gw)}: {NO_PROXY_SUBNET}",
                "sc-gateway-controller",
            )

        address = None
        if controller in KNOWN_CONTROLLERS and not blocked and self._elapsed - first >= ADDRESS_DELAY:
            # Each Gateway gets a load balancer, and so an address, of its own.
            lbs = self.ctx.load_balancers
            address = lbs.address_for(f"{namespace_of(gw)}/{name_of(gw)}") if lbs else self.ctx.gateway_address

        def update(draft: Obj) -> None:
            st = draft.setdefault("status", {})
            conds = st.setdefault("conditions", [])
            if controller not in KNOWN_CONTROLLERS:
                # Nobody owns this class: the CRD defaults stay, as on a real cluster.
                return
            set_condition(conds, "Accepted", "True", "Accepted", "", now, gen)
            if blocked:
                st.pop("addresses", None)
                set_condition(conds, "Programmed", "False", "AddressNotAssigned", NO_PROXY_SUBNET, now, gen)
            elif address:
                st["addresses"] = [{"type": "IPAddress", "value": address}]
                set_condition(conds, "Programmed", "True", "Programmed", "", now, gen)
            else:
                st.pop("addresses", None)
                set_condition(
                    conds,
                    "Programmed",
                    "False",
                    "AddressNotAssigned",
                    "Waiting for an IP address to be assigned to the load balancer",
                    now,
                    gen,
                )
            listeners = []
            for listener in draft.get("spec", {}).get("listeners") or []:
                lconds = previous_conditions(st.get("listeners"), str(listener.get("name")), key="")
                for ctype in ("Accepted", "Programmed", "ResolvedRefs"):
                    set_condition(lconds, ctype, "True", ctype, "", now, gen)
                listeners.append(
                    {
                        "name": listener.get("name"),
                        "attachedRoutes": attached,
                        "supportedKinds": [{"group": GW_GROUP, "kind": "HTTPRoute"}],
                        "conditions": lconds,
                    }
                )
            st["listeners"] = listeners

        self.ctx.store.mutate(rt, namespace_of(gw), name_of(gw), update, status_only=True)

    def _route(self, route: Obj) -> list[tuple[tuple[str, str], bool, list[tuple[str, str]]]]:
        """Write the route's status; returns (gateway key, accepted, pool keys) per parent."""
        rt = self.ctx.rt(f"httproutes.{GW_GROUP}")
        ns = namespace_of(route)
        now = self.ctx.clock.iso()
        gen = route["metadata"].get("generation", 1)
        resolved, reason, message = True, "ResolvedRefs", ""
        unsupported = ""
        pools: list[tuple[str, str]] = []
        for rule in route.get("spec", {}).get("rules") or []:
            for ref in rule.get("backendRefs") or []:
                kind, group = ref.get("kind", "Service"), ref.get("group", "")
                bns = ref.get("namespace", ns)
                if kind == "InferencePool":
                    if group not in (POOL_GROUP, "inference.networking.x-k8s.io") or not self._has(
                        "inferencepools", POOL_GROUP
                    ):
                        resolved, reason = False, "InvalidKind"
                        message = f"unsupported backend kind {group}/{kind}: the InferencePool CRD is not installed"
                    elif self.ctx.store.get(f"inferencepools.{POOL_GROUP}", bns, ref.get("name", "")) is None:
                        resolved, reason = False, "BackendNotFound"
                        message = f'InferencePool "{bns}/{ref.get("name")}" not found'
                    elif ref.get("port") is not None:
                        # The pool's targetPorts decide the port; GKE refuses a port on this backendRef.
                        unsupported = (
                            f'backendRef to InferencePool "{bns}/{ref.get("name")}" must not set a port '
                            f"(got {ref.get('port')}); the InferencePool's targetPorts define it"
                        )
                    else:
                        pools.append((bns, ref.get("name", "")))
                elif kind == "Service" and group in ("", "core"):
                    if self.ctx.store.get("services", bns, ref.get("name", "")) is None:
                        resolved, reason, message = (
                            False,
                            "BackendNotFound",
                            f'Service "{bns}/{ref.get("name")}" not found',
                        )
                else:
                    resolved, reason, message = False, "InvalidKind", f"unsupported backend kind {group}/{kind}"
        out = []
        parents = []
        for pref in route.get("spec", {}).get("parentRefs") or []:
            gns = pref.get("namespace", ns)
            gname = pref.get("name", "")
            gw = self.ctx.store.get(f"gateways.{GW_GROUP}", gns, gname)
            found = gw is not None and pref.get("kind", "Gateway") == "Gateway"
            ok = found and not unsupported
            conds = previous_conditions((route.get("status") or {}).get("parents"), gname)
            if not found:
                accepted = ("False", "NoMatchingParent", f'Gateway "{gns}/{gname}" not found')
            elif unsupported:
                accepted = ("False", "UnsupportedValue", unsupported)
            else:
                accepted = ("True", "Accepted", "")
            set_condition(conds, "Accepted", *accepted, now, gen)
            set_condition(conds, "ResolvedRefs", "True" if resolved else "False", reason, message, now, gen)
            parents.append(
                {
                    "parentRef": {"group": GW_GROUP, "kind": "Gateway", "name": gname, "namespace": gns},
                    "controllerName": GKE_CONTROLLER,
                    "conditions": conds,
                }
            )
            out.append(((gns, gname), ok, pools if resolved else []))

        if unsupported:
            self.ctx.record_event(
                route,
                "Warning",
                "SYNC",
                f"failed to translate HTTPRoute {ns}/{name_of(route)}: {unsupported}",
                "sc-gateway-controller",
            )

        def update(draft: Obj) -> None:
            draft.setdefault("status", {})["parents"] = parents

        self.ctx.store.mutate(rt, ns, name_of(route), update, status_only=True)
        return out

    def _pool(self, pool: Obj, gateways: list[Obj]) -> None:
        rt = self.ctx.rt(f"inferencepools.{POOL_GROUP}")
        ns = namespace_of(pool)
        now = self.ctx.clock.iso()
        gen = pool["metadata"].get("generation", 1)
        epp = pool.get("spec", {}).get("endpointPickerRef") or {}
        epp_ok = bool(epp.get("name")) and self.ctx.store.get("services", ns, epp.get("name", "")) is not None
        parents = []
        seen = set()
        for gw in gateways:
            key = (gw["namespace"], gw["name"])
            if key in seen:
                continue
            seen.add(key)
            conds = previous_conditions((pool.get("status") or {}).get("parents"), gw["name"])
            set_condition(conds, "Accepted", "True", "Accepted", "", now, gen)
            set_condition(
                conds,
                "ResolvedRefs",
                "True" if epp_ok else "False",
                "ResolvedRefs" if epp_ok else "InvalidExtensionRef",
                "" if epp_ok else f'Service "{ns}/{epp.get("name", "")}" referenced by endpointPickerRef not found',
                now,
                gen,
            )
            parents.append(
                {
                    "parentRef": {
                        "group": GW_GROUP,
                        "kind": "Gateway",
                        "name": gw["name"],
                        "namespace": gw["namespace"],
                    },
                    # No controllerName: the v1.0.0 CRD the world installs does not declare it
                    # (later CRDs do), and a field outside the schema breaks server-side apply.
                    "conditions": conds,
                }
            )

        def update(draft: Obj) -> None:
            draft.setdefault("status", {})["parents"] = parents

        self.ctx.store.mutate(rt, ns, name_of(pool), update, status_only=True)
