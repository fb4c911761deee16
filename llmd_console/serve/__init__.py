"""``llmd-console serve``: the console (or the demo) in a web browser, through textual-serve."""
