"""Connectivity and uptime KPIs (API.md "Monitoring"): the scope and window of a request, the
history the store holds for it, and the arithmetic of csms.domain.kpis.

A report reads the KPI roll-up at the window's two edges (csms.domain.kpi_window; ADR 009): per
charger its rows at the latest hourly checkpoints before the start and the end (today's row
reaches the hour of the last round), and the few intervals that begin or end between a
checkpoint and the edge. A charger the checkpoints cannot answer for (no rows yet, a late change
deleted them, a socket reported for the first time after the last checkpoint) is read as
before: its rows' whole days and its intervals for the rest. Both are exact (the same integer
microseconds as csms.domain.kpis.report). The store keeps what it read at the checkpoints
between requests until the rows change (csms.store.kpi_window_cache). Series read the
intervals."""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from csms.domain.clock import Clock
from csms.domain.errors import Invalid, NotFound
from csms.domain.history import window
from csms.domain.kpi_history import ChargerHistory, Span
from csms.domain.kpi_rollup import Plan, Planner, whole_days
from csms.domain.kpi_tally import Sums, Tally, report_of_sums, restrict, sums_of, tally
from csms.domain.kpi_window import Window, frontier_of
from csms.domain.kpi_window_sums import window_sums
from csms.domain.kpis import Kpi, KpiReport, Resolution, series
from csms.services.sites import SiteService
from csms.store.repositories import ChargerStore, HistoryStore, KpiRollupStore

__all__ = ["KpiScope", "KpiService", "Series"]


@dataclass(frozen=True, slots=True)
class KpiScope:
    """At most one of them; none is every charger."""

    charge_point_id: str | None = None
    site_id: str | None = None  # the site and every site below it
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    start: datetime
    end: datetime
    points: list[tuple[datetime, float | None]]


@dataclass(frozen=True, slots=True)
class _Chargers:
    """A scope as the store takes it: one charger, the chargers on some sites, some chargers,
    or (none) all."""

    cp_id: str | None = None
    site_ids: Collection[str] | None = None
    cp_ids: Collection[str] | None = None


