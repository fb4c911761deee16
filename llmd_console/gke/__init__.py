"""GKE node pools through the Container API (``container.googleapis.com/v1``): list, get,
resize, and the operations a resize starts. The endpoint is configurable (the simulator serves
the same API); credentials come from gcloud's application default or user token."""

from llmd_console.gke.client import GkeError, NodePoolClient, NodePoolInfo

__all__ = ["GkeError", "NodePoolClient", "NodePoolInfo"]
