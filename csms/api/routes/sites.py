"""Networks, sites and the live site tree (API.md "Networks and sites")."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Response

from csms.api.deps import DEFAULT_LIMIT, Ctx, Limit
from csms.api.errors import ApiError
from csms.api.schemas.base import Envelope, ItemPage
from csms.api.schemas.sites import (
    NetworkCreate,
    NetworkOut,
    NetworkUpdate,
    SiteCreate,
    SiteOut,
    SiteTreeBriefNode,
    SiteTreeNode,
    SiteUpdate,
    tree_json,
)
from csms.domain.paging import Page
from csms.domain.updates import UNSET, NetworkChanges, SiteChanges

__all__ = ["router"]

router = APIRouter(tags=["networks and sites"])

Id = Annotated[str, Path(max_length=64)]
StartingAfter = Annotated[
    str | None, Query(alias="startingAfter", description="The id of the last item seen.")
]


# --- networks ----------------------------------------------------------------------------------


@router.get("/networks", summary="List networks (ordered by id)")
async def list_networks(
    ctx: Ctx, limit: Limit = DEFAULT_LIMIT, starting_after: StartingAfter = None
) -> Envelope[ItemPage[NetworkOut]]:
    networks = await ctx.sites.list_networks(Page(limit, starting_after))
    return Envelope(data=ItemPage.of(networks, NetworkOut.from_domain))


@router.post("/networks", status_code=201, summary="Create a network")
async def create_network(ctx: Ctx, body: NetworkCreate) -> Envelope[NetworkOut]:
    network = await ctx.sites.add_network(
        network_id=body.id,
        name=body.name,
        type=body.type,
        physical_address=body.physical_address.to_domain() if body.physical_address else None,
        contact_details=body.contact_details.to_domain() if body.contact_details else None,
    )
    return Envelope(data=NetworkOut.from_domain(network))


@router.get("/networks/{network_id}", summary="One network")
async def get_network(ctx: Ctx, network_id: Id) -> Envelope[NetworkOut]:
    network = await ctx.sites.get_network(network_id)
    if network is None:
        raise ApiError(404, "not_found", f"network {network_id!r} not found")
    return Envelope(data=NetworkOut.from_domain(network))


@router.patch("/networks/{network_id}", summary="Change a network")
async def update_network(ctx: Ctx, network_id: Id, body: NetworkUpdate) -> Envelope[NetworkOut]:
    present = body.model_fields_set
    address, contact = body.physical_address, body.contact_details
    changes = NetworkChanges(
        name=body.name if "name" in present else UNSET,
        type=body.type if "type" in present else UNSET,
        physical_address=(
            (address.to_domain() if address else None) if "physical_address" in present else UNSET
        ),
        contact_details=(
            (contact.to_domain() if contact else None) if "contact_details" in present else UNSET
        ),
    )
    return Envelope(
        data=NetworkOut.from_domain(await ctx.sites.update_network(network_id, changes))
    )


@router.delete(
    "/networks/{network_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a network (409 while sites belong to it)",
)
async def delete_network(ctx: Ctx, network_id: Id) -> Response:
    await ctx.sites.delete_network(network_id)
    return Response(status_code=204)


# --- sites -------------------------------------------------------------------------------------


@router.get("/sites", summary="List sites (ordered by id)")
async def list_sites(
    ctx: Ctx,
    limit: Limit = DEFAULT_LIMIT,
    starting_after: StartingAfter = None,
    network_id: Annotated[
        str | None,
        Query(alias="networkId", max_length=64, description="Sites that name this network."),
    ] = None,
    parent_site_id: Annotated[
        str | None,
        Query(alias="parentSiteId", max_length=64, description="Sites directly below this one."),
    ] = None,
) -> Envelope[ItemPage[SiteOut]]:
    sites = await ctx.sites.list_sites(
        Page(limit, starting_after), network_id=network_id, parent_site_id=parent_site_id
    )
    return Envelope(data=ItemPage.of(sites, SiteOut.from_domain))


@router.post("/sites", status_code=201, summary="Create a site, area or group")
async def create_site(ctx: Ctx, body: SiteCreate) -> Envelope[SiteOut]:
    site = await ctx.sites.add_site(
        site_id=body.id,
        name=body.name,
        type=body.type,
        network_id=body.network_id,
        parent_site_id=body.parent_site_id,
        external_id=body.external_id,
    )
    return Envelope(data=SiteOut.from_domain(site))


@router.get("/sites/{site_id}", summary="One site")
async def get_site(ctx: Ctx, site_id: Id) -> Envelope[SiteOut]:
    site = await ctx.sites.get_site(site_id)
    if site is None:
        raise ApiError(404, "not_found", f"site {site_id!r} not found")
    return Envelope(data=SiteOut.from_domain(site))


@router.patch("/sites/{site_id}", summary="Change or move a site (a cycle is a 422)")
async def update_site(ctx: Ctx, site_id: Id, body: SiteUpdate) -> Envelope[SiteOut]:
    present = body.model_fields_set
    changes = SiteChanges(
        name=body.name if "name" in present else UNSET,
        type=body.type if "type" in present else UNSET,
        network_id=body.network_id if "network_id" in present else UNSET,
        parent_site_id=body.parent_site_id if "parent_site_id" in present else UNSET,
        external_id=body.external_id if "external_id" in present else UNSET,
    )
    return Envelope(data=SiteOut.from_domain(await ctx.sites.update_site(site_id, changes)))


@router.delete(
    "/sites/{site_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a site (409 while sites nest below it or chargers belong to it)",
)
async def delete_site(ctx: Ctx, site_id: Id) -> Response:
    await ctx.sites.delete_site(site_id)
    return Response(status_code=204)


# --- the tree ----------------------------------------------------------------------------------


@router.get(
    "/site-tree",
    summary="The site tree with live socket counts",
    response_class=Response,
    responses={
        200: {
            "description": "Networks as roots (then the `unassigned` node); with "
            "`excludeDetails=true` each node is a SiteTreeBriefNode.",
            "model": Envelope[list[SiteTreeNode | SiteTreeBriefNode]],
        }
    },
)
async def site_tree(
    ctx: Ctx,
    network_id: Annotated[
        str | None, Query(alias="networkId", max_length=64, description="Only this network.")
    ] = None,
    exclude_details: Annotated[
        bool,
        Query(alias="excludeDetails", description="Nodes as `{id, name, type, subgroups}`."),
    ] = False,
) -> Response:
    tree = await ctx.sites.tree(network_id)
    body = orjson.dumps({"data": tree_json(tree, brief=exclude_details)})
    return Response(body, media_type="application/json")
