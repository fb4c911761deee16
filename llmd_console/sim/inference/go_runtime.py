"""The Go runtime's own metrics as client_golang exposes them with
``WithGoCollectorRuntimeMetrics(MetricsAll)`` (controller-runtime v0.22's registry does):
every ``runtime/metrics`` entry of Go 1.25 (the list client_golang generates in
``prometheus/go_collector_metrics_go125_test.go``), named by its rule (``/a/b-c:unit`` ->
``go_a_b_c_unit``, ``_total`` for cumulative ones).

Help texts are only the ``Sourced from <path>.`` suffix client_golang appends to Go's own
description. Values are derived from the simulated process's workload (CPU from its busy
time, heap from requests in flight); the ``godebug`` counters stay 0 because the binary
runs with Go's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from llmd_console.sim.inference.process_metrics import GO_BASE_HEAP, GO_PER_REQUEST, MiB, Workload

# (runtime/metrics name, kind): c cumulative (counter), g gauge, h histogram.
RUNTIME_METRICS = (
    ("/cgo/go-to-c-calls:calls", "c"),
    ("/cpu/classes/gc/mark/assist:cpu-seconds", "c"),
    ("/cpu/classes/gc/mark/dedicated:cpu-seconds", "c"),
    ("/cpu/classes/gc/mark/idle:cpu-seconds", "c"),
    ("/cpu/classes/gc/pause:cpu-seconds", "c"),
    ("/cpu/classes/gc/total:cpu-seconds", "c"),
    ("/cpu/classes/idle:cpu-seconds", "c"),
    ("/cpu/classes/scavenge/assist:cpu-seconds", "c"),
    ("/cpu/classes/scavenge/background:cpu-seconds", "c"),
    ("/cpu/classes/scavenge/total:cpu-seconds", "c"),
    ("/cpu/classes/total:cpu-seconds", "c"),
    ("/cpu/classes/user:cpu-seconds", "c"),
    ("/gc/cycles/automatic:gc-cycles", "c"),
    ("/gc/cycles/forced:gc-cycles", "c"),
    ("/gc/cycles/total:gc-cycles", "c"),
    ("/gc/heap/allocs-by-size:bytes", "h"),
    ("/gc/heap/allocs:bytes", "c"),
    ("/gc/heap/allocs:objects", "c"),
    ("/gc/heap/frees-by-size:bytes", "h"),
    ("/gc/heap/frees:bytes", "c"),
    ("/gc/heap/frees:objects", "c"),
    ("/gc/heap/goal:bytes", "g"),
    ("/gc/heap/live:bytes", "g"),
    ("/gc/heap/objects:objects", "g"),
    ("/gc/heap/tiny/allocs:objects", "c"),
    ("/gc/limiter/last-enabled:gc-cycle", "g"),
    ("/gc/pauses:seconds", "h"),
    ("/gc/scan/globals:bytes", "g"),
    ("/gc/scan/heap:bytes", "g"),
    ("/gc/scan/stack:bytes", "g"),
    ("/gc/scan/total:bytes", "g"),
    ("/gc/stack/starting-size:bytes", "g"),
    ("/godebug/non-default-behavior/allowmultiplevcs:events", "c"),
    ("/godebug/non-default-behavior/asynctimerchan:events", "c"),
    ("/godebug/non-default-behavior/containermaxprocs:events", "c"),
    ("/godebug/non-default-behavior/embedfollowsymlinks:events", "c"),
    ("/godebug/non-default-behavior/execerrdot:events", "c"),
    ("/godebug/non-default-behavior/fips140ems:events", "c"),
    ("/godebug/non-default-behavior/gocachehash:events", "c"),
    ("/godebug/non-default-behavior/gocachetest:events", "c"),
    ("/godebug/non-default-behavior/gocacheverify:events", "c"),
    ("/godebug/non-default-behavior/gotestjsonbuildtext:events", "c"),
    ("/godebug/non-default-behavior/gotypesalias:events", "c"),
    ("/godebug/non-default-behavior/htmlmetacontenturlescape:events", "c"),
    ("/godebug/non-default-behavior/http2client:events", "c"),
    ("/godebug/non-default-behavior/http2server:events", "c"),
    ("/godebug/non-default-behavior/httpcookiemaxnum:events", "c"),
    ("/godebug/non-default-behavior/httplaxcontentlength:events", "c"),
    ("/godebug/non-default-behavior/httpmuxgo121:events", "c"),
    ("/godebug/non-default-behavior/httpservecontentkeepheaders:events", "c"),
    ("/godebug/non-default-behavior/installgoroot:events", "c"),
    ("/godebug/non-default-behavior/multipartmaxheaders:events", "c"),
    ("/godebug/non-default-behavior/multipartmaxparts:events", "c"),
    ("/godebug/non-default-behavior/multipathtcp:events", "c"),
    ("/godebug/non-default-behavior/netedns0:events", "c"),
    ("/godebug/non-default-behavior/panicnil:events", "c"),
    ("/godebug/non-default-behavior/randautoseed:events", "c"),
    ("/godebug/non-default-behavior/randseednop:events", "c"),
    ("/godebug/non-default-behavior/rsa1024min:events", "c"),
    ("/godebug/non-default-behavior/tarinsecurepath:events", "c"),
    ("/godebug/non-default-behavior/tls10server:events", "c"),
    ("/godebug/non-default-behavior/tls3des:events", "c"),
    ("/godebug/non-default-behavior/tlsmaxrsasize:events", "c"),
    ("/godebug/non-default-behavior/tlsrsakex:events", "c"),
    ("/godebug/non-default-behavior/tlssha1:events", "c"),
    ("/godebug/non-default-behavior/tlsunsafeekm:events", "c"),
    ("/godebug/non-default-behavior/updatemaxprocs:events", "c"),
    ("/godebug/non-default-behavior/urlmaxqueryparams:events", "c"),
    ("/godebug/non-default-behavior/winreadlinkvolume:events", "c"),
    ("/godebug/non-default-behavior/winsymlink:events", "c"),
    ("/godebug/non-default-behavior/x509keypairleaf:events", "c"),
    ("/godebug/non-default-behavior/x509negativeserial:events", "c"),
    ("/godebug/non-default-behavior/x509rsacrt:events", "c"),
    ("/godebug/non-default-behavior/x509sha256skid:events", "c"),
    ("/godebug/non-default-behavior/x509usefallbackroots:events", "c"),
    ("/godebug/non-default-behavior/x509usepolicies:events", "c"),
    ("/godebug/non-default-behavior/zipinsecurepath:events", "c"),
    ("/memory/classes/heap/free:bytes", "g"),
    ("/memory/classes/heap/objects:bytes", "g"),
    ("/memory/classes/heap/released:bytes", "g"),
    ("/memory/classes/heap/stacks:bytes", "g"),
    ("/memory/classes/heap/unused:bytes", "g"),
    ("/memory/classes/metadata/mcache/free:bytes", "g"),
    ("/memory/classes/metadata/mcache/inuse:bytes", "g"),
    ("/memory/classes/metadata/mspan/free:bytes", "g"),
    ("/memory/classes/metadata/mspan/inuse:bytes", "g"),
    ("/memory/classes/metadata/other:bytes", "g"),
    ("/memory/classes/os-stacks:bytes", "g"),
    ("/memory/classes/other:bytes", "g"),
    ("/memory/classes/profiling/buckets:bytes", "g"),
    ("/memory/classes/total:bytes", "g"),
    ("/sched/goroutines:goroutines", "g"),
    ("/sched/latencies:seconds", "h"),
    ("/sched/pauses/stopping/gc:seconds", "h"),
    ("/sched/pauses/stopping/other:seconds", "h"),
    ("/sched/pauses/total/gc:seconds", "h"),
    ("/sched/pauses/total/other:seconds", "h"),
    ("/sync/mutex/wait/total:seconds", "c"),
)
SIZE_CLASSES = (8.0, 24.0, 64.0, 144.0, 320.0, 704.0, 1536.0, 3072.0, 6144.0, 13568.0, 27264.0)
PAUSE_BUCKETS = (6.4e-08, 6.399e-07, 7.167e-06, 8.191e-05, 0.000917503, 0.010485759, 0.117440511)


def metric_name(path: str, kind: str) -> str:
    """client_golang's Prometheus name for a runtime/metrics entry."""
    name = "go_" + re.sub(r"[/:\-]", "_", path[1:])
    return name + "_total" if kind == "c" else name


