"""A KPI report over any window from what the store reads at its checkpoints
(csms.domain.kpi_window), pure: each charger's sums, to the last microsecond those of
csms.domain.kpi_tally over its intervals (ADR 009).

The store sums what it can per charger (csms.domain.kpi_window.EdgeRow) and :func:`window_sums`
finishes: a charger with nothing that matters changing inside either piece (connections aside)
costs a few integer operations, its downtime state at the checkpoints (their anchors) a few
more; the others go through the domain's own arithmetic on the rebuilt pieces
(csms.domain.kpi_hours.piece_history), or, when even that cannot tell, back to the caller.

**The sockets.** A piece of a window counts its all-down time only when it knows the window's
sockets (csms.domain.kpi_tally). Under the store's shape the sockets a piece knows depend only
on its end, so they only grow from one row to the next: the window knows the end row's sockets
(unless a socket is first reported after its checkpoint: such a charger is read from its
intervals), every row knowing as many counts, and the start's part counts only when its row
knows the same ones. The store's running all-down totals restart when the sockets change, which
is exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final, NamedTuple

from csms.domain.kpi_history import (
    ChargerHistory,
    ConnectionInterval,
    ConnectorKey,
    StatusInterval,
)
from csms.domain.kpi_hours import (
    NO_PIECE,
    ZERO_ANCHOR,
    Anchor,
    ConnectionRow,
    Piece,
    StatusRow,
    at_hour,
    connection_gains,
    from_us,
    matters,
    piece_history,
    piece_of,
    to_us,
)
from csms.domain.kpi_rollup import day_of
from csms.domain.kpi_tally import Sockets, SumsRow, encode_sockets, tally
from csms.domain.kpi_window import EdgeChanges, EdgeRow, Window, WindowRows

__all__ = ["window_sums"]

_MICROSECOND: Final = timedelta(microseconds=1)
_NONE: Final[Sockets] = frozenset()


def window_sums(
    window: Window,
    read: WindowRows,
    statuses: bool,
) -> tuple[list[SumsRow], list[str]]:
    """Each charger's sums over the window, in the order of the rows read, and the chargers the
    checkpoints cannot answer for (no row yet, a socket new after the last checkpoint...): the
    caller reads those from their intervals and puts them in place of the placeholder (nothing
    measured) left for each. ``statuses``: False for connectivity, which needs neither states
    nor sockets."""
    a, b = window.start, window.b
    a_at, b_at = window.first.at, window.last.at
    span = (b - a) // _MICROSECOND
    a_length = (a - a_at) // _MICROSECOND
    b_length = (b - b_at) // _MICROSECOND
    a_gains = connection_gains(read.first.connections, to_us(a_at), to_us(a))
    b_gains = connection_gains(read.last.connections, to_us(b_at), to_us(b))
    a_changes = _by_charger(read.first, statuses)
    b_changes = _by_charger(read.last, statuses)
    downtime = read.downtime
    codec = read.codec
    decode = codec.sockets
    context = _Context(window, a_at, b_at, a_gains, b_gains, a_changes, b_changes, statuses)
    a_hour, b_hour = window.first.hour, window.last.hour
    anchors = codec.anchors
    sums: list[SumsRow] = []
    fallback: list[str] = []
    append = sums.append
    for row in read.rows:
        (
            cp_id,
            created,
            usable,
            has_first,
            first_row,
            deficit,
            every,
            same,
            sockets,
            first_sockets,
            _,
            ca,
            cb,
            a_off,
            b_off,
            a_text,
            b_text,
            _,
        ) = row
        registered = None
        if created is None:
            measured = span
        else:
            registered = codec.registered(created)
            lo = registered if registered > a else a
            measured = (b - lo) // _MICROSECOND if b > lo else 0
        if measured <= 0:
            append((cp_id, 0, 0, "", 0, None))
            continue
        if not usable or not (
            has_first
            or (
                # No row at the first checkpoint: its rows begin on the day it was registered,
                # at or after the window's start (nothing measured before it).
                registered is not None
                and registered >= a
                and first_row is not None
                and day_of(registered) == codec.day(first_row)
            )
        ):
            fallback.append(cp_id)
            append((cp_id, 0, 0, "", 0, None))
            continue
        key = cp_id.lower()
        mine_a = a_changes.get(key) if has_first else None
        mine_b = b_changes.get(key)
        if registered is not None and registered > (a_at if has_first else b_at):
            found = _charger(context, codec.decode(row), measured, downtime)  # registered inside
        else:
            a_state = b_state = None
            if statuses:
                if a_text:
                    a_state = at_hour(anchors(a_text), a_hour, ca)
                if b_text:
                    b_state = at_hour(anchors(b_text), b_hour, cb)
                a_reports = mine_a[1] if mine_a else None
                b_reports = mine_b[1] if mine_b else None
                if (
                    a_reports
                    and matters(
                        a_reports,
                        a_state or ZERO_ANCHOR,
                        decode(sockets if first_sockets is None else first_sockets),
                    )
                ) or (b_reports and matters(b_reports, b_state or ZERO_ANCHOR, decode(sockets))):
                    # Something down changes inside a piece: the piece from its intervals.
                    found = _charger(context, codec.decode(row), measured, downtime)
                    if found is None:
                        fallback.append(cp_id)
                        append((cp_id, 0, 0, "", 0, None))
                    else:
                        append(found)
                    continue
            # Nothing that matters changes inside the pieces but connections: the state just
            # before each checkpoint, held (csms.domain.kpi_hours.piece_of, inline).
            up_b = (0 if b_off else b_length) + b_gains.get(key, 0)
            deficit += cb + b_length - up_b
            if has_first:
                up_a = (0 if a_off else a_length) + a_gains.get(key, 0)
                deficit -= ca + a_length - up_a
            lost = None if downtime is None else downtime.get(key)
            if a_state is not None or b_state is not None:
                every, lost = _with_anchors(
                    every,
                    lost,
                    downtime is not None,
                    b_state,
                    up_b,
                    a_state,
                    up_a if has_first else 0,
                    bool(same),
                )
            append((cp_id, measured, measured - deficit, sockets, every, lost))
            continue
        if found is None:
            fallback.append(cp_id)
            append((cp_id, 0, 0, "", 0, None))
        else:
            append(found)
    return sums, fallback


def _with_anchors(
    every: int,
    lost: dict[ConnectorKey, int] | None,
    by_socket: bool,
    b_state: Anchor | None,
    up_b: int,
    a_state: Anchor | None,
    up_a: int,
    same: bool,
) -> tuple[int, dict[ConnectorKey, int] | None]:
    """A charger's all-down time and sockets' downtime with its checkpoints' downtime state:
    what each row had counted by its checkpoint, and the state held through the piece after it
    (``up_*``: the time connected there). A's part counts for all-down time only when it knew
    B's sockets."""
    if b_state is not None:
        every += b_state.all_down + (up_b if b_state.every else 0)
    if a_state is not None and same:
        every -= a_state.all_down + (up_a if a_state.every else 0)
    if not by_socket:
        return every, lost
    mine = dict(lost) if lost else {}
    for state, up, sign in ((b_state, up_b, 1), (a_state, up_a, -1)):
        if state is None:
            continue
        for socket, value in state.lost.items():
            mine[socket] = mine.get(socket, 0) + sign * value
        if up:
            for socket in state.down:
                mine[socket] = mine.get(socket, 0) + sign * up
    return every, {socket: value for socket, value in mine.items() if value}


