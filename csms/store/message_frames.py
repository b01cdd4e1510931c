"""How the message log keeps frames, the same for both backends.

A row is one exchange: the CALL (or a frame with no partner) and its answer. A frame is stored
as ``(message_type, body)`` where the body is its payload alone: the unique id and action are
columns of the row, so keeping the whole frame would repeat them. A frame that is not
well-formed OCPP-J is kept as it came. Read back, a row yields its frames; a frame's id is its
row's id times 2, plus 1 for the answer, so a cursor names a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from csms.domain.models import OcppMessage

__all__ = ["StoredExchange", "decode_body", "encode_body", "frames_of"]

_NAMES = {2: "Call", 3: "CallResult", 4: "CallError", 0: "Invalid"}


def encode_body(message_type: int, frame: str) -> str:
    try:
        parsed = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame
    if isinstance(parsed, list):
        if message_type == 2 and len(parsed) == 4:
            return orjson.dumps(parsed[3]).decode()
        if message_type == 3 and len(parsed) == 3:
            return orjson.dumps(parsed[2]).decode()
        if message_type == 4 and len(parsed) == 5:
            return orjson.dumps(parsed[2:]).decode()
    return frame


def decode_body(message_type: int, body: str) -> Any:
    """The payload the API shows: a CALL's or CALLRESULT's payload, a CALLERROR's code,
    description and details, or a malformed frame as it came (parsed when it is JSON)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if message_type == 4 and isinstance(value, list) and len(value) == 3:
        return {"errorCode": value[0], "errorDescription": value[1], "errorDetails": value[2]}
    return value


@dataclass(frozen=True, slots=True)
class StoredExchange:
    """A message-log row as either backend reads it."""

    id: int
    charge_point_id: str
    unique_id: str | None
    action: str | None
    outgoing: bool
    first_type: int
    first_at: datetime
    first_body: str
    answer_type: int | None
    answer_at: datetime | None
    answer_body: str | None


def frames_of(
    row: StoredExchange, *, after: int | None, direction: str | None, since: datetime | None
) -> list[OcppMessage]:
    """The row's frames that come after the cursor and pass the filters."""
    first_direction = "out" if row.outgoing else "in"
    parts: list[tuple[int, str, int, datetime, str]] = [
        (0, first_direction, row.first_type, row.first_at, row.first_body)
    ]
    if row.answer_type is not None and row.answer_at is not None and row.answer_body is not None:
        answer_direction = "in" if row.outgoing else "out"
        parts.append((1, answer_direction, row.answer_type, row.answer_at, row.answer_body))
    frames: list[OcppMessage] = []
    for part, frame_direction, message_type, at, body in parts:
        frame_id = row.id * 2 + part
        if after is not None and frame_id <= after:
            continue
        if direction is not None and frame_direction != direction:
            continue
        if since is not None and at < since:
            continue
        frames.append(
            OcppMessage(
                id=frame_id,
                charge_point_id=row.charge_point_id,
                direction=frame_direction,
                message_type=_NAMES.get(message_type, str(message_type)),
                unique_id=row.unique_id,
                action=row.action,
                payload=decode_body(message_type, body),
                timestamp=at,
            )
        )
    return frames
