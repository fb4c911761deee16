"""The load generator's core: prompts, arrival profiles, the runner that drives the request
client, live statistics a pane can poll, and the run's report.

Nothing here imports Textual or the simulator: ``llmd-console load`` runs it headless, and
the prompt pane polls ``LiveStats.snapshot()`` from the UI.
"""
