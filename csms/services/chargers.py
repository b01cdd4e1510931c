"""Charge points: registration, boot decisions, connector status, connection state."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csms.domain.certificates import PeerCertificate
from csms.domain.clock import Clock, format_timestamp
from csms.domain.errors import Conflict, Invalid
from csms.domain.events import CausedEvent
from csms.domain.history import close_reason
from csms.domain.identities import check_identity
from csms.domain.models import BootInfo, ChargePoint, ConnectorState
from csms.domain.paging import Page, Paged
from csms.domain.secrets import VerifiedPasswords, hash_password
from csms.domain.throttling import retry_after_seconds
from csms.domain.updates import UNSET, ChargePointChanges
from csms.log import get_logger
from csms.services.credential_guard import CredentialGuard, LockedOut
from csms.services.events import EventBus
from csms.store.cluster_repositories import Holder
from csms.store.repositories import ChargerStore

__all__ = ["AuthOutcome", "BootDecision", "ChargerService", "Connected", "RevokedSerials"]

log = get_logger(__name__)


class RevokedSerials(Protocol):
    """Which client certificates are revoked (csms.store.certificate_repositories)."""

    async def is_revoked(self, serial: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class BootDecision:
    status: str  # Accepted | Pending | Rejected
    interval: int
    current_time: datetime


@dataclass(frozen=True, slots=True)
class Connected:
    boot_accepted: bool
    # In a cluster: this connection's claim on the charger, and the node that held it before
    # (told to close its older connection).
    holder_seq: int | None = None
    previous_node: str | None = None


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    """The gateway's answer to an upgrade request: an HTTP status, or None to let it in."""

    http_status: int | None
    reason: str = ""
    registered: bool = True
    # The client certificate that let it in (profile 3 only): its session keeps it, for the
    # BootNotification check and to be cut when the certificate is revoked.
    certificate: PeerCertificate | None = None
    # With 429: whole seconds until a retry may succeed (HTTP Retry-After).
    retry_after: int | None = None


