"""A simulated llm-d cluster that speaks the real wire protocols.

Nothing in this package imports Textual or the console's own modules: it is a
stand-in for a cluster, reached only over HTTP by real clients.
"""

from llmd_console.sim.server import SimCluster, SimOptions

__all__ = ["SimCluster", "SimOptions"]