_Changes = tuple[list[ConnectionRow], list[StatusRow]]


class _Context(NamedTuple):
    window: Window
    a_at: datetime
    b_at: datetime
    a_gains: dict[str, int]
    b_gains: dict[str, int]
    a_changes: dict[str, _Changes]
    b_changes: dict[str, _Changes]
    statuses: bool


def _by_charger(changes: EdgeChanges, statuses: bool) -> dict[str, _Changes]:
    """The changes per charger (id lower-cased); only sockets' reports (evse and connector
    above 0), and only when ``statuses``."""
    out: dict[str, _Changes] = {}
    for c in changes.connections:
        key = c[0].lower()
        if (mine := out.get(key)) is None:
            mine = out[key] = ([], [])
        mine[0].append(c)
    if statuses:
        for s in changes.statuses:
            if s[1] > 0 and s[2] > 0:
                key = s[0].lower()
                if (mine := out.get(key)) is None:
                    mine = out[key] = ([], [])
                mine[1].append(s)
    return out


def _charger(
    context: _Context,
    row: EdgeRow,
    measured: int,
    downtime: dict[str, dict[ConnectorKey, int]] | None,
) -> SumsRow | None:
    """One charger the short way cannot take: downtime state at a checkpoint, a socket going
    down or coming back inside a piece, registered inside the window. None: read it from its
    intervals."""
    window = context.window
    key = row.charge_point_id.lower()
    statuses = context.statuses
    b_state = at_hour(row.last_anchors, window.last.hour, row.last_deficit)
    b_piece = _piece(
        context,
        row,
        context.b_at,
        window.b,
        b_state,
        row.last_offline,
        context.b_gains.get(key, 0),
        context.b_changes.get(key),
        row.sockets,
        True,
    )
    if b_piece is None:
        return None
    if row.has_first:
        a_state = at_hour(row.first_anchors, window.first.hour, row.first_deficit)
        a_piece = _piece(
            context,
            row,
            context.a_at,
            window.start,
            a_state,
            row.first_offline,
            context.a_gains.get(key, 0),
            context.a_changes.get(key),
            row.first_sockets if row.first_known else None,
            False,
        )
        if a_piece is None:
            return None
        deficit = row.deficit + row.last_deficit - row.first_deficit
    else:
        a_state, a_piece = ZERO_ANCHOR, NO_PIECE  # registered after the first checkpoint's day
        deficit = row.deficit + row.last_deficit
    deficit += b_piece.deficit - a_piece.deficit
    if not statuses:
        return (row.charge_point_id, measured, measured - deficit, "", 0, None)
    every = row.all_down + b_state.all_down + b_piece.all_down
    if row.same_sockets:
        every -= a_state.all_down + a_piece.all_down
    mine = downtime.get(key) if downtime is not None else None
    lost = dict(mine) if mine else {}
    for part, sign in ((b_state, 1), (b_piece, 1), (a_state, -1), (a_piece, -1)):
        for socket, value in part.lost.items():
            lost[socket] = lost.get(socket, 0) + sign * value
    lost = {socket: value for socket, value in lost.items() if value}
    return (
        row.charge_point_id,
        measured,
        measured - deficit,
        encode_sockets(row.sockets),
        every,
        lost,
    )


