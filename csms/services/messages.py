"""Reading the OCPP message log back for operators."""

from __future__ import annotations

from datetime import datetime

from csms.domain.models import OcppMessage
from csms.domain.paging import Page, Paged
from csms.services.message_log import MessageLog
from csms.store.repositories import MessageLogStore

__all__ = ["MessageQueryService"]


class MessageQueryService:
    def __init__(self, store: MessageLogStore, message_log: MessageLog) -> None:
        self._store = store
        self._message_log = message_log

    async def list_messages(
        self,
        page: Page[int],
        *,
        cp_id: str | None = None,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
    ) -> Paged[OcppMessage]:
        # Frames still buffered would be missing from the answer; a read is rare, so write
        # first, CALLs still waiting for their answer included.
        await self._message_log.flush(include_open=True)
        return await self._store.list_messages(
            page, cp_id=cp_id, action=action, direction=direction, since=since
        )
