"""One module per pane; importing this package registers them, in this order."""

from llmd_console.ui.panes import nodes, pods, logs, gateway, metrics, prompt, doctor  # noqa: F401, I001 - order is the panes' order
