"""The simulated Kubernetes API server: what ``kubectl`` and the ``kubernetes`` client talk to.

- ``api``: the REST handlers (discovery, CRUD, patch, apply, scale, watch, logs, proxy);
- ``wire``: request and response encoding (JSON, YAML, ``Status`` bodies) and REST path parsing;
- ``protobuf``: decoding the protobuf bodies kubectl's typed commands send;
- ``errors``: API errors as ``Status`` objects (the store raises them too);
- ``admission``: defaulting and validation on create and update;
- ``patching``: merge, JSON and strategic merge patches, and apply;
- ``discovery``: ``/version``, ``/api``, ``/apis`` and the OpenAPI index;
- ``tables``: server-side ``Table`` responses for ``kubectl get``, with ``jsonpath``
  for CRD printer columns;
- ``streams``: watch streams and pod logs;
- ``proxy``: the pod and service proxy to simulated processes;
- ``podstreams``: ``pods/exec``, ``pods/attach`` and ``pods/portforward``, with ``channels``
  (the ``*.channel.k8s.io`` framing over WebSocket), ``spdy`` (SPDY/3.1 framing),
  ``tunnels`` (SPDY in WebSocket or after an HTTP upgrade), ``spdy_channels`` (exec and
  attach over SPDY) and ``portforward``.
"""
