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
class Plan:
    """One mutation, described before it runs."""

    action: str  # a stable id for the audit log: delete-pod, restart, scale ...
    title: str  # "Delete pod X"
    target: str  # what it acts on, as the operator names it (and types it for DISRUPTIVE plans)
    namespace: str
    changes: tuple[str, ...]  # what will happen, one line each
    command: tuple[str, ...]  # the equivalent kubectl/gcloud command, as an argument list
    risk: Risk = Risk.ROUTINE

    @property
    def command_line(self) -> str:
        """The equivalent command, quoted for a shell."""
        return shlex.join(self.command)

    @property
    def confirm_word(self) -> str:
        """What the operator types to confirm a DISRUPTIVE plan."""
        return self.target
