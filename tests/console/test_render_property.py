"""Whatever a remote or user string holds, what the panes draw from it renders without
raising and without a control character reaching the terminal."""

from __future__ import annotations

import io
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.text import Text

from llmd_console.models import Hop, TpuSlice
from llmd_console.sanitize import ONE_FOR_ONE, inert, one_line
from llmd_console.ui.panes.gateway import draw_path
from llmd_console.ui.panes.nodes import draw_chips
from llmd_console.views.pods import pod_model

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def rendered(text: RenderableType) -> str:
    """What a terminal would receive for ``text`` (ANSI styles and all)."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=100, color_system="truecolor").print(text)
    return out.getvalue()


def no_controls_but_styles(output: str) -> bool:
    """Only SGR style sequences, newlines and the text itself: no other control reaches the screen."""
    import re

    stripped = re.sub(r"\x1b\[[0-9;]*m", "", output).replace("\n", "")
    return not any(unicodedata.category(ch) in UNSAFE for ch in stripped)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_the_request_path_and_chips_draw_anything(name: str, fact: str, problem: str) -> None:
    hop = Hop("Gateway", one_line(name), "error", (one_line(fact),), one_line(problem), one_line(fact))
    assert no_controls_but_styles(rendered(draw_path((hop, hop))))
    chips = TpuSlice(
        one_line(name),
        2,
        2,
        (one_line(name), "", one_line(problem), ""),
        "TPU",
        {one_line(name): one_line(fact)},
        1,
        one_line(fact),
        one_line(problem),
    )
    assert no_controls_but_styles(rendered(draw_chips(chips)))


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_a_pod_with_any_names_and_reasons_makes_a_drawable_row(name: str, reason: str, node: str) -> None:
    pod = {
        "metadata": {"name": name, "namespace": "ns", "labels": {reason: name}},
        "spec": {"nodeName": node, "containers": [{"name": name}]},
        "status": {"phase": "Pending", "reason": reason, "containerStatuses": [{"name": name, "restartCount": 1}]},
    }
    row = pod_model(pod, "ns/x")
    for cell in (row.name, row.status, row.node, *row.container_names):
        assert no_controls_but_styles(rendered(Text(cell)))
    # Log lines go through inert; table cells through the one-for-one table.
    assert no_controls_but_styles(rendered(Text(inert(name + reason))))
    assert no_controls_but_styles(rendered(Text((name + reason).translate(ONE_FOR_ONE))))
