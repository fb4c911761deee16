"""Messages between workers, panes and the app: facts in the past tense, or requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.message import Message

from llmd_console.inference.request import PromptRequest
from llmd_console.models import Connection, LogChunk, LogTarget, Snapshot
from llmd_console.ui.load_plan import LoadPlan


@dataclass
class SnapshotArrived(Message):
    """The session made a new snapshot."""

    snapshot: Snapshot


@dataclass
class ConnectionChanged(Message):
    """The session's connection moved to another phase (or its reasons changed)."""

    connection: Connection


@dataclass
class PodSelected(Message):
    """The operator moved to a pod (``key`` is namespace/name) in ``origin``."""

    key: str
    origin: object = None


@dataclass
class LogsRequested(Message):
    """The logs pane wants ``target``'s log streamed to it."""

    target: LogTarget


@dataclass
class LogChunkArrived(Message):
    """A log stream delivered lines or a state change."""

    chunk: LogChunk


@dataclass
class PodViewRequested(Message):
    """The operator asked to read pod ``key`` described (as kubectl describe) or as YAML."""

    key: str
    view: Literal["describe", "yaml"]


@dataclass
class PromptSubmitted(Message):
    """The prompt pane asks for ``request`` to be sent."""

    request: PromptRequest


@dataclass
class PromptCancelRequested(Message):
    """The operator asked to stop the request in flight (``load``: the load run)."""

    load: bool = False


@dataclass
class PromptOptionsRequested(Message):
    """The prompt pane asks for its options dialog, with the served ``models`` to choose from."""

    request: PromptRequest
    models: tuple[str, ...]


@dataclass
class LoadRequested(Message):
    """The operator asked for a load run of ``plan`` with the prompt pane's request settings."""

    plan: LoadPlan
    request: PromptRequest
    label: str


@dataclass
class ActionRequested(Message):
    """The operator asked for console action ``action`` (an action id such as ``restart``,
    ``scale``, ``scale-node-pool``, ``scale-to-zero``) on ``kind`` ``object_namespace/object_name`` (empty
    when the action has a default target, as the configured TPU node pool). The app plans it,
    shows the preview and asks for confirmation; nothing changes before that."""

    action: str
    kind: str = ""
    object_namespace: str = ""  # not ``namespace``: a Message's class attribute of that name names its handlers
    object_name: str = ""
