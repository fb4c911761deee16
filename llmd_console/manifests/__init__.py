"""The project's own Pattern 1 manifests, rendered from the config's ``deploy:`` and
``resources:`` sections (TPU v6e and GPU variants). Plain JSON dicts, ready for server-side
apply; nothing here talks to a cluster."""

from llmd_console.manifests.render import Manifest, render

__all__ = ["Manifest", "render"]
