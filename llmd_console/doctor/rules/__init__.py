"""The doctor's rules, by area; each module's ``RULES`` lists its pure functions
``(Snapshot, Evidence) -> list[Finding]``."""
