"""What the simulated cluster contains.

- ``world``: the worlds it starts with (the runbook's Pattern 1 on TPU or GPU, or a large
  generated cluster for benchmarks) and their names and manifests;
- ``scenarios``: fault scenarios that change the world the way a mistake or a cloud
  problem would.
"""
