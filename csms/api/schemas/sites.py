"""Networks, sites and the site tree."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic.alias_generators import to_camel

from csms.api.schemas.base import ApiModel, RequestModel, Timestamp, optional_field
from csms.domain.assets import Address, ContactDetails, Network, Site
from csms.domain.site_tree import UNASSIGNED, TreeNode

__all__ = [
    "AssetId",
    "ContactDetailsBody",
    "NetworkCreate",
    "NetworkOut",
    "NetworkUpdate",
    "PhysicalAddress",
    "SiteCreate",
    "SiteOut",
    "SiteTreeBriefNode",
    "SiteTreeNode",
    "SiteUpdate",
    "tree_json",
]

AssetId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="Optional on create (one is generated): letters, digits, `.`, `_`, `:`, `-`.",
    ),
]
AssetName = Annotated[str, Field(min_length=1, max_length=255)]
Text = Annotated[str, Field(max_length=255)]
SiteType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="`site`, `area` or `group`; the operator's own word is accepted too.",
    ),
]


class PhysicalAddress(RequestModel):
    street_number: Text | None = None
    street_name: Text
    street_details: Text | None = None
    city: Text
    state: Text | None = None
    postal_code: Annotated[str, Field(max_length=32)]
    country_code: Annotated[
        str, Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    ]

    def to_domain(self) -> Address:
        return Address(**self.model_dump())


class ContactDetailsBody(RequestModel):
    phone: Annotated[str, Field(max_length=64)] | None = None
    website: Annotated[str, Field(max_length=2048)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None

    def to_domain(self) -> ContactDetails:
        return ContactDetails(**self.model_dump())


def _camel(record: Address | ContactDetails | None) -> dict[str, Any] | None:
    """A nested record as JSON: camelCase keys, unset fields left out."""
    if record is None:
        return None
    values = {name: getattr(record, name) for name in record.__slots__}
    return {to_camel(name): value for name, value in values.items() if value is not None}


class NetworkOut(ApiModel):
    id: str
    name: str
    type: str | None
    physical_address: dict[str, Any] | None = Field(
        description="`{streetNumber?, streetName, streetDetails?, city, state?, postalCode, "
        "countryCode}`"
    )
    contact_details: dict[str, Any] | None = Field(description="`{phone?, website?, email?}`")
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_domain(cls, network: Network) -> NetworkOut:
        return cls(
            id=network.id,
            name=network.name,
            type=network.type,
            physical_address=_camel(network.physical_address),
            contact_details=_camel(network.contact_details),
            created_at=network.created_at,
            updated_at=network.updated_at,
        )


class NetworkCreate(RequestModel):
    id: AssetId | None = None
    name: AssetName
    type: Text | None = None
    physical_address: PhysicalAddress | None = None
    contact_details: ContactDetailsBody | None = None


class NetworkUpdate(RequestModel):
    """Only the fields present change; null clears a nullable one."""

    name: AssetName = optional_field()
    type: Text | None = None
    physical_address: PhysicalAddress | None = None
    contact_details: ContactDetailsBody | None = None


class SiteOut(ApiModel):
    id: str
    name: str
    type: str
    network_id: str | None
    parent_site_id: str | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def from_domain(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            name=site.name,
            type=site.type,
            network_id=site.network_id,
            parent_site_id=site.parent_site_id,
            external_id=site.external_id,
            created_at=site.created_at,
            updated_at=site.updated_at,
        )


class SiteCreate(RequestModel):
    id: AssetId | None = None
    name: AssetName
    type: SiteType = "site"
    network_id: AssetId | None = Field(
        default=None, description="Its network; a nested site inherits its parent's when unset."
    )
    parent_site_id: AssetId | None = None
    external_id: Text | None = None


class SiteUpdate(RequestModel):
    """Only the fields present change; null clears a nullable one (a null `parentSiteId`
    makes it a top-level site)."""

    name: AssetName = optional_field()
    type: SiteType = optional_field()
    network_id: AssetId | None = None
    parent_site_id: AssetId | None = None
    external_id: Text | None = None


class SiteTreeNode(ApiModel):
    """The documentation of one node; the route writes the JSON itself (10,000 chargers)."""

    id: str = Field(description=f"A network's or site's id, or `{UNASSIGNED}`.")
    group_name: str
    group_type: str = Field(description=f"`network`, the site's type, or `{UNASSIGNED}`.")
    external_id: str | None
    subgroups: list[SiteTreeNode]
    chargers: list[str] = Field(description="The ids of the charge points directly on it.")
    online_socket: int = Field(description="Connectors of connected chargers, not Faulted.")
    offline_socket: int = Field(description="Connectors of chargers that are not connected.")
    error_socket: int = Field(description="Connectors of connected chargers that are Faulted.")


class SiteTreeBriefNode(ApiModel):
    """A node with `excludeDetails=true`."""

    id: str
    name: str
    type: str
    subgroups: list[SiteTreeBriefNode]


def tree_json(nodes: list[TreeNode], *, brief: bool) -> list[dict[str, Any]]:
    """The tree as the JSON documented by SiteTreeNode / SiteTreeBriefNode, built directly:
    pydantic would validate every node of a tree of ten thousand chargers on the way out."""
    if brief:
        return [
            {
                "id": n.id,
                "name": n.name,
                "type": n.type,
                "subgroups": tree_json(n.subgroups, brief=True),
            }
            for n in nodes
        ]
    return [
        {
            "id": n.id,
            "groupName": n.name,
            "groupType": n.type,
            "externalId": n.external_id,
            "subgroups": tree_json(n.subgroups, brief=False),
            "chargers": n.chargers,
            "onlineSocket": n.counts.online,
            "offlineSocket": n.counts.offline,
            "errorSocket": n.counts.error,
        }
        for n in nodes
    ]
