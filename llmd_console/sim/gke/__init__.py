"""What Google Cloud provides around the Kubernetes API.

- ``gke_api``: the slice of the GKE Container API that ``gcloud`` calls;
- ``nodepools``: node pools and machine shapes, resized with a provisioning delay;
- ``gateway_listener``: the Gateway's load balancer, the data plane that client
  requests reach.
"""
