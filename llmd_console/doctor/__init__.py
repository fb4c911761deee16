"""The doctor: rules over the console's snapshot and the evidence the sources gathered
(log lines, events, metrics, a test inference), each finding with what it saw and the exact
fix. ``engine.evaluate`` runs them all; ``check_cli`` is ``llmd-console check``.

Nothing here imports Textual, the UI or the simulator; this module imports nothing so that
the views can use ``doctor.crashes`` without pulling in the rules.
"""
