"""The app's side of cluster actions (a mixin of ``ConsoleApp``): which actions the API allows
(asked once per connection and namespace, and again before each one), the count dialog, the
preview and confirmation, the run with its progress on the action bar, the outcome, the audit.

One path for every action, whoever asks (a pane's key, the palette, a doctor finding):
:class:`~llmd_console.ui.messages.ActionRequested` -> permitted? -> count? -> plan (read from
the cluster now) -> preview and confirm -> run and follow -> result, audited at every end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from llmd_console.actions.plan import Plan
from llmd_console.actions.safety import OneAtATime, Permission
from llmd_console.ui.messages import ActionRequested

if TYPE_CHECKING:
    from llmd_console.actions.audit import AuditLog, Outcome
    from llmd_console.actions.catalog import Catalog, Request
    from llmd_console.config import Config, GkeConfig
    from llmd_console.gke import NodePoolClient
    from llmd_console.models import Connection, Snapshot
    from llmd_console.session import Session
    from llmd_console.ui.action_bar import ActionBar

APP_MUTATIONS = frozenset({"deploy", "undeploy"})  # the app's own keys that change the cluster


class ActionHandlers(App[int]):
    """Permissions, planning, confirming and running the console's actions."""

    config: Config
    session: Session
    read_only: bool
    action_bar: ActionBar
    permissions: dict[str, Permission]
    _action_guard: OneAtATime
    _gke_config: Callable[[], GkeConfig] | None
    _gke_client: NodePoolClient | None

    if TYPE_CHECKING:

        @property
        def audit(self) -> AuditLog: ...
        @property
        def snapshot(self) -> Snapshot: ...
        @property
        def connection(self) -> Connection: ...
        @property
        def namespace(self) -> str: ...

    # ---- what is allowed -------------------------------------------------------------------------
    def action_allowed(self, action: str) -> bool:
        """Whether action ``action`` (an id, or a key's action name with ``_``) may be offered:
        not in read-only mode, and not when the API said no (unknown yet: offered, and asked
        again before it runs)."""
        if self.read_only:
            return False
        permission = self.permissions.get(action.replace("_", "-"))
        return permission is None or permission.allowed

    def why_not(self, action: str) -> str:
        """Why ``action`` is not offered ("" when it is)."""
        if self.read_only:
            return "the console was started with --read-only"
        permission = self.permissions.get(action.replace("_", "-"))
        return permission.reason if permission is not None and not permission.allowed else ""

    def check_permissions(self) -> None:
        """Ask the API which actions this identity may take here (a new connection or namespace)."""
        self._check_permissions()

    @work(group="permissions", exclusive=True, exit_on_error=False, description="ask which actions are allowed")
    async def _check_permissions(self) -> None:
        from llmd_console.actions.catalog import ACTIONS  # noqa: PLC0415
        from llmd_console.actions.safety import NEEDS, permitted  # noqa: PLC0415

        kube = self.session.client
        if kube is None or self.read_only:
            return
        namespace = self._catalog().namespace_of(_request("deploy"))
        asked: dict[object, Permission] = {}  # actions that need the same verbs are asked once
        found = {}
        for action in ACTIONS:
            needs = NEEDS.get(action, action)
            if needs not in asked:
                asked[needs] = await permitted(kube, action, namespace)
            found[action] = asked[needs]
        self.permissions = found
        self.refresh_bindings()  # forbidden keys leave the footer; allowed ones come back
        denied = sorted(a for a, p in found.items() if not p.allowed)
        if denied:
            self.notify(f"not offered here ({', '.join(denied)}): {found[denied[0]].reason}", title="RBAC", timeout=8)

    # ---- the node-pool client ------------------------------------------------------------------
    def gke(self) -> NodePoolClient:
        """The Container API client for the config's cluster (the simulator's in the demo)."""
        from llmd_console.gke import NodePoolClient  # noqa: PLC0415

        if self._gke_client is None:
            config = self._gke_config() if self._gke_config is not None else self.config.gke
            self._gke_client = NodePoolClient(config)
        return self._gke_client

    def _catalog(self) -> Catalog:
        from llmd_console.actions.catalog import Catalog  # noqa: PLC0415
        from llmd_console.session import ALL_NAMESPACES  # noqa: PLC0415

        kube = self.session.client
        assert kube is not None
        watched = "" if self.namespace == ALL_NAMESPACES else self.namespace
        return Catalog(kube, self.config, self.gke, watched)

    # ---- keys and palette ---------------------------------------------------------------------------
    def action_deploy(self) -> None:
        """Deploy Pattern 1 from the config (previewed first)."""
        self.post_message(ActionRequested("deploy"))

    def action_undeploy(self) -> None:
        """Remove the namespace's llm-d objects (typed namespace to confirm)."""
        self.post_message(ActionRequested("undeploy"))

    def action_action_log(self) -> None:
        """Every progress line of the running (or last) action."""
        from llmd_console.ui.describe import ObjectScreen  # noqa: PLC0415

        bar = self.action_bar
        if not bar.lines:
            self.notify("no action has run yet", severity="information")
            return
        self.push_screen(ObjectScreen(f"Action log: {bar.title}", "\n".join(bar.lines)))

    # ---- one path for every action ------------------------------------------------------------------
    def on_action_requested(self, message: ActionRequested) -> None:
        """Plan the action and put it to the operator."""
        from llmd_console.actions.catalog import Request  # noqa: PLC0415

        self._plan_action(Request(message.action, message.kind, message.object_namespace, message.object_name))

    @work(group="action-plan", exclusive=True, exit_on_error=False, description="plan an action")
    async def _plan_action(self, request: Request) -> None:
        from llmd_console.actions.catalog import NotApplicable  # noqa: PLC0415
        from llmd_console.actions.safety import explain, permitted  # noqa: PLC0415
        from llmd_console.ui.dialogs import NumberDialog  # noqa: PLC0415

        kube = self.session.client
        if kube is None:
            self.notify("not connected to a cluster yet", severity="warning")
            return
        catalog = self._catalog()
        namespace = catalog.namespace_of(request)
        if self.read_only or self._action_guard.running is not None:
            # Refused (and audited) by the runner without reading anything from the cluster.
            self.propose(_bare_plan(request, namespace), _never)
            return
        bar, reading = self.action_bar, f"{request.action}: reading the cluster for its preview"
        token = bar.preparing(reading)
        try:
            permission = await permitted(kube, request.action_id, namespace)
            self.permissions[request.action_id] = permission
            if not permission.allowed:
                self.refresh_bindings()
                self._record(_bare_plan(request, namespace), "refused", permission.reason)
                self.notify(f"{request.action}: {permission.reason}", title="not allowed", severity="warning")
                return
            count = None
            question = await catalog.question(request)
            if question is not None:
                bar.prepared(token)
                count = await self.push_screen_wait(
                    NumberDialog(question.title, question.question, question.suggested, question.parse)
                )
                if count is None:
                    self._record(_bare_plan(request, namespace), "cancelled", "at the count, before any plan")
                    return
                token = bar.preparing(reading)
            pod = self.snapshot.pods.get(f"{request.namespace}/{request.name}") if request.kind == "Pod" else None
            prepared = await catalog.prepare(request, count, pod)
        except NotApplicable as exc:
            self.notify(str(exc), severity="warning")
            return
        except Exception as exc:  # the API's refusal, a lost connection: said, nothing changed
            self.notify(f"cannot plan {request.action}: {explain(exc)}", severity="error", timeout=15)
            return
        finally:
            bar.prepared(token)
        self.propose(prepared.plan, lambda: prepared.execute(self.action_bar.progress), follow=True)

    def _record(self, plan: Plan, outcome: Outcome, detail: str) -> None:
        """An attempt that ended before the runner: audited all the same."""
        try:
            self.audit.record(plan, self.connection.context, outcome, detail)
        except OSError as exc:
            self.notify(f"the audit log cannot be written ({exc}); see {self.audit.path}", severity="error")

    def propose(self, plan: Plan, execute: Callable[[], Awaitable[str]], *, follow: bool = False) -> None:
        """Run ``plan`` through read-only, one-at-a-time, confirmation, execution and the audit
        log; ``follow`` shows its progress on the action bar."""
        self._carry_out(plan, execute, follow)

    @work(group="actions", exclusive=False, exit_on_error=False, description="mutation")
    async def _carry_out(self, plan: Plan, execute: Callable[[], Awaitable[str]], follow: bool) -> None:
        from llmd_console.actions.runner import carry_out  # noqa: PLC0415
        from llmd_console.ui.confirm import ConfirmScreen  # noqa: PLC0415

        async def confirm(p: Plan) -> bool:
            return bool(await self.push_screen_wait(ConfirmScreen(p)))  # type: ignore[arg-type]

        async def run() -> str:
            if follow:
                self.action_bar.begin(f"{plan.action} {plan.target}")
            return await execute()

        try:
            result = await carry_out(
                plan,
                run,
                confirm=confirm,
                audit=self.audit,
                context=self.connection.context,
                read_only=self.read_only,
                guard=self._action_guard,
            )
        except OSError as exc:
            self.notify(f"the audit log cannot be written ({exc}); see {self.audit.path}", severity="error")
            return
        if follow and result.outcome in ("done", "failed"):
            self.action_bar.end(result.outcome, result.message)
        severity: Any = {"done": "information", "cancelled": "information"}.get(result.outcome, "error")
        self.notify(result.message, severity=severity, timeout=15 if severity == "error" else 6)


def _request(action: str) -> Request:
    from llmd_console.actions.catalog import Request  # noqa: PLC0415

    return Request(action)


def _bare_plan(request: Request, namespace: str) -> Plan:
    """What is recorded for an action refused before it was planned (read-only, another running)."""
    target = request.name or request.kind or request.action
    return Plan(
        action=request.action_id,
        title=f"{request.action} {target}".strip(),
        target=target,
        namespace=namespace,
        changes=(),
        command=(),
    )


async def _never() -> str:
    raise AssertionError("a refused action is never executed")
