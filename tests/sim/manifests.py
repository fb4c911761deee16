"""Small manifests the API-semantics tests apply."""

from __future__ import annotations

WEB_DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {namespace}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env: [{env}]
"""


def web_deployment(namespace: str, replicas: int = 1, env: str = "") -> str:
    """A one-container Deployment ``web`` (``env``: flow-style YAML items of its env list)."""
    return WEB_DEPLOYMENT.format(namespace=namespace, replicas=replicas, env=env)
