"""A simulated llm-d cluster that speaks the real wire protocols.

Nothing in this package imports Textual or the console's own modules: it is a
stand-in for a cluster, reached only over HTTP by real clients.

- ``runtime``: assembling and running a cluster (``SimCluster``), and the state its parts share;
- ``apiserver``: the Kubernetes API server;
- ``storage``: objects, resource types, selectors and the store;
- ``controllers``: what makes the world move (scheduler, kubelet, workloads, gateway);
- ``programs``: what runs inside containers (vLLM, the endpoint picker);
- ``inference``: the inference plane (engine model, metrics, OpenAI API, picker);
- ``gke``: the GKE Container API, node pools and the Gateway's load balancer;
- ``worlds``: the worlds a cluster starts with and the fault scenarios.
"""

from llmd_console.sim.runtime.server import SimCluster, SimOptions

__all__ = ["SimCluster", "SimOptions"]
