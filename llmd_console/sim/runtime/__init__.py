"""Assembling and running one simulated cluster, and the state its parts share.

- ``server``: ``SimCluster`` and ``SimOptions``: builds the cluster and serves it, in the
  caller's event loop or in a thread;
- ``context``: ``SimContext``, the state the API server, controllers and programs share;
- ``clock``: simulated time, running faster than the wall clock;
- ``processes``: the processes listening in pods;
- ``logs``: container logs and their followers;
- ``control``: the simulator's control endpoint for switching scenarios.
"""
