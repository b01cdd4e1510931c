"""The repositories of the operator's estate: networks and sites, circuits and who is on them,
the model catalogue, EVSE records. Part of the store interface (csms.store.repositories, which
re-exports them and holds the ``Store``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from csms.domain.assets import ChargingStationModel, EvseRecord, Network, Site
from csms.domain.circuits import Circuit, Member
from csms.domain.paging import Page, Paged
from csms.domain.transactions import Transaction
from csms.domain.updates import (
    CircuitChanges,
    ConnectorSpecChanges,
    EvseChanges,
    NetworkChanges,
    SiteChanges,
)

__all__ = ["CatalogueStore", "CircuitStore", "EvseStore", "SiteStore"]


class SiteStore(Protocol):
    """Networks and the sites nested under them. Every write that places a site checks the
    hierarchy (csms.domain.site_tree.check_sites) in its own transaction."""

    async def add_network(self, network: Network) -> Network: ...
    async def get_network(self, network_id: str) -> Network | None: ...
    async def list_networks(self, page: Page[str]) -> Paged[Network]: ...
    async def all_networks(self) -> list[Network]: ...
    async def update_network(
        self, network_id: str, changes: NetworkChanges, at: datetime
    ) -> Network: ...
    async def delete_network(self, network_id: str) -> None:
        """Conflict while sites belong to it."""
        ...

    async def add_site(self, site: Site) -> Site: ...
    async def get_site(self, site_id: str) -> Site | None: ...
    async def list_sites(
        self,
        page: Page[str],
        *,
        network_id: str | None = None,
        parent_site_id: str | None = None,
    ) -> Paged[Site]: ...
    async def all_sites(self) -> list[Site]: ...
    async def update_site(self, site_id: str, changes: SiteChanges, at: datetime) -> Site: ...
    async def delete_site(self, site_id: str) -> None:
        """Conflict while sites nest under it or chargers belong to it."""
        ...


class CircuitStore(Protocol):
    """Circuits (the electrical tree), the chargers on them and their priorities. Every write
    that places a circuit checks the tree (csms.domain.circuits.check_circuits) in its own
    transaction."""

    async def add_circuit(self, circuit: Circuit) -> Circuit:
        """Conflict (field ``id``) when the id is taken; Invalid when the site does not exist
        (``siteId``) or the circuit breaks the tree."""
        ...

    async def get_circuit(self, circuit_id: str) -> Circuit | None: ...
    async def list_circuits(
        self,
        page: Page[str],
        *,
        site_id: str | None = None,
        parent_circuit_id: str | None = None,
    ) -> Paged[Circuit]:
        """Ordered by id (the cursor)."""
        ...

    async def all_circuits(self) -> list[Circuit]: ...
    async def update_circuit(
        self, circuit_id: str, changes: CircuitChanges, at: datetime
    ) -> Circuit: ...
    async def delete_circuit(self, circuit_id: str) -> None:
        """Conflict while circuits nest below it or chargers are on it."""
        ...

    async def attach(self, circuit_id: str, cp_id: str, priority: float | None = None) -> Member:
        """Put the charger on the circuit (priority None: 1). Attached to it already: only the
        priority changes, when one is given. NotFound when the circuit does not exist; Invalid
        (``chargePointId``) when the charger does not; Conflict (``chargePointId``) when it is
        on another circuit."""
        ...

    async def detach(self, circuit_id: str, cp_id: str) -> None:
        """Its EVSE priorities go with it; NotFound when it is not on this circuit."""
        ...

    async def set_priority(
        self, circuit_id: str, cp_id: str, evse_id: int | None, priority: float
    ) -> Member:
        """The charger's priority (``evse_id`` None) or one EVSE's; NotFound when the charger is
        not on this circuit."""
        ...

    async def get_member(self, cp_id: str) -> Member | None:
        """The charger's place on a circuit, if it is on one."""
        ...

    async def list_members(self, circuit_id: str | None = None) -> list[Member]:
        """The chargers on the circuit (None: on every circuit), by circuit and charger id."""
        ...

    async def set_transaction_priority(
        self, transaction_pk: int, priority: float | None
    ) -> Transaction:
        """A session's own priority (None: its charger's again); NotFound when unknown."""
        ...


class CatalogueStore(Protocol):
    """The charging-station model catalogue."""

    async def add_model(self, model: ChargingStationModel) -> ChargingStationModel:
        """Conflict (field ``model``) when a live model has the same vendor and model."""
        ...

    async def get_model(self, model_id: str) -> ChargingStationModel | None: ...
    async def list_models(
        self,
        page: Page[str],
        *,
        vendor: str | None = None,
        model: str | None = None,
        is_archived: bool | None = False,
    ) -> Paged[ChargingStationModel]: ...
    async def rename_model(
        self, model_id: str, friendly_name: str | None, at: datetime
    ) -> ChargingStationModel: ...
    async def archive_model(self, model_id: str, at: datetime) -> ChargingStationModel:
        """Chargers linked to it keep the link; it is no longer offered to new links."""
        ...


class EvseStore(Protocol):
    """What operators recorded about EVSEs and their connectors (csms.domain.evses adds the
    model's values and the live status)."""

    async def get_evse_record(self, cp_id: str, evse_id: int) -> EvseRecord | None: ...
    async def list_evse_records(self, cp_id: str) -> list[EvseRecord]: ...
    async def update_evse(
        self, cp_id: str, evse_id: int, changes: EvseChanges, at: datetime
    ) -> EvseRecord:
        """Creates the record on first use; NotFound when the charger does not exist."""
        ...

    async def update_connector_spec(
        self,
        cp_id: str,
        evse_id: int,
        connector_id: int,
        changes: ConnectorSpecChanges,
        at: datetime,
    ) -> EvseRecord: ...
