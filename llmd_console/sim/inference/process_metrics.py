"""The process families a simulated pod's metrics endpoint carries: ``process_*`` and
``python_*`` for vLLM's Python API server (prometheus_client's default collectors),
``process_*`` and ``go_*`` for the EPP's Go binary (client_golang's collectors).

The simulator is one Python process serving many pods, so reading its own ``/proc``
would give every pod the same numbers and none of them a pod's. Each pod instead keeps
a :class:`Workload` of what it actually did (requests, bytes, busy time, open
connections) and its start time; the values below are derived from that, so they move
with the traffic the pod served and differ from pod to pod.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)

MiB = 2**20
# Container runtimes (containerd on GKE) give processes this many file descriptors.
MAX_FDS = 1_048_576
# What the Python API server holds at rest (imports, tokenizer, FastAPI) and what one
# request in flight adds (buffers, the detokenizer's state), in bytes.
PYTHON_BASE_RSS = 1_450 * MiB
PYTHON_PER_REQUEST = 3 * MiB
# The EPP: a Go binary with informer caches and the prefix index.
GO_BASE_HEAP = 38 * MiB
GO_PER_REQUEST = 24 * 1024

_MEM = "/memory/classes/"
# client_golang's help texts for the memstats gauges (prometheus/go_collector.go).
MEMSTATS_HELP = {
    "alloc_bytes": f"Number of bytes allocated in heap and currently in use. Equals to {_MEM}heap/objects:bytes.",
    "buck_hash_sys_bytes": "Number of bytes used by the profiling bucket hash table. Equals to "
    f"{_MEM}profiling/buckets:bytes.",
    "gc_sys_bytes": "Number of bytes used for garbage collection system metadata. Equals to "
    f"{_MEM}metadata/other:bytes.",
    "heap_alloc_bytes": "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. "
    f"Equals to {_MEM}heap/objects:bytes.",
    "heap_idle_bytes": f"Number of heap bytes waiting to be used. Equals to {_MEM}heap/released:bytes + "
    f"{_MEM}heap/free:bytes.",
    "heap_inuse_bytes": f"Number of heap bytes that are in use. Equals to {_MEM}heap/objects:bytes + "
    f"{_MEM}heap/unused:bytes",
    "heap_objects": "Number of currently allocated objects. Equals to /gc/heap/objects:objects.",
    "heap_released_bytes": f"Number of heap bytes released to OS. Equals to {_MEM}heap/released:bytes.",
    "heap_sys_bytes": f"Number of heap bytes obtained from system. Equals to {_MEM}heap/objects:bytes + "
    f"{_MEM}heap/unused:bytes + {_MEM}heap/released:bytes + {_MEM}heap/free:bytes.",
    "last_gc_time_seconds": "Number of seconds since 1970 of last garbage collection.",
    "mcache_inuse_bytes": f"Number of bytes in use by mcache structures. Equals to {_MEM}metadata/mcache/inuse:bytes.",
    "mcache_sys_bytes": "Number of bytes used for mcache structures obtained from system. Equals to "
    f"{_MEM}metadata/mcache/inuse:bytes + {_MEM}metadata/mcache/free:bytes.",
    "mspan_inuse_bytes": f"Number of bytes in use by mspan structures. Equals to {_MEM}metadata/mspan/inuse:bytes.",
    "mspan_sys_bytes": "Number of bytes used for mspan structures obtained from system. Equals to "
    f"{_MEM}metadata/mspan/inuse:bytes + {_MEM}metadata/mspan/free:bytes.",
    "next_gc_bytes": "Number of heap bytes when next garbage collection will take place. Equals to "
    "/gc/heap/goal:bytes.",
    "other_sys_bytes": f"Number of bytes used for other system allocations. Equals to {_MEM}other:bytes.",
    "stack_inuse_bytes": "Number of bytes obtained from system for stack allocator in non-CGO environments. "
    f"Equals to {_MEM}heap/stacks:bytes.",
    "stack_sys_bytes": "Number of bytes obtained from system for stack allocator. Equals to "
    f"{_MEM}heap/stacks:bytes + {_MEM}os-stacks:bytes.",
    "sys_bytes": f"Number of bytes obtained from system. Equals to {_MEM}total:byte.",
}


@dataclass
class Workload:
    """What one simulated process has done since it started (updated by its server)."""

    started: float = field(default_factory=time.time)
    requests: int = 0
    in_flight: int = 0
    busy_seconds: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0

    def uptime(self) -> float:
        """Seconds since the process started."""
        return max(time.time() - self.started, 0.0)


class PythonProcessCollector:
    """``process_*`` as prometheus_client's ProcessCollector names them, plus its GC and
    platform collectors' ``python_*``, for one simulated CPython process."""

    def __init__(self, load: Workload, python_version: tuple[int, int, int]) -> None:
        self.load = load
        self.version = python_version

    def collect(self) -> Iterator[Metric]:
        """The families, with values derived from the pod's workload."""
        w = self.load
        rss = PYTHON_BASE_RSS + PYTHON_PER_REQUEST * w.in_flight
        yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.", value=rss * 9)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory size in bytes.", value=rss)
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=round(w.started, 2),
        )
        # An idle asyncio loop wakes for timers; requests cost their time on the loop.
        cpu = 0.004 * w.uptime() + 0.35 * w.busy_seconds
        yield CounterMetricFamily(
            "process_cpu_seconds", "Total user and system CPU time spent in seconds.", value=round(cpu, 2)
        )
        yield GaugeMetricFamily("process_open_fds", "Number of open file descriptors.", value=57 + w.in_flight)
        yield GaugeMetricFamily("process_max_fds", "Maximum number of open file descriptors.", value=MAX_FDS)
        collected = CounterMetricFamily(
            "python_gc_objects_collected", "Objects collected during gc", labels=["generation"]
        )
        uncollectable = CounterMetricFamily(
            "python_gc_objects_uncollectable", "Uncollectable objects found during GC", labels=["generation"]
        )
        collections = CounterMetricFamily(
            "python_gc_collections", "Number of times this generation was collected", labels=["generation"]
        )
        # Startup (imports, model config) collects a steady amount; each request allocates
        # and frees its request objects, so the young generation runs with traffic.
        gen0 = 410 + w.requests * 3
        for gen, runs, objects in ((0, gen0, 9_800 + w.requests * 420), (1, gen0 // 10, 2_100), (2, gen0 // 100, 870)):
            collected.add_metric([str(gen)], float(objects))
            uncollectable.add_metric([str(gen)], 0.0)
            collections.add_metric([str(gen)], float(runs))
        yield collected
        yield uncollectable
        yield collections
        major, minor, patch = self.version
        info = GaugeMetricFamily(
            "python_info",
            "Python platform information",
            labels=["implementation", "major", "minor", "patchlevel", "version"],
        )
        info.add_metric(["CPython", str(major), str(minor), str(patch), f"{major}.{minor}.{patch}"], 1.0)
        yield info


class GoProcessCollector:
    """client_golang's process collector (Linux) and the Go collector's classic families
    for one simulated Go binary."""

    def __init__(self, load: Workload, go_version: str, gomaxprocs: int) -> None:
        self.load = load
        self.go_version = go_version
        self.gomaxprocs = gomaxprocs

    def collect(self) -> Iterator[Metric]:
        """The families, with values derived from the process's workload."""
        yield from self._process()
        yield from self._runtime()

    def _process(self) -> Iterator[Metric]:
        w = self.load
        heap = GO_BASE_HEAP + GO_PER_REQUEST * w.in_flight
        cpu = 0.002 * w.uptime() + 0.6 * w.busy_seconds
        yield CounterMetricFamily(
            "process_cpu_seconds", "Total user and system CPU time spent in seconds.", value=round(cpu, 2)
        )
        yield GaugeMetricFamily("process_max_fds", "Maximum number of open file descriptors.", value=MAX_FDS)
        yield CounterMetricFamily(
            "process_network_receive_bytes",
            "Number of bytes received by the process over the network.",
            value=float(w.bytes_in),
        )
        yield CounterMetricFamily(
            "process_network_transmit_bytes",
            "Number of bytes sent by the process over the network.",
            value=float(w.bytes_out),
        )
        yield GaugeMetricFamily("process_open_fds", "Number of open file descriptors.", value=14 + w.in_flight)
        yield GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory size in bytes.", value=heap + 21 * MiB
        )
        yield GaugeMetricFamily(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=round(w.started, 2),
        )
        yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory size in bytes.", value=heap * 40)
        yield GaugeMetricFamily(
            "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.",
            value=1.8446744073709552e19,
        )

    def _runtime(self) -> Iterator[Metric]:
        w = self.load
        heap = GO_BASE_HEAP + GO_PER_REQUEST * w.in_flight
        allocated_total = heap * 4 + w.requests * 180 * 1024 + int(w.uptime() * 64 * 1024)
        gcs = 12 + allocated_total // (2 * heap)
        pause = Metric(
            "go_gc_duration_seconds",
            "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.",
            "summary",
        )
        quantiles = (("0", 2.1e-05), ("0.25", 4.6e-05), ("0.5", 7.9e-05), ("0.75", 0.00011), ("1", 0.0009))
        for quantile, seconds in quantiles:
            pause.add_sample("go_gc_duration_seconds", {"quantile": quantile}, seconds)
        pause.add_sample("go_gc_duration_seconds_sum", {}, gcs * 0.00009)
        pause.add_sample("go_gc_duration_seconds_count", {}, float(gcs))
        yield pause
        yield GaugeMetricFamily(
            "go_gc_gogc_percent",
            "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC "
            "environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.",
            value=100,
        )
        yield GaugeMetricFamily(
            "go_gc_gomemlimit_bytes",
            "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the "
            "GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from "
            "/gc/gomemlimit:bytes.",
            value=9.223372036854776e18,
        )
        goroutines = 96 + 2 * w.in_flight
        yield GaugeMetricFamily("go_goroutines", "Number of goroutines that currently exist.", value=goroutines)
        info = GaugeMetricFamily("go_info", "Information about the Go environment.", labels=["version"])
        info.add_metric([self.go_version], 1.0)
        yield info
        values = {
            "alloc_bytes": heap,
            "buck_hash_sys_bytes": 1_540_000,
            "gc_sys_bytes": 4 * MiB,
            "heap_alloc_bytes": heap,
            "heap_idle_bytes": heap // 2,
            "heap_inuse_bytes": heap + heap // 8,
            "heap_objects": heap // 96,
            "heap_released_bytes": heap // 4,
            "heap_sys_bytes": heap * 2,
            "last_gc_time_seconds": round(time.time() - 7.5, 3),
            "mcache_inuse_bytes": 2416 * self.gomaxprocs,
            "mcache_sys_bytes": 15704,
            "mspan_inuse_bytes": heap // 90,
            "mspan_sys_bytes": heap // 70,
            "next_gc_bytes": heap * 2,
            "other_sys_bytes": 3 * MiB,
            "stack_inuse_bytes": goroutines * 8192,
            "stack_sys_bytes": goroutines * 8192,
            "sys_bytes": heap * 2 + 12 * MiB,
        }
        for name, value in values.items():
            yield GaugeMetricFamily(f"go_memstats_{name}", MEMSTATS_HELP[name], value=value)
        objects_total = allocated_total // 96
        yield CounterMetricFamily(
            "go_memstats_alloc_bytes",
            "Total number of bytes allocated in heap until now, even if released already. Equals to "
            "/gc/heap/allocs:bytes.",
            value=allocated_total,
        )
        yield CounterMetricFamily(
            "go_memstats_mallocs",
            "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for "
            "go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.",
            value=objects_total,
        )
        yield CounterMetricFamily(
            "go_memstats_frees",
            "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.",
            value=objects_total - heap // 96,
        )
        yield GaugeMetricFamily(
            "go_sched_gomaxprocs_threads",
            "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute "
            "user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.",
            value=self.gomaxprocs,
        )
        yield GaugeMetricFamily("go_threads", "Number of OS threads created.", value=self.gomaxprocs + 6)