def _piece(
    context: _Context,
    row: EdgeRow,
    start: datetime,
    x: datetime,
    state: Anchor,
    offline: bool,
    gain: int,
    changes: _Changes | None,
    sockets: Sockets | None,
    last: bool,
) -> Piece | None:
    """``[start, x)`` after a checkpoint; None when only the intervals can tell. ``sockets``:
    those of the checkpoint's row, None when not all of them had been reported by the
    checkpoint; ``last``: the window's last piece."""
    reports: Sequence[StatusRow] = changes[1] if changes is not None else ()
    if last and context.statuses and reports:
        # The window knows the sockets first reported before its end, maybe after ``b``: one
        # its last row does not know is new since that row's checkpoint.
        assert sockets is not None
        if any((s[1], s[2]) not in sockets for s in reports):
            return None
        until = to_us(x)
        reports = [s for s in reports if s[4] < until]
    registered = row.registered_at
    if x == start or (registered is not None and registered >= x):
        return NO_PIECE
    late = registered is not None and registered > start
    if not late and not (context.statuses and matters(reports, state, sockets or _NONE)):
        return piece_of(state, start, x, not offline, gain)
    if sockets is None:
        return None  # the sockets reported by the checkpoint are not all the row's
    cp_id = row.charge_point_id
    history = piece_history(
        ChargerHistory(
            cp_id,
            registered if late and registered is not None else start,
            tuple(
                ConnectionInterval(cp_id, from_us(a), None if b is None else from_us(b))
                for _, a, b in (changes[0] if changes is not None else ())
            ),
            tuple(
                StatusInterval(
                    cp_id,
                    evse,
                    connector,
                    status,
                    None,
                    from_us(a),
                    None if b is None else from_us(b),
                )
                for _, evse, connector, status, a, b in reports
            ),
        ),
        state,
        not offline,
        sockets,
        start,
        x,
    )
    counted = tally(history, start, x, context.window.now)
    return Piece(
        counted.measured - counted.connected, counted.all_down.get(sockets, 0), counted.lost
    )