class KpiService:
    def __init__(
        self,
        history: HistoryStore,
        rollup: KpiRollupStore,
        chargers: ChargerStore,
        sites: SiteService,
        clock: Clock,
    ) -> None:
        self._history = history
        self._rollup = rollup
        self._chargers = chargers
        self._sites = sites
        self._clock = clock

    async def report(
        self, kpi: Kpi, scope: KpiScope, start: datetime | None, end: datetime | None
    ) -> tuple[KpiReport, datetime, datetime]:
        now = self._clock()
        since, until = window(start, end, now)
        chargers = await self._resolve(scope)
        edges = Window.of(since, until, now, frontier_of(await self._rollup.frontier()))
        if edges.empty:  # nothing measured: no charger has a value
            return report_of_sums(kpi, []), since, until
        statuses = kpi is not Kpi.CONNECTIVITY
        read = await self._rollup.window(
            edges,
            cp_id=chargers.cp_id,
            site_ids=chargers.site_ids,
            statuses=statuses,
            downtime=kpi is Kpi.UPTIME_BY_CONNECTOR,
        )
        with _collector_paused():
            sums, others = window_sums(edges, read, statuses)
        if others:
            found = {
                found.charge_point_id.lower(): found
                for found in await self._sums(kpi, _Chargers(cp_ids=others), since, until, now)
            }
            sums = [found.get(charger[0].lower(), charger) for charger in sums]
        with _collector_paused():
            return report_of_sums(kpi, sums), since, until

    async def series(
        self,
        kpi: Kpi,
        scope: KpiScope,
        start: datetime | None,
        end: datetime | None,
        resolution: Resolution,
    ) -> Series:
        now = self._clock()
        since, until = window(start, end, now)
        histories = await self._histories(await self._resolve(scope), since, until)
        return Series(since, until, series(kpi, histories, since, until, resolution, now))

    # ------------------------------------------------------------ whole days and intervals

    async def _sums(
        self, kpi: Kpi, chargers: _Chargers, start: datetime, end: datetime, now: datetime
    ) -> list[Sums]:
        """The chargers the checkpoints cannot answer for: their rows' whole days, if any, and
        their intervals for the rest."""
        first, last = whole_days(start, end, now)
        if first >= last:  # no whole day: the intervals
            return [
                sums_of(history.charge_point_id, tally(history, start, end, now))
                for history in await self._histories(chargers, start, end)
            ]
        rolled = await self._rollup.rolled_up(
            first=first,
            end=last,
            cp_id=chargers.cp_id,
            site_ids=chargers.site_ids,
            cp_ids=chargers.cp_ids,
            downtime=kpi is Kpi.UPTIME_BY_CONNECTOR,
        )
        planner = Planner(start, end, first, last)
        plans = [planner.plan(charger) for charger in rolled]
        pieces = await self._pieces(chargers, plans, start, end)
        out = []
        for charger in plans:
            total = Tally()
            total.add(charger.rolled)
            for a, b in charger.pieces:
                history = pieces.get((charger.charge_point_id.lower(), a, b))
                if history is None:  # gone since the roll-up was read
                    history = ChargerHistory(charger.charge_point_id, charger.registered_at)
                total.add(tally(history, a, b, now))
            out.append(sums_of(charger.charge_point_id, total))
        return out

    async def _pieces(
        self, chargers: _Chargers, plans: list[Plan], start: datetime, end: datetime
    ) -> dict[tuple[str, datetime, datetime], ChargerHistory]:
        """Each charger's history over each of its pieces. A piece most chargers share (the
        window's partial first and last days) is read for the whole scope at once; the others
        (a charger registered inside the window, one whose last days are not rolled up) for
        those chargers only, grouped: the window's start, its end, or both."""
        sharing: dict[Span, list[str]] = {}
        for charger in plans:
            for piece in charger.pieces:
                sharing.setdefault(piece, []).append(charger.charge_point_id)
        found: dict[tuple[str, datetime, datetime], ChargerHistory] = {}
        others: dict[tuple[bool, bool], list[tuple[str, Span]]] = {}
        for (a, b), cp_ids in sharing.items():
            if 2 * len(cp_ids) >= len(plans):
                wanted = {cp_id.lower() for cp_id in cp_ids}
                for history in await self._histories(chargers, a, b):
                    if history.charge_point_id.lower() in wanted:
                        found[(history.charge_point_id.lower(), a, b)] = history
            else:
                group = others.setdefault((a == start, b == end), [])
                group.extend((cp_id, (a, b)) for cp_id in cp_ids)
        for group in others.values():
            lo = min(a for _, (a, _) in group)
            hi = max(b for _, (_, b) in group)
            read = await self._history.histories(
                start=lo, end=hi, cp_ids={cp_id for cp_id, _ in group}
            )
            by_id = {history.charge_point_id.lower(): history for history in read}
            for cp_id, (a, b) in group:
                whole = by_id.get(cp_id.lower())
                if whole is not None:
                    cut = whole if (a, b) == (lo, hi) else restrict(whole, a, b)
                    found[(cp_id.lower(), a, b)] = cut
        return found

    # ------------------------------------------------------------ the scope

    async def _histories(
        self, chargers: _Chargers, start: datetime, end: datetime
    ) -> list[ChargerHistory]:
        return await self._history.histories(
            start=start,
            end=end,
            cp_id=chargers.cp_id,
            site_ids=chargers.site_ids,
            cp_ids=chargers.cp_ids,
        )

    async def _resolve(self, scope: KpiScope) -> _Chargers:
        given = [
            name
            for name, value in (
                ("chargePointId", scope.charge_point_id),
                ("siteId", scope.site_id),
                ("networkId", scope.network_id),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise Invalid(given[1], "give at most one of chargePointId, siteId and networkId")
        if scope.charge_point_id is not None:
            if await self._chargers.get_charge_point(scope.charge_point_id) is None:
                raise NotFound(f"charge point {scope.charge_point_id!r} not found")
            return _Chargers(cp_id=scope.charge_point_id)
        if scope.site_id is not None or scope.network_id is not None:
            return _Chargers(site_ids=await self._site_ids(scope))
        return _Chargers()

    async def _site_ids(self, scope: KpiScope) -> set[str]:
        """The sites the scope covers (SiteService.scope); an unknown site or network is a 404
        here, not an empty report."""
        if scope.site_id is not None and await self._sites.get_site(scope.site_id) is None:
            raise NotFound(f"site {scope.site_id!r} not found")
        if scope.network_id is not None and await self._sites.get_network(scope.network_id) is None:
            raise NotFound(f"network {scope.network_id!r} not found")
        covered = await self._sites.scope(site_id=scope.site_id, network_id=scope.network_id)
        assert covered is not None  # one of them is given
        return covered


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a network's arithmetic (no await inside, so nothing
    else runs meanwhile). It allocates a tuple or two per charger and socket: for 10,000
    chargers about a hundred young collections per report, each walking what it had built so
    far, and a full one (the server's whole heap) every few reports; paused, about a tenth
    less time per report by connector (docs/PERFORMANCE.md "KPIs"). Reference counting still
    frees what the arithmetic drops; nothing it builds is cyclic."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