class ChargerService:
    def __init__(
        self,
        store: ChargerStore,
        events: EventBus,
        clock: Clock,
        *,
        heartbeat_interval: int,
        boot_retry_interval: int,
        default_registration_status: str,
        allow_unknown_chargers: bool,
        revoked: RevokedSerials | None = None,
        max_unknown_chargers: int = 100,
        guard: CredentialGuard | None = None,
        node_id: str | None = None,
    ) -> None:
        self._store = store
        # In a cluster: this node, which claims the chargers connecting to it (ADR 013).
        self._node_id = node_id
        self._revoked = revoked
        self._events = events
        self._clock = clock
        self._heartbeat_interval = heartbeat_interval
        self._boot_retry_interval = boot_retry_interval
        self._default_registration_status = default_registration_status
        self._allow_unknown = allow_unknown_chargers
        self._max_unknown = max_unknown_chargers
        self._verified = VerifiedPasswords()
        self._guard = guard or CredentialGuard()
        # Ends a charger's live session (set by the app to the gateway's): a charger whose
        # password, security profile or admission changed reconnects under the new rules.
        self.end_session: Callable[[str, str], Awaitable[None]] | None = None

    # --- registration (operator side) ---------------------------------------------------------

    async def register(
        self,
        cp_id: str,
        *,
        name: str | None = None,
        password: str | None = None,
        security_profile: int | None = None,
        site_id: str | None = None,
        model_id: str | None = None,
        external_id: str | None = None,
    ) -> ChargePoint:
        """An operator's registration. Without a password the profile must be given: 0 (no
        authentication at all) must be a decision, never a default."""
        check_identity(cp_id)
        if password is None and security_profile is None:
            raise Invalid(
                "securityProfile",
                "a charger registered without a password needs an explicit securityProfile: "
                "0 (no authentication at all) or 3 (a TLS client certificate)",
            )
        password_hash = None
        if password is not None:
            password_hash = await asyncio.to_thread(hash_password, password.encode("utf-8"))
        profile = security_profile if security_profile is not None else 1
        return await self._store.add_charge_point(
            cp_id,
            name=name,
            password_hash=password_hash,
            security_profile=profile,
            site_id=site_id,
            created_at=self._clock(),
            model_id=model_id,
            external_id=external_id,
        )

    async def update(
        self,
        cp_id: str,
        changes: ChargePointChanges,
        *,
        password: str | None = None,
        by_charger: bool = False,
    ) -> ChargePoint:
        """An operator's change (or, ``by_charger``, one the charger accepted itself: its live
        session is left to it, since it reconnects under the new rules on its own)."""
        if password is not None:
            hashed = await asyncio.to_thread(hash_password, password.encode("utf-8"))
            changes = dataclasses.replace(changes, password_hash=hashed)
        if changes.boot_answer is not UNSET:
            # An operator decided about it: no longer a newcomer let in by allow_unknown_chargers.
            changes = dataclasses.replace(changes, auto_registered=False)
        updated = await self._store.update_charge_point(cp_id, changes)
        reason = None if by_charger else _access_change(changes)
        if reason is not None and self.end_session is not None:
            await self.end_session(updated.id, reason)
        return updated

    async def set_password(self, cp_id: str, password: bytes) -> None:
        """A new Basic Auth password, as raw bytes (a 1.6 AuthorizationKey need not be UTF-8)."""
        hashed = await asyncio.to_thread(hash_password, password)
        await self._store.update_charge_point(cp_id, ChargePointChanges(password_hash=hashed))

    async def delete(self, cp_id: str) -> None:
        await self._events.change(
            lambda events: self._store.delete_charge_point(cp_id, events=events),
            lambda _: (CausedEvent("charger.deleted", cp_id, {}),),
        )

    async def get(self, cp_id: str) -> ChargePoint | None:
        return await self._store.get_charge_point(cp_id)

    async def list_charge_points(
        self,
        page: Page[str],
        *,
        search: str | None = None,
        connected: bool | None = None,
        site_ids: Collection[str] | None = None,
        model_id: str | None = None,
    ) -> Paged[ChargePoint]:
        return await self._store.list_charge_points(
            page, search=search, connected=connected, site_ids=site_ids, model_id=model_id
        )

    # --- connection (charger side) ------------------------------------------------------------

    async def authenticate(
        self,
        cp_id: str,
        basic_credentials: tuple[bytes, bytes] | None,
        *,
        tls: bool,
        certificate: PeerCertificate | None = None,
        address: str | None = None,
    ) -> AuthOutcome:
        """May this identity upgrade? Profiles 0-2 by Basic credentials, profile 3 by the
        client certificate TLS verified (``certificate``; ignored below profile 3).

        ``address`` is the client's IP: wrong passwords are throttled per identity and per address
        (csms.services.credential_guard).
        """
        credentials = await self._store.get_credentials(cp_id)
        if credentials is None:
            if not self._allow_unknown:
                return AuthOutcome(404, "unknown charge point")
            if await self._store.count_auto_registered() >= self._max_unknown:
                return AuthOutcome(
                    404, "unknown charge point (too many newcomers await a decision)"
                )
            return AuthOutcome(None, registered=False)
        if credentials.auto_registered and not self._allow_unknown:
            return AuthOutcome(404, "unknown charge point (let in as a newcomer, never approved)")
        if credentials.security_profile >= 2 and not tls:
            return AuthOutcome(401, "this charge point must connect over TLS")
        if credentials.security_profile >= 3:
            # Never by password instead (no downgrade, A05.FR.07): the certificate or nothing.
            return await self._by_certificate(cp_id, certificate)
        if credentials.security_profile == 0 and credentials.password_hash is None:
            return AuthOutcome(None)
        if basic_credentials is None:
            return AuthOutcome(401, "HTTP Basic credentials required")
        username, password = basic_credentials
        # The username must name the identity in the URL (OCPP 2.0.1 A00.FR.204; TC_A_02).
        if username.decode("utf-8", "replace").lower() != cp_id.lower():
            return AuthOutcome(401, "username does not match the charge point identity")
        stored = credentials.password_hash
        if stored is None:
            return AuthOutcome(401, "wrong password")
        if not self._verified.known(password, stored):
            # Only a password not seen to verify before is hashed, so only such is throttled:
            # a known charger gets in even while its identity or address is locked out.
            try:
                if not await self._guard.check(cp_id, address, password, stored):
                    return AuthOutcome(401, "wrong password")
            except LockedOut as exc:
                wait = retry_after_seconds(exc.retry_after)
                return AuthOutcome(
                    429, f"too many wrong passwords; try again in {wait} s", retry_after=wait
                )
            self._verified.remember(password, stored)
        return AuthOutcome(None)

    async def _by_certificate(self, cp_id: str, certificate: PeerCertificate | None) -> AuthOutcome:
        if certificate is None:
            return AuthOutcome(401, "security profile 3: a client certificate is required")
        # TLS checked the chain; the certificate must also name this charger (A00.FR.405).
        if not certificate.names(cp_id):
            return AuthOutcome(401, "the client certificate is not the charge point's")
        if self._revoked is not None and await self._revoked.is_revoked(certificate.serial):
            return AuthOutcome(401, "the client certificate is revoked")
        return AuthOutcome(None, certificate=certificate)

    async def connected(self, cp_id: str, ocpp_version: str, *, registered: bool) -> Connected:
        """Record the connection (in a cluster: this node now holds the charger); with whether
        the charger's last boot was accepted."""
        if not registered:
            # A parallel first connection may have registered it already.
            with contextlib.suppress(Conflict):
                await self._store.add_charge_point(
                    cp_id,
                    name=None,
                    password_hash=None,
                    security_profile=0,
                    site_id=None,
                    created_at=self._clock(),
                    boot_answer="Pending",
                    auto_registered=True,
                )
        holder = None if self._node_id is None else Holder(self._node_id)
        recorded = await self._events.change(
            lambda events: self._store.record_connection(
                cp_id,
                ocpp_version=ocpp_version,
                connected=True,
                at=self._clock(),
                events=events,
                holder=holder,
            ),
            lambda _: (CausedEvent("charger.connected", cp_id, {"ocppVersion": ocpp_version}),),
        )
        charge_point = await self._store.get_charge_point(cp_id)
        return Connected(
            charge_point is not None and charge_point.boot_accepted,
            recorded.seq,
            recorded.previous_node,
        )

    async def disconnected(
        self,
        cp_id: str,
        ocpp_version: str,
        close_code: int | None,
        *,
        holder: Holder | None = None,
    ) -> bool:
        """Record the disconnection; in a cluster only while ``holder`` (this connection's claim,
        or a dead node's) still holds the charger. Whether it was recorded."""
        recorded = await self._events.change(
            lambda events: self._store.record_connection(
                cp_id,
                ocpp_version=ocpp_version,
                connected=False,
                at=self._clock(),
                reason=close_reason(close_code),
                events=events,
                holder=holder,
            ),
            lambda recorded: (
                (CausedEvent("charger.disconnected", cp_id, {"closeCode": close_code}),)
                if recorded.changed
                else ()
            ),
        )
        return recorded.changed

    def holder(self, seq: int | None) -> Holder | None:
        """This node's claim numbered ``seq`` (None outside a cluster)."""
        return None if self._node_id is None else Holder(self._node_id, seq)

    async def record_last_seen(self, seen: list[tuple[str, datetime]]) -> None:
        if seen:
            await self._store.record_last_seen(seen)

    # --- messages from chargers ----------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    async def boot(self, cp_id: str, ocpp_version: str, boot_info: BootInfo) -> BootDecision:
        charge_point = await self._store.get_charge_point(cp_id)
        status = self._default_registration_status
        if charge_point is not None and charge_point.boot_answer is not None:
            status = charge_point.boot_answer
        now = self._clock()
        await self._store.record_boot(
            cp_id, ocpp_version=ocpp_version, boot_info=boot_info, status=status, at=now
        )
        interval = self._heartbeat_interval if status == "Accepted" else self._boot_retry_interval
        return BootDecision(status, interval, now)

    async def connector_status(self, cp_id: str, state: ConnectorState) -> None:
        event = CausedEvent(
            "connector.status",
            cp_id,
            {
                "evseId": state.evse_id,
                "connectorId": state.connector_id,
                "status": state.status,
                "errorCode": state.error_code,
                "vendorErrorCode": state.vendor_error_code,
                "info": state.info,
                # Fixed width, so it orders as text: a status queued offline may arrive after a
                # newer one, and the store and the site tree keep the newest.
                "updatedAt": format_timestamp(state.updated_at),
            },
        )
        await self._events.change(
            lambda events: self._store.record_connector_status(cp_id, state, events=events),
            lambda _: (event,),
        )

    async def firmware_status(self, cp_id: str, status: str) -> None:
        await self._events.change(
            lambda events: self._store.record_firmware_status(cp_id, status, events=events),
            lambda _: (CausedEvent("firmware.status", cp_id, {"status": status}),),
        )

    async def diagnostics_status(self, cp_id: str, status: str) -> None:
        await self._store.record_diagnostics_status(cp_id, status)


def _access_change(changes: ChargePointChanges) -> str | None:
    """Why a change ends the charger's live session, if it does: it must reconnect under the new
    rules (a session authenticated with the old password must not outlive it)."""
    if changes.password_hash is not UNSET:
        return "password changed"
    if changes.security_profile is not UNSET:
        return "security profile changed"
    if changes.boot_answer == "Rejected":
        return "rejected by the operator"
    return None
