"""Endpoints for every Service with a selector."""

from __future__ import annotations

from llmd_console.sim.controllers.base import Controller, split_key
from llmd_console.sim.storage.objects import Obj, condition, labels_of, name_of, namespace_of
from llmd_console.sim.storage.registry import ResourceType
from llmd_console.sim.storage.selectors import Requirement, labels_match


def target_port(service_port: Obj, pod: Obj) -> int | None:
    """The container port a Service port forwards to on ``pod`` (named ports resolved)."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    for c in pod.get("spec", {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    try:
        return int(str(target))
    except ValueError:
        return None


class EndpointsController(Controller):
    """Keeps each Service's Endpoints in step with its ready pods."""

    watches = ("services", "pods")

    def keys_for(self, etype: str, rtype: ResourceType, old: Obj | None, new: Obj | None) -> list[str]:
        obj = new or old
        if obj is None:
            return []
        if rtype.key == "services":
            return [f"{namespace_of(obj)}/{name_of(obj)}"]
        ns = namespace_of(obj)
        keys = []
        for svc in self.ctx.store.list("services", ns):
            sel = svc.get("spec", {}).get("selector") or {}
            reqs = [Requirement(k, "in", (str(v),)) for k, v in sel.items()]
            if sel and any(o is not None and labels_match(reqs, labels_of(o)) for o in (old, new)):
                keys.append(f"{ns}/{name_of(svc)}")
        return keys

    def reconcile(self, key: str) -> None:
        ns, name = split_key(key)
        store = self.ctx.store
        svc = store.get("services", ns, name)
        ep_rt = self.ctx.rt("endpoints")
        existing = store.get("endpoints", ns, name)
        if svc is None:
            if existing is not None:
                store.delete(ep_rt, ns, name)
            return
        sel = svc.get("spec", {}).get("selector") or {}
        if not sel:
            return
        reqs = [Requirement(k, "in", (str(v),)) for k, v in sel.items()]
        subsets: dict[tuple[tuple[str, int], ...], Obj] = {}
        for pod in store.list("pods", ns, reqs):
            ip = pod.get("status", {}).get("podIP")
            if not ip or pod["metadata"].get("deletionTimestamp"):
                continue
            ports = []
            for sp in svc["spec"].get("ports") or []:
                tp = target_port(sp, pod)
                if tp is not None:
                    ports.append((str(sp.get("name", "")), tp))
            key_ports = tuple(ports)
            subset = subsets.setdefault(
                key_ports,
                {
                    "ports": [
                        {"name": n, "port": p, "protocol": "TCP"} if n else {"port": p, "protocol": "TCP"}
                        for n, p in ports
                    ]
                },
            )
            ready = condition(pod, "Ready")
            bucket = "addresses" if ready and ready.get("status") == "True" else "notReadyAddresses"
            subset.setdefault(bucket, []).append(
                {
                    "ip": ip,
                    "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": name_of(pod), "uid": pod["metadata"]["uid"]},
                }
            )
        body: Obj = {
            "metadata": {"name": name, "namespace": ns, "labels": dict(labels_of(svc))},
            "subsets": list(subsets.values()),
        }
        if not body["subsets"]:
            body.pop("subsets")
        if existing is None:
            self.ctx.create("endpoints", body)
            return

        def update(draft: Obj) -> None:
            draft["metadata"]["labels"] = body["metadata"]["labels"]
            if "subsets" in body:
                draft["subsets"] = body["subsets"]
            else:
                draft.pop("subsets", None)

        store.mutate(ep_rt, ns, name, update)
