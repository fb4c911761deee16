"""llmd-console: a terminal operations console for llm-d inference deployments."""

__version__ = "0.1.0"
