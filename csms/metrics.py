"""Prometheus metrics: the only module that imports prometheus_client.

Each central system has its own registry (tests run several in one process). Counters for the
per-frame path are resolved per label set once and cached, so counting a frame is a dict lookup
and an increment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from csms.domain.models import CommandRecord

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _ConnectedChargers(Collector):
    def __init__(self, count_by_version: Callable[[], dict[str, int]]) -> None:
        self._count_by_version = count_by_version

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "csms_chargers_connected", "Chargers connected now", labels=["ocpp_version"]
        )
        counts = {"1.6": 0, "2.0.1": 0, **self._count_by_version()}
        for version, count in sorted(counts.items()):
            gauge.add_metric([version], count)
        yield gauge


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


class Metrics:
    def __init__(self, count_by_version: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_ConnectedChargers(count_by_version))
        self._frames = Counter(
            "csms_ocpp_frames_total",
            "OCPP frames by direction and action",
            ["direction", "action"],
            registry=self.registry,
        )
        self._handler_seconds = Histogram(
            "csms_ocpp_handler_seconds",
            "Time to handle a charger's CALL, commit included",
            ["action"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
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
        self._frame_children: dict[tuple[str, str], Callable[[], None]] = {}
        self._handler_children: dict[str, Callable[[float], None]] = {}

    def frame(self, direction: str, action: str | None) -> None:
        key = (direction, action or "")
        inc = self._frame_children.get(key)
        if inc is None:
            inc = self._frame_children[key] = self._frames.labels(direction, action or "").inc
        inc()

    def handler_latency(self, action: str, seconds: float) -> None:
        observe = self._handler_children.get(action)
        if observe is None:
            observe = self._handler_children[action] = self._handler_seconds.labels(action).observe
        observe(seconds)

    def command_completed(self, record: CommandRecord) -> None:
        result = (
            record.status or "none"
            if record.state == "completed"
            else (str((record.error or {}).get("code", "failed")))
        )
        self._commands.labels(record.action, result).inc()

    def db_batch(self, size: int, seconds: float) -> None:
        self._db_write_seconds.observe(seconds)
        self._db_batch_rows.observe(size)

    def counting(self, recorder: _Recorder) -> _CountingRecorder:
        """``recorder`` (the message log) that also counts every frame it is given."""
        return _CountingRecorder(recorder, self)

    def render(self) -> bytes:
        return generate_latest(self.registry)
