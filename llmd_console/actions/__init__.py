"""Changes to the cluster: each is a :class:`~llmd_console.actions.plan.Plan` first (what will
change, the equivalent command, its risk), then a confirmation, then the change, then
an audit record. Nothing here imports Textual."""
