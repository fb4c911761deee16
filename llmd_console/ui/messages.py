"""Messages between workers, panes and the app (facts in the past tense)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from llmd_console.cluster.watch import Batch


@dataclass
class KubeBatchArrived(Message):
    """A batch of watch changes is ready to apply."""

    batch: Batch


@dataclass
class PodSelected(Message):
    """The operator moved to a pod (``key`` is namespace/name)."""

    key: str
