"""Every console action by id, from what the operator pointed at to a plan and the coroutine
that carries it out: the one table the keys, the command palette and the doctor's findings go
through. Nothing here imports Textual; a UI asks :meth:`Catalog.question` (a count to type, if
the action needs one), then :meth:`Catalog.prepare`, then shows the plan and runs it.

Action ids (``safety.NEEDS`` has the permissions each needs): ``deploy``, ``undeploy``,
``restart``, ``delete-pod``, ``scale``, ``scale-pool`` (alias ``scale-node-pool``),
``scale-to-zero``, ``scale-back``, ``rollback``."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmd_console.actions import nodepool, restart, rollback, scale, undeploy
from llmd_console.actions.deploy import deploy
from llmd_console.actions.deploy_plan import plan_deploy
from llmd_console.actions.facts import read_facts
from llmd_console.actions.follow import Waiting
from llmd_console.actions.owners import owning_deployment
from llmd_console.actions.plan import Plan
from llmd_console.actions.pods import delete_pod, delete_pod_plan
from llmd_console.actions.steps import Progress
from llmd_console.cluster.kube import KubeClient
from llmd_console.config import Config
from llmd_console.gke.client import NodePoolClient, NodePoolInfo
from llmd_console.manifests.render import deploy_namespace
from llmd_console.models import Pod

ALIASES = {"scale-node-pool": "scale-pool"}
ACTIONS = (
    "deploy",
    "deploy-take-over",
    "undeploy",
    "restart",
    "delete-pod",
    "scale",
    "scale-pool",
    "scale-to-zero",
    "scale-back",
    "rollback",
)


class NotApplicable(Exception):
    """The action does not apply to what was selected (a pod without a Deployment to scale...)."""


@dataclass(frozen=True)
class Request:
    """What the operator asked for: an action id and the object it was asked on (``kind`` Pod,
    Deployment, Node or NodePool; empty for the action's default target)."""

    action: str
    kind: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def action_id(self) -> str:
        """The action's canonical id."""
        return ALIASES.get(self.action, self.action)


@dataclass(frozen=True)
class Question:
    """A count the operator types before the plan is made: ``parse`` raises ``ValueError``
    (``BadInput``) saying why a text is not acceptable."""

    title: str
    question: str
    suggested: int
    parse: Callable[[str], int]


@dataclass(frozen=True)
class Prepared:
    """A plan and how to carry it out (``execute(on_wait)`` returns when the cluster shows it done)."""

    plan: Plan
    execute: Callable[[Waiting], Awaitable[str]]


def deploy_progress(on_wait: Waiting) -> Callable[[Progress], None]:
    """A deploy's step reports as one line each: ``[3/9] apply HTTPRoute/x: done``."""

    def said(p: Progress) -> None:
        detail = f": {p.detail.strip().splitlines()[-1]}" if p.detail.strip() else ""
        on_wait(f"[{p.index + 1}/{p.total}] {p.step}: {p.state}{detail}")

    return said


class Catalog:
    """The actions against one cluster (``kube``), its node pools (``gke()``, made when first
    needed) and the console's config; ``namespace`` is the one watched ("" for all)."""

    def __init__(self, kube: KubeClient, config: Config, gke: Callable[[], NodePoolClient], namespace: str) -> None:
        self.kube = kube
        self.config = config
        self._gke = gke
        self.namespace = namespace

    def namespace_of(self, request: Request) -> str:
        """Where the action applies: the object's namespace, else the one watched, else the deploy's."""
        return request.namespace or self.namespace or deploy_namespace(self.config)

    async def deployment_of(self, request: Request) -> str:
        """The Deployment a request is about: named, or the controller of the selected pod."""
        if request.kind == "Deployment" and request.name:
            return request.name
        if request.kind == "Pod" and request.name:
            found = await owning_deployment(self.kube, self.namespace_of(request), request.name)
            if found is None:
                raise NotApplicable(f"pod {request.name} is not managed by a Deployment")
            return found
        if request.action_id in ("scale-to-zero", "scale-back") or not request.name:
            return self.config.resources.decode_deployment
        raise NotApplicable(f"{request.action} applies to a Deployment or a pod, not a {request.kind or 'selection'}")

    def pool_of(self, request: Request) -> str:
        """The node pool a request is about: named (a node's pool), else the accelerator pool."""
        return request.name if request.kind == "NodePool" and request.name else self.config.gke.accelerator_pool

    async def question(self, request: Request) -> Question | None:
        """The count to ask for first (replicas, nodes), with the current value suggested."""
        if request.action_id == "scale":
            name = await self.deployment_of(request)
            current = await scale.read_scale(self.kube, self.namespace_of(request), name)
            most = self.config.deploy.max_replicas
            return Question(
                f"Scale deployment {name}",
                f"Replicas (now {current.replicas}; 0 to {most}):",
                current.replicas,
                lambda text: scale.parse_replicas(text, most),
            )
        if request.action_id == "scale-pool":
            pool = await self._gke().get_pool(self.pool_of(request))
            slices = f", in whole slices of {pool.hosts_per_slice}" if pool.hosts_per_slice > 1 else ""
            return Question(
                f"Resize node pool {pool.name}",
                f"Nodes (now {pool.node_count}{slices}):",
                pool.node_count or max(1, pool.hosts_per_slice),
                lambda text: nodepool.parse_nodes(text, pool),
            )
        return None

    async def prepare(self, request: Request, count: int | None = None, pod: Pod | None = None) -> Prepared:
        """The plan (read from the cluster now) and its execution; ``count`` answers the question,
        ``pod`` is the selected pod as the console shows it (for delete-pod)."""
        action = request.action_id
        kube, ns = self.kube, self.namespace_of(request)
        if action in ("deploy", "deploy-take-over"):
            force = action == "deploy-take-over"
            plan = await plan_deploy(kube, self.config, await read_facts(kube), force=force)
            return Prepared(plan, lambda w: deploy(kube, self.config, deploy_progress(w), force=force))
        if action == "undeploy":
            plan = await undeploy.plan_undeploy(kube, self.config, ns)
            return Prepared(plan, lambda w: undeploy.undeploy(kube, self.config, ns, on_wait=w))
        if action == "delete-pod":
            return await self._delete_pod(request, pod)
        if action in ("scale-pool", "scale-to-zero", "scale-back"):
            return await self._pool_action(request, count)
        name = await self.deployment_of(request)
        if action == "restart":
            dep = await kube.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
            warnings = restart.surge_warnings(dep, await read_facts(kube))
            replicas = int((dep.get("spec") or {}).get("replicas", 1))
            plan = restart.plan_restart(ns, name, replicas, warnings)
            return Prepared(plan, lambda w: restart.restart(kube, ns, name, on_wait=w))
        if action == "scale":
            if count is None:
                raise NotApplicable("scale needs a replica count")
            current = await scale.read_scale(kube, ns, name)
            plan = scale.plan_replicas(current, count, await read_facts(kube), self.config.prices)
            return Prepared(plan, lambda w: scale.scale_replicas(kube, ns, name, count, on_wait=w))
        if action == "rollback":
            dep, revision, template = await rollback.read_rollback(kube, ns, name)
            plan = rollback.plan_rollback(dep, revision, template)
            return Prepared(plan, lambda w: rollback.rollback(kube, ns, name, template, on_wait=w))
        raise NotApplicable(f"unknown action {request.action!r}")

    async def _delete_pod(self, request: Request, pod: Pod | None) -> Prepared:
        if pod is None:
            raise NotApplicable("that pod is no longer known")
        kube = self.kube
        owner = await owning_deployment(kube, pod.namespace, pod.name)
        if owner is None:
            return Prepared(delete_pod_plan(pod), lambda w: delete_pod(kube, pod))
        # Followed until the Deployment has replaced it: done means a new Ready pod, not a 200.
        return Prepared(
            delete_pod_plan(pod),
            lambda w: restart.delete_and_replace(kube, pod.namespace, pod.name, owner, on_wait=w),
        )

    async def _pool_action(self, request: Request, count: int | None) -> Prepared:
        action, kube, config = request.action_id, self.kube, self.config
        gke = self._gke()
        pool = await gke.get_pool(self.pool_of(request))
        facts = await read_facts(kube)
        if action == "scale-pool":
            if count is None:
                raise NotApplicable("resizing a node pool needs a node count")
            plan = nodepool.plan_pool(config, pool, count, facts)
            return Prepared(plan, lambda w: nodepool.resize_pool(kube, gke, pool.name, count, on_wait=w))
        model = await scale.read_scale(kube, self.namespace_of(request), await self.deployment_of(request))
        if action == "scale-to-zero":
            plan = nodepool.plan_scale_to_zero(config, pool, model, facts)
            return Prepared(plan, lambda w: nodepool.scale_to_zero(kube, gke, pool.name, model, on_wait=w))
        nodes, replicas = scale_back_sizes(config, pool, model)
        plan = nodepool.plan_scale_back(config, pool, model, nodes, replicas)
        return Prepared(plan, lambda w: nodepool.scale_back(kube, gke, pool.name, model, nodes, replicas, on_wait=w))


def scale_back_sizes(config: Config, pool: NodePoolInfo, model: scale.DeploymentScale) -> tuple[int, int]:
    """What "scale back" restores: the model's replicas (the deploy's when it is at 0) and the
    nodes their chips need (whole slices for a multi-host TPU pool; at least the pool's nodes now)."""
    replicas = model.replicas or config.deploy.replicas
    per_node = pool.chips_per_node or model.chips_per_pod or 1
    nodes = math.ceil(replicas * model.chips_per_pod / per_node) if model.chips_per_pod else 1
    hosts = max(1, pool.hosts_per_slice)
    nodes = math.ceil(max(nodes, 1) / hosts) * hosts
    return max(nodes, pool.node_count), replicas
