"""The KPI benchmark's fleet (python -m bench.kpis): each charger's connection and status
history, drawn from a seeded generator in the shape bench.kpis describes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from csms.domain.kpis import ChargerHistory, ConnectionInterval, StatusInterval

__all__ = ["Shape", "build"]

_UP = ("Available", "Available", "Charging", "SuspendedEV", "Finishing", "Preparing")


def _moments(rng: random.Random, per_day: float, start: datetime, end: datetime) -> list[datetime]:
    """Uniform moments, ``per_day`` on average (0 to twice that a day, charger by charger)."""
    days = (end - start) / timedelta(days=1)
    count = round(rng.uniform(0, 2 * per_day) * days)
    seconds = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=rng.uniform(0, seconds)) for _ in range(count))


def _connections(
    cp_id: str, rng: random.Random, per_day: float, start: datetime, end: datetime
) -> list[ConnectionInterval]:
    intervals = []
    connected = start - timedelta(hours=rng.uniform(1, 48))
    for drop in _moments(rng, per_day, start, end):
        if drop <= connected:
            continue
        intervals.append(ConnectionInterval(cp_id, connected, drop))
        connected = drop + timedelta(seconds=rng.uniform(10, 7200))
    if connected < end:
        intervals.append(ConnectionInterval(cp_id, connected, None))
    return intervals


def _statuses(
    cp_id: str, rng: random.Random, sockets: int, shape: Shape, start: datetime, end: datetime
) -> list[StatusInterval]:
    spread: dict[int, list[datetime]] = {n: [] for n in range(sockets + 1)}
    for moment in _moments(rng, shape.changes_per_day, start, end):
        # Connector 0 (the station) now and then, the sockets the rest of the time.
        spread[0 if rng.random() < 0.05 else rng.randint(1, sockets)].append(moment)
    intervals = []
    for connector, moments in spread.items():
        begun = start - timedelta(hours=rng.uniform(1, 48))
        status = "Available"
        for moment in moments:
            intervals.append(
                StatusInterval(cp_id, connector, connector, status, None, begun, moment)
            )
            begun = moment
            if rng.random() < shape.down_share:
                status = rng.choice(("Faulted", "Unavailable"))
            else:
                status = rng.choice(_UP)
        intervals.append(StatusInterval(cp_id, connector, connector, status, None, begun, None))
    intervals.sort(key=lambda s: s.started_at)
    return intervals


@dataclass(frozen=True, slots=True)
class Shape:
    drops_per_day: float
    changes_per_day: float
    down_share: float


def build(
    chargers: int, days: int, shape: Shape, seed: int, start: datetime, past: timedelta
) -> list[ChargerHistory]:
    """The fleet's history from ``start`` for ``days`` and until now (``past`` into the day
    after them)."""
    rng = random.Random(seed)
    end = start + timedelta(days=days) + past
    fleet = []
    for n in range(chargers):
        if rng.random() < 0.02:
            registered = start + timedelta(days=rng.uniform(0, days))
        else:
            registered = start - timedelta(days=rng.uniform(1, 300))
        since = max(start, registered)
        cp_id = f"KPI-{n:05d}"
        fleet.append(
            ChargerHistory(
                cp_id,
                registered,
                tuple(_connections(cp_id, rng, shape.drops_per_day, since, end)),
                tuple(_statuses(cp_id, rng, rng.randint(1, 4), shape, since, end)),
            )
        )
    return fleet
