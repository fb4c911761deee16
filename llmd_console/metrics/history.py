"""History in fixed memory: one ring of timestamps per endpoint and one ring of values per
series, all of the same capacity, so the i-th value of every series of an endpoint belongs to
the i-th scrape.

A value is a C double (8 bytes): a series costs ``8 x capacity`` bytes however long the
console runs; at a 2 s interval and 60 minutes (1,800 points) that is 14.4 KB per series.
A point where a series was absent (not yet emitted, or gone) is NaN, never zero.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping

from llmd_console.metrics.exposition import Labels, Page

NAN = math.nan
SeriesKey = tuple[str, Labels]
"""A series: its sample name and labels."""


class Ring:
    """The last ``capacity`` floats appended, oldest first."""

    __slots__ = ("_next", "_size", "_values")

    def __init__(self, capacity: int, fill: int = 0) -> None:
        """An empty ring, or one holding ``fill`` NaNs (a series that appears after others)."""
        if capacity < 1:
            raise ValueError("a ring needs a capacity of at least 1")
        self._values = array("d", [NAN]) * capacity
        self._size = min(fill, capacity)
        self._next = self._size % capacity

    @property
    def capacity(self) -> int:
        """How many values the ring keeps."""
        return len(self._values)

    def __len__(self) -> int:
        return self._size

    def append(self, value: float) -> None:
        """Add a value, dropping the oldest when full."""
        self._values[self._next] = value
        self._next = (self._next + 1) % len(self._values)
        self._size = min(self._size + 1, len(self._values))

    def __iter__(self) -> Iterator[float]:
        start = (self._next - self._size) % len(self._values)
        for i in range(self._size):
            yield self._values[(start + i) % len(self._values)]

    def tail(self, n: int) -> list[float]:
        """The newest ``n`` values (fewer if the ring holds fewer), oldest first."""
        n = min(n, self._size)
        cap = len(self._values)
        return [self._values[(self._next - n + i) % cap] for i in range(n)]

    def last(self) -> float:
        """The newest value (NaN when empty)."""
        return self._values[(self._next - 1) % len(self._values)] if self._size else NAN

    @property
    def nbytes(self) -> int:
        """Bytes held by the values."""
        return self._values.itemsize * len(self._values)


class EndpointHistory:
    """Every kept series of one endpoint (a pod's metrics port), scrape by scrape."""

    def __init__(self, capacity: int, max_series: int = 4000) -> None:
        """History of ``capacity`` scrapes, for at most ``max_series`` series (more are not kept)."""
        self.capacity = capacity
        self.max_series = max_series
        self.times = Ring(capacity)
        self.series: dict[SeriesKey, Ring] = {}
        self.dropped = 0  # series not kept because of max_series
        self.error = ""  # why the last scrape gave nothing ("" when it worked)
        self.names: frozenset[str] = frozenset()  # sample names the endpoint exposed last time
        self.families: frozenset[str] = frozenset()  # and its families (TYPE lines, even without samples)

    def record(self, when: float, page: Page) -> None:
        """Add one scrape: every series gets a value, NaN where the page did not have it."""
        seen: set[SeriesKey] = set()
        for name, samples in page.samples.items():
            for labels, value in samples:
                key = (name, labels)
                ring = self.series.get(key)
                if ring is None:
                    if len(self.series) >= self.max_series:
                        self.dropped += 1
                        continue
                    # A series that appears later is NaN for the scrapes before it.
                    ring = self.series[key] = Ring(self.capacity, fill=len(self.times))
                ring.append(value)
                seen.add(key)
        for key, ring in self.series.items():
            if key not in seen:
                ring.append(NAN)
        self.times.append(when)
        self.names = page.names
        self.families = page.families
        self.error = ""

    def failed(self, error: str) -> None:
        """The scrape gave nothing: the reason is kept, and the history is left as it was (a gap
        in time, not a row of zeros)."""
        self.error = error

    def matching(self, name: str) -> Mapping[Labels, Ring]:
        """The series of one sample name, by labels."""
        return {labels: ring for (series_name, labels), ring in self.series.items() if series_name == name}

    @property
    def nbytes(self) -> int:
        """Bytes held by the values of this endpoint's history."""
        return self.times.nbytes + sum(ring.nbytes for ring in self.series.values())
