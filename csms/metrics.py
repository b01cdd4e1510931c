"""Prometheus metrics: the only module that imports prometheus_client.

Each central system has its own registry (tests run several in one process). The per-frame
series are plain numbers updated without locks and exported on scrape.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from csms.domain.models import CommandRecord

__all__ = ["UNKNOWN_ACTION", "Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Histogram:
    """A histogram for one label set, lock-free: the event loop is its only writer."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect.bisect_left(_LATENCY_BUCKETS, seconds)] += 1
        self.count += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, []
        for bound, hits in zip((*_LATENCY_BUCKETS, math.inf), self.buckets, strict=True):
            running += hits
            out.append(("+Inf" if bound == math.inf else repr(bound), float(running)))
        return out


class _PerFrameCollector(Collector):
    """The per-frame series, kept as plain ints and floats and turned into metrics on scrape.

    prometheus_client's own Counter and Histogram take a lock on every update, which cost about a
    fifth of a Heartbeat's handling time here; the event loop needs no lock.
    """

    def __init__(self, count_by_version: Callable[[], dict[str, int]]) -> None:
        self._count_by_version = count_by_version
        self.frames: dict[tuple[str, str], int] = {}
        self.handlers: dict[str, _Histogram] = {}
        self.message_log_dropped = 0

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "csms_chargers_connected", "Chargers connected now", labels=["ocpp_version"]
        )
        counts = {"1.6": 0, "2.0.1": 0, **self._count_by_version()}
        for version, count in sorted(counts.items()):
            gauge.add_metric([version], count)
        yield gauge
        frames = CounterMetricFamily(
            "csms_ocpp_frames",
            "OCPP frames by direction and action",
            labels=["direction", "action"],
        )
        for (direction, action), count in sorted(self.frames.items()):
            frames.add_metric([direction, action], count)
        yield frames
        handlers = HistogramMetricFamily(
            "csms_ocpp_handler_seconds",
            "Time to handle a charger's CALL, commit included",
            labels=["action"],
        )
        for action, histogram in sorted(self.handlers.items()):
            handlers.add_metric([action], histogram.cumulative(), histogram.total)
        yield handlers
        yield CounterMetricFamily(
            "csms_message_log_dropped",
            "Frames left out of the OCPP message log because its buffer was full or a write failed",
            value=self.message_log_dropped,
        )


class _Recorder(Protocol):
    def record(
        self,
        cp_id: str,
        direction: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        frame: str,
    ) -> None: ...


class _CountingRecorder:
    def __init__(self, inner: _Recorder, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def record(
        self,
        cp_id: str,
        direction: str,
        message_type: int,
        unique_id: str | None,
        action: str | None,
        frame: str,
    ) -> None:
        self._metrics.frame(direction, action)
        self._inner.record(cp_id, direction, message_type, unique_id, action, frame)


UNKNOWN_ACTION = "unknown"
"""The one label every action name outside the OCPP versions' schemas is counted under."""


class Metrics:
    def __init__(
        self,
        count_by_version: Callable[[], dict[str, int]],
        *,
        known_actions: frozenset[str],
    ) -> None:
        # A charger chooses the action names it sends: only the versions' own become labels, or
        # one sending endless new names would grow memory and every scrape without bound.
        self._known_actions = known_actions
        self.registry = CollectorRegistry()
        self._per_frame = _PerFrameCollector(count_by_version)
        self.registry.register(self._per_frame)
        # Per command and per batch, not per frame: prometheus_client's own types are fine.
        self._commands = Counter(
            "csms_commands_total",
            "Operator commands by action and result",
            ["action", "result"],
            registry=self.registry,
        )
        self._db_write_seconds = Histogram(
            "csms_db_write_seconds",
            "Time to run and commit one group-commit batch",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._db_batch_rows = Histogram(
            "csms_db_batch_writes",
            "Writes committed together in one batch",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=self.registry,
        )

    def frame(self, direction: str, action: str | None) -> None:
        frames = self._per_frame.frames
        if action is None:
            action = ""
        elif action not in self._known_actions:
            action = UNKNOWN_ACTION
        key = (direction, action)
        frames[key] = frames.get(key, 0) + 1

    def message_log_dropped(self, frames: int) -> None:
        self._per_frame.message_log_dropped += frames

    def handler_latency(self, action: str, seconds: float) -> None:
        histogram = self._per_frame.handlers.get(action)
        if histogram is None:
            histogram = self._per_frame.handlers[action] = _Histogram()
        histogram.observe(seconds)

    def command_completed(self, record: CommandRecord) -> None:
        if record.state == "completed":
            result = record.status or "none"
        else:
            result = str((record.error or {}).get("code", "failed"))
        self._commands.labels(record.action, result).inc()

    def db_batch(self, size: int, seconds: float) -> None:
        self._db_write_seconds.observe(seconds)
        self._db_batch_rows.observe(size)

    def counting(self, recorder: _Recorder) -> _CountingRecorder:
        """``recorder`` (the message log) that also counts every frame it is given."""
        return _CountingRecorder(recorder, self)

    def render(self) -> bytes:
        return generate_latest(self.registry)
