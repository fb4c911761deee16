"""A session with one cluster, without a screen: connect from a kubeconfig and
context, keep every kind watched, apply each batch to the state, and report the
snapshots and the connection as typed values.

The console's app renders a session; ``llmd-console check`` and the doctor can run
one headless. It never imports Textual.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from llmd_console.cluster.kube import KINDS, KubeClient, KubeError
from llmd_console.cluster.watch import Batch, WatchHub
from llmd_console.config import Config
from llmd_console.models import Connection, Phase, Snapshot
from llmd_console.state import ClusterState

ALL_NAMESPACES = "all"


@dataclass(frozen=True)
class Target:
    """Which cluster to open (None: as kubectl would choose)."""

    kubeconfig: str | None
    context: str | None
    namespace: str | None


class SessionObserver(Protocol):
    """Sees what the session receives, as it receives it (a recorder)."""

    def reset(self, namespace: str | None) -> None:
        """The state starts over (empty), watching ``namespace`` (None: every one)."""

    def batch(self, batch: Batch) -> None:
        """A watch batch, about to be applied."""

    def connection(self, connection: Connection) -> None:
        """The connection moved."""


class Session:
    """Connects, watches, and hands out a snapshot per batch and every change of connection."""

    def __init__(
        self,
        config: Config,
        target: Target,
        *,
        on_snapshot: Callable[[Snapshot], None] = lambda _: None,
        on_connection: Callable[[Connection], None] = lambda _: None,
        wait_ready: threading.Event | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.target = target
        self.on_snapshot = on_snapshot
        self.on_connection = on_connection
        self.wait_ready = wait_ready
        self.now = now
        self.namespace = target.namespace or config.cluster.namespace
        self.client: KubeClient | None = None
        self.hub: WatchHub | None = None
        self.connection = Connection(context=target.context or config.cluster.context or "")
        self.state = self._new_state()
        self._hub_task: asyncio.Task[None] | None = None
        self._restart = False
        self.observer: SessionObserver | None = None

    @property
    def snapshot(self) -> Snapshot:
        """The latest snapshot."""
        return self.state.snapshot

    @property
    def watched_namespace(self) -> str | None:
        """The namespace watched (None: every namespace)."""
        return None if self.namespace == ALL_NAMESPACES else self.namespace

    def _new_state(self) -> ClusterState:
        return ClusterState(
            KINDS, namespace=self.watched_namespace, resources=self.config.resources, prices=self.config.prices
        )

    # ---- running ------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, then watch until cancelled (a failed connection ends it, in phase FAILED)."""
        if not await self._connect():
            return
        while True:
            self.state = self._new_state()
            if self.observer is not None:
                self.observer.reset(self.watched_namespace)
            self.on_snapshot(self.state.snapshot)
            assert self.client is not None
            self.hub = WatchHub(
                self.client,
                list(KINDS.values()),
                self.watched_namespace,
                self._apply,
                batch_ms=self.config.refresh.batch_ms,
                reconnect_max=self.config.refresh.reconnect_max_seconds,
                liveness_seconds=self.config.refresh.liveness_seconds,
            )
            self._hub_task = asyncio.create_task(self.hub.run())
            try:
                await self._hub_task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if self._restart and not (current is not None and current.cancelling()):
                    self._restart = False
                    continue
                raise

    def switch_namespace(self, namespace: str) -> None:
        """Watch another namespace (or ``all``): the state starts over."""
        self.namespace = namespace
        if self._hub_task is not None and not self._hub_task.done():
            self._restart = True
            self._hub_task.cancel()
        else:
            self.state = self._new_state()

    def stopped(self, reason: str) -> None:
        """The session's task ended by an error of its own (not the network): say so for good."""
        self._set_connection(phase=Phase.FAILED, reason=reason)

    async def close(self) -> None:
        """Release the connection."""
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def _connect(self) -> bool:
        if self.wait_ready is not None:
            # The in-process simulator starts alongside the first frame.
            await asyncio.to_thread(self.wait_ready.wait, 60)
        try:
            self.client = await KubeClient.connect(
                self.target.kubeconfig,
                self.target.context or self.config.cluster.context,
                None,
                self.config.cluster.request_timeout_seconds,
            )
        except KubeError as exc:
            self._set_connection(phase=Phase.FAILED, reason=exc.message or str(exc))
            return False
        except Exception as exc:  # the kubeconfig loader's own error types
            self._set_connection(phase=Phase.FAILED, reason=f"cannot use the kubeconfig: {exc}")
            return False
        if self.target.namespace is None and self.config.cluster.namespace == "":
            self.namespace = self.client.namespace
        self._set_connection(context=self.client.context, server=self.client.server)
        return True

    # ---- batches and the connection -------------------------------------------------------------
    def _apply(self, batch: Batch) -> None:
        if self.observer is not None:
            self.observer.batch(batch)
        snapshot = self.state.apply(batch)
        if batch.states:
            self._update_connection()
        elif self.connection.phase is Phase.CONNECTED:
            self.connection = replace(self.connection, last_live=self.now())
        self.on_snapshot(snapshot)

    def _update_connection(self) -> None:
        snapshot = self.state.snapshot
        reconnecting = [s for s in snapshot.kinds.values() if s.status == "reconnecting"]
        loading = [k for k in KINDS if snapshot.status_of(k).status == "loading"]
        forbidden, missing = snapshot.unavailable("forbidden"), snapshot.unavailable("missing")
        previous = self.connection.phase
        retry_at = None
        if reconnecting:
            phase, reason = Phase.RECONNECTING, reconnecting[0].message
            # The soonest retry among the kinds: that is when the console will know more.
            retry_at = min((s.retry_at for s in reconnecting if s.retry_at is not None), default=None)
        elif loading:
            # Relisting after an outage is still part of the outage.
            phase = Phase.RECONNECTING if previous is Phase.RECONNECTING else Phase.CONNECTING
            reason = self.connection.reason if phase is Phase.RECONNECTING else ""
        else:
            phase, reason = Phase.CONNECTED, ""
        self._set_connection(phase=phase, reason=reason, forbidden=forbidden, missing=missing, retry_at=retry_at)

    def _set_connection(self, **changes: object) -> None:
        old = self.connection
        new = replace(old, **changes)  # type: ignore[arg-type]
        now = self.now()
        if new.phase is not old.phase or new.since is None:
            new = replace(new, since=now)
        if new.phase is Phase.CONNECTED:
            new = replace(new, last_live=now)
        if new != old:
            self.connection = new
            if self.observer is not None:
                self.observer.connection(new)
            self.on_connection(new)
