"""The marketplace query."""

from __future__ import annotations

import strawberry

from backend.marketplace import service
from backend.marketplace.schemas import Sort
from graph.context import Info
from graph.marketplace.types import CategoryFacet, Listing, ListingConnection, ListingEdge, MarketplaceSort
from graph.pagination import PageInfo

FACET_FIELDS = {"facets", "totalCount"}


def _wants_facets(info: Info) -> bool:
    """Lookahead: facets and totalCount share one aggregate; skip it when neither is selected."""
    return any(
        getattr(sub, "name", None) in FACET_FIELDS
        for field in info.selected_fields
        for sub in field.selections
    )


@strawberry.type
class MarketplaceQueries:
    @strawberry.field(
        description="Live deployments you may use: full-text search over name, tags, category and "
        "description (best match first), a category filter, facets and keyset pagination."
    )
    async def marketplace(
        self,
        info: Info,
        search: str | None = None,
        category: str | None = None,
        sort: MarketplaceSort = MarketplaceSort.RELEVANCE,
        first: int | None = 20,
        after: str | None = None,
    ) -> ListingConnection:
        with_facets = _wants_facets(info)
        async with info.context.resources.sessions() as session:
            page = await service.listings(
                session,
                info.context.actor,
                search=search,
                category=category,
                sort=Sort(str(sort.value)),
                first=first,
                after=after,
                with_facets=with_facets,
            )
        facets = [CategoryFacet(category=f.category, count=f.count) for f in page.facets or []]
        total = sum(f.count for f in facets if page.query.category in (None, f.category))
        return ListingConnection(
            edges=[ListingEdge(cursor=r.cursor, node=Listing.from_row(r)) for r in page.listings],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            facets=facets,
            total_count=total,
        )
