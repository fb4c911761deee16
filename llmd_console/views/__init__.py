"""Derived views of the cluster state that the panes draw: rows, topology, the request path."""
