"""Metrics: what the console shows, read from the pods or from Prometheus, with history."""
