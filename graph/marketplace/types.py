"""Marketplace types: listings (no configuration, ever), facets and the connection."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from backend.marketplace.schemas import Listing as ListingRow
from graph.agents.config import Visibility
from graph.pagination import PageInfo


@strawberry.enum(description="Marketplace orders.")
class MarketplaceSort(Enum):
    RELEVANCE = strawberry.enum_value(
        "relevance", description="Best full-text match first (needs a search; without one, most used first)."
    )
    NEWEST = strawberry.enum_value("newest", description="Most recently deployed first.")
    MOST_USED = strawberry.enum_value("most_used", description="Most conversations started first.")


@strawberry.type(description="A deployed agent as end users see it in the marketplace.")
class Listing:
    id: strawberry.ID = strawberry.field(description="The listing's id (equal to its deployment id).")
    deployment_id: strawberry.ID = strawberry.field(description="Start threads with this deployment id.")
    agent_id: strawberry.ID = strawberry.field(description="The deployed agent.")
    name: str = strawberry.field(description="The agent's name.")
    description: str = strawberry.field(description="What the agent does.")
    category: str | None = strawberry.field(description="Marketplace category.")
    tags: list[str] = strawberry.field(description="Tags.")
    icon: str | None = strawberry.field(description="An emoji or icon name.")
    example_prompts: list[str] = strawberry.field(description="Prompts to try.")
    organization_name: str = strawberry.field(description="The publishing organization's name.")
    organization_slug: str = strawberry.field(description="The publishing organization's slug.")
    visibility: Visibility = strawberry.field(description="ORGANIZATION (your organization only) or PUBLIC.")
    usage_count: int = strawberry.field(description="Conversations started with it.")
    deployed_at: datetime = strawberry.field(description="When its current version was deployed.")
    relevance: float | None = strawberry.field(
        description="Full-text rank for the search (RELEVANCE order only)."
    )

    @classmethod
    def from_row(cls, r: ListingRow) -> Listing:
        did = strawberry.ID(str(r.deployment_id))
        return cls(
            id=did,
            deployment_id=did,
            agent_id=strawberry.ID(str(r.agent_id)),
            name=r.name,
            description=r.description,
            category=r.category,
            tags=r.tags,
            icon=r.icon,
            example_prompts=r.example_prompts,
            organization_name=r.organization_name,
            organization_slug=r.organization_slug,
            visibility=Visibility(r.visibility),
            usage_count=r.usage_count,
            deployed_at=r.deployed_at,
            relevance=r.rank,
        )


@strawberry.type(description="A listing in a connection.")
class ListingEdge:
    cursor: str = strawberry.field(description="Opaque cursor (sort key and id) of this listing.")
    node: Listing = strawberry.field(description="The listing.")


@strawberry.type(description="How many listings of the current search fall in a category.")
class CategoryFacet:
    category: str | None = strawberry.field(description="The category; null for uncategorised listings.")
    count: int = strawberry.field(description="Matching listings in it.")


@strawberry.type(description="A page of marketplace listings, with category facets for the same search.")
class ListingConnection:
    edges: list[ListingEdge] = strawberry.field(description="The listings of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    facets: list[CategoryFacet] = strawberry.field(
        description="Category counts for the search (ignoring the category filter), largest first."
    )
    total_count: int = strawberry.field(
        description="Listings matching the search and category, over all pages."
    )
