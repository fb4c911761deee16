"""Recording what the console receives, and replaying it without a cluster.

A recording is a gzip'd file of JSON lines (``docs/recording.md`` has every field): a header
(format ``llmd-console-recording``, version ``[major, minor]``, the start time, context and
namespace), then one record per thing received, each with ``t``, seconds since the start, and
``k``, its type: ``reset``, ``batch`` (watch events), ``conn``, ``log``, ``series`` and
``metrics``, ``findings``, ``prompt``, ``mark``, and ``end`` when the recorder finished.
Secrets never go in (:mod:`~llmd_console.recording.redact` says what is dropped or redacted).

:mod:`.format` writes and reads the file (bounded), :mod:`.recorder` turns what the console
receives into records, :mod:`.player` turns them back into snapshots, log chunks, metric
histories and findings at any time. None of it imports Textual.
"""