class GoRuntimeCollector:
    """The ``go_*`` runtime/metrics families of one simulated Go process."""

    def __init__(self, load: Workload, gomaxprocs: int) -> None:
        self.load = load
        self.gomaxprocs = gomaxprocs

    def collect(self) -> Iterator[Metric]:
        """Every family of :data:`RUNTIME_METRICS`."""
        values = self._values()
        for path, kind in RUNTIME_METRICS:
            name = metric_name(path, kind)
            doc = f"Sourced from {path}."
            if kind == "h":
                yield self._histogram(name, doc, path)
            elif kind == "c":
                yield CounterMetricFamily(name, doc, value=values.get(path, 0.0))
            else:
                yield GaugeMetricFamily(name, doc, value=values.get(path, 0.0))

    def _values(self) -> dict[str, float]:
        w = self.load
        heap = GO_BASE_HEAP + GO_PER_REQUEST * w.in_flight
        uptime = w.uptime()
        user = 0.002 * uptime + 0.6 * w.busy_seconds
        gc = user * 0.08
        total = uptime * self.gomaxprocs
        allocated = heap * 4 + w.requests * 180 * 1024 + int(uptime * 64 * 1024)
        cycles = 12 + allocated // (2 * heap)
        goroutines = 96 + 2 * w.in_flight
        stacks = goroutines * 8192
        classes = {
            "/memory/classes/heap/free:bytes": heap // 3,
            "/memory/classes/heap/objects:bytes": heap,
            "/memory/classes/heap/released:bytes": heap // 4,
            "/memory/classes/heap/stacks:bytes": stacks,
            "/memory/classes/heap/unused:bytes": heap // 8,
            "/memory/classes/metadata/mcache/free:bytes": 15704 - 2416 * min(self.gomaxprocs, 6),
            "/memory/classes/metadata/mcache/inuse:bytes": 2416 * min(self.gomaxprocs, 6),
            "/memory/classes/metadata/mspan/free:bytes": heap // 300,
            "/memory/classes/metadata/mspan/inuse:bytes": heap // 90,
            "/memory/classes/metadata/other:bytes": 4 * MiB,
            "/memory/classes/os-stacks:bytes": 0,
            "/memory/classes/other:bytes": 3 * MiB,
            "/memory/classes/profiling/buckets:bytes": 1_540_000,
        }
        out: dict[str, float] = {k: float(v) for k, v in classes.items()}
        out["/memory/classes/total:bytes"] = float(sum(classes.values()))
        out.update(
            {
                "/cgo/go-to-c-calls:calls": float(1 + w.requests),
                "/cpu/classes/gc/mark/assist:cpu-seconds": gc * 0.1,
                "/cpu/classes/gc/mark/dedicated:cpu-seconds": gc * 0.6,
                "/cpu/classes/gc/mark/idle:cpu-seconds": gc * 0.25,
                "/cpu/classes/gc/pause:cpu-seconds": gc * 0.05,
                "/cpu/classes/gc/total:cpu-seconds": gc,
                "/cpu/classes/idle:cpu-seconds": max(total - user - gc, 0.0),
                "/cpu/classes/scavenge/assist:cpu-seconds": 0.0,
                "/cpu/classes/scavenge/background:cpu-seconds": user * 0.001,
                "/cpu/classes/scavenge/total:cpu-seconds": user * 0.001,
                "/cpu/classes/total:cpu-seconds": total,
                "/cpu/classes/user:cpu-seconds": user,
                "/gc/cycles/automatic:gc-cycles": float(cycles),
                "/gc/cycles/forced:gc-cycles": 0.0,
                "/gc/cycles/total:gc-cycles": float(cycles),
                "/gc/heap/allocs:bytes": float(allocated),
                "/gc/heap/allocs:objects": float(allocated // 96),
                "/gc/heap/frees:bytes": float(allocated - heap),
                "/gc/heap/frees:objects": float((allocated - heap) // 96),
                "/gc/heap/goal:bytes": float(heap * 2),
                "/gc/heap/live:bytes": float(heap * 7 // 8),
                "/gc/heap/objects:objects": float(heap // 96),
                "/gc/heap/tiny/allocs:objects": float(allocated // 960),
                "/gc/limiter/last-enabled:gc-cycle": 0.0,
                "/gc/scan/globals:bytes": 410_000.0,
                "/gc/scan/heap:bytes": float(heap * 3 // 4),
                "/gc/scan/stack:bytes": float(stacks // 4),
                "/gc/scan/total:bytes": float(410_000 + heap * 3 // 4 + stacks // 4),
                "/gc/stack/starting-size:bytes": 2048.0,
                "/sched/goroutines:goroutines": float(goroutines),
                "/sync/mutex/wait/total:seconds": w.busy_seconds * 0.002,
            }
        )
        return out

    def _histogram(self, name: str, doc: str, path: str) -> Metric:
        w = self.load
        family = HistogramMetricFamily(name, doc)
        buckets: tuple[float, ...]
        if "by-size" in path:
            objects = (GO_BASE_HEAP * 4 + w.requests * 180 * 1024) // 96
            buckets, count, total = SIZE_CLASSES, objects, objects * 96.0
        else:
            # Scheduling latencies come with every goroutine wake-up; GC pauses with every cycle.
            count = 12 + w.requests * (6 if "latencies" in path else 1)
            buckets, total = PAUSE_BUCKETS, count * 2.0e-5
        cumulative = [(str(b), float(count) * min(1.0, 0.2 + 0.1 * i)) for i, b in enumerate(buckets)]
        family.add_metric([], [*cumulative, ("+Inf", float(count))], sum_value=total)
        return family
