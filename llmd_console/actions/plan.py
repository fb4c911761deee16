"""A plan: what a mutation will change, said before anything changes."""

from __future__ import annotations

import enum
import shlex
from dataclasses import dataclass


class Risk(enum.Enum):
    """How a plan is confirmed."""

    ROUTINE = "routine"  # y/n: the cluster heals by itself (a pod deleted under a Deployment)
    DISRUPTIVE = "disruptive"  # type the target's name: serving stops or money is spent


@dataclass(frozen=True)
class ObjectDiff:
    """What one object would become: ``lines`` is a unified diff (empty: unchanged), ``error``
    the server's refusal of the dry run, if any."""

    label: str  # Kind/name
    change: str  # create | update | unchanged | delete | refused
    lines: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Cost:
    """Accelerator chips and their estimated cost per hour, before and after (prices from the config)."""

    chips_before: int
    chips_after: int
    per_hour_before: float
    per_hour_after: float
    basis: str  # what is counted: "chips the model pods request", "chips of the pool's nodes"

    @property
    def delta(self) -> float:
        """The change in USD per hour (negative: a saving)."""
        return self.per_hour_after - self.per_hour_before

    def text(self) -> str:
        """One line: ``4 -> 0 chips, $5.00/h -> $0.00/h (-$5.00/h)``."""
        sign = "+" if self.delta >= 0 else "-"
        return (
            f"{self.chips_before} -> {self.chips_after} chips, ${self.per_hour_before:.2f}/h -> "
            f"${self.per_hour_after:.2f}/h ({sign}${abs(self.delta):.2f}/h; {self.basis})"
        )


@dataclass(frozen=True)
class Plan:
    """One mutation, described before it runs."""

    action: str  # a stable id for the audit log: delete-pod, restart, scale ...
    title: str  # "Delete pod X"
    target: str  # what it acts on, as the operator names it (and types it for DISRUPTIVE plans)
    namespace: str
    changes: tuple[str, ...]  # what will happen, one line each
    command: tuple[str, ...]  # the equivalent kubectl/gcloud command, as an argument list
    risk: Risk = Risk.ROUTINE
    diffs: tuple[ObjectDiff, ...] = ()  # per object, for deploy, undeploy and rollback
    cost: Cost | None = None
    warnings: tuple[str, ...] = ()
    steps: tuple[tuple[str, ...], ...] = ()  # the commands it runs, one per step, when more than one
    command_input: str = ""  # what the equivalent command reads on stdin (the manifests for ``-f -``)

    @property
    def diff_summary(self) -> str:
        """For the audit log: how many objects are created, updated, unchanged, deleted, refused,
        how many steps, and the cost per hour before and after."""
        counts: dict[str, int] = {}
        for d in self.diffs:
            counts[d.change] = counts.get(d.change, 0) + 1
        parts = [f"{n} {change}" for change, n in sorted(counts.items())]
        if self.steps:
            parts.append(f"{len(self.steps)} step(s)")
        if self.cost is not None:
            parts.append(f"${self.cost.per_hour_before:.2f}/h -> ${self.cost.per_hour_after:.2f}/h")
        return ", ".join(parts)

    @property
    def command_line(self) -> str:
        """The equivalent command, quoted for a shell."""
        return shlex.join(self.command)

    @property
    def confirm_word(self) -> str:
        """What the operator types to confirm a DISRUPTIVE plan."""
        return self.target
