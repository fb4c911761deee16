"""The objects the API server keeps and how they are stored and selected.

- ``objects``: helpers for Kubernetes objects held as plain dicts;
- ``quantity``: resource quantities (``500m``, ``16Gi``);
- ``selectors``: label and field selectors;
- ``registry``: the resource types served, built-in and from CRDs;
- ``store``: the object store with resourceVersions, an event log and watches.
"""
