"""Who is connected right now: identity → live connection, with replace-on-reconnect."""

from __future__ import annotations

from typing import Any

from csms.domain.errors import ChargerUnavailable
from csms.log import get_logger
from csms.ocpp.connection import OcppConnection

__all__ = ["SessionRegistry"]

log = get_logger(__name__)


class SessionRegistry:
    def __init__(self) -> None:
        # Keys are lower-cased: identities are case-insensitive (OCPP 2.0.1 identifierString) and
        # the store's key collates NOCASE, so "CP-1" and "cp-1" are one charger.
        self._sessions: dict[str, OcppConnection] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, cp_id: str) -> OcppConnection | None:
        return self._sessions.get(cp_id.lower())

    def is_connected(self, cp_id: str) -> bool:
        return cp_id.lower() in self._sessions

    def all(self) -> list[OcppConnection]:
        return list(self._sessions.values())

    def count_by_version(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self._sessions.values():
            counts[session.ocpp_version] = counts.get(session.ocpp_version, 0) + 1
        return counts

    async def attach(self, session: OcppConnection) -> None:
        """Make ``session`` the charger's connection; an older one is closed (newest wins)."""
        key = session.charge_point_id.lower()
        previous = self._sessions.get(key)
        self._sessions[key] = session
        if previous is not None and previous is not session:
            log.info("connection replaced", charge_point_id=session.charge_point_id)
            await previous.close(1000, "replaced by a new connection")

    def detach(self, session: OcppConnection) -> bool:
        """Forget ``session``; False when a newer connection already replaced it."""
        key = session.charge_point_id.lower()
        if self._sessions.get(key) is session:
            del self._sessions[key]
            return True
        return False

    async def end(self, cp_id: str, reason: str) -> None:
        """Close the charger's live session, if any (1008: the rules it was admitted under
        changed; it reconnects under the new ones)."""
        session = self.get(cp_id)
        if session is not None:
            log.info("session ended", charge_point_id=cp_id, reason=reason)
            await session.close(1008, reason)

    async def call(
        self, cp_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        session = self.get(cp_id)
        if session is None or session.closed:
            raise ChargerUnavailable(f"{cp_id} is not connected")
        return await session.call(action, payload, timeout)

    async def close_all(
        self, code: int = 1001, reason: str = "central system shutting down"
    ) -> None:
        for session in list(self._sessions.values()):
            try:
                await session.close(code, reason)
            except Exception as exc:
                log.warning(
                    "close failed", charge_point_id=session.charge_point_id, error=repr(exc)
                )
