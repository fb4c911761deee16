"""Everything that talks to the cluster: the Kubernetes API client, watches and log streams.

Nothing here imports Textual, the UI or the simulator."""
