"""Marketplace: the live deployments a viewer may ``use``, searched, faceted and paged.

Visibility comes from the policy only: every statement starts from
``authorized_select(actor, "use", Deployment)`` and narrows it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor, authorized_select
from backend.marketplace import repository as repo
from backend.marketplace.schemas import Cursor, Facet, Listing, Page, Query, Sort
from backend.models import Deployment


async def listings(
    session: AsyncSession,
    actor: Actor,
    *,
    search: str | None = None,
    category: str | None = None,
    sort: Sort = Sort.RELEVANCE,
    first: int | None = None,
    after: str | None = None,
    with_facets: bool = False,
) -> Page:
    """One page; ``with_facets`` also fills ``Page.facets`` in the same statement."""
    query = Query.build(search, category, sort, first)
    cursor = Cursor.decode(after, query) if after else None
    base = await authorized_select(session, actor, "use", Deployment)
    stmt = repo.page_with_facets(base, query, cursor) if with_facets else repo.page(base, query, cursor)
    rows = (await session.execute(stmt)).all()
    found = [row for row in rows if row.id is not None]  # the facets anchor row of an empty page
    items = [_listing(row, query) for row in found[: query.first]]
    page = Page(items, has_next_page=len(found) > query.first, query=query)
    if with_facets:
        pairs = rows[0].facets if rows else []
        page.facets = sorted(
            (Facet(c, n) for c, n in pairs), key=lambda f: (-f.count, f.category is None, f.category or "")
        )
    return page


async def facets(session: AsyncSession, actor: Actor, query: Query) -> list[Facet]:
    """Category counts for the same search (the category filter itself is not applied)."""
    base = await authorized_select(session, actor, "use", Deployment)
    rows = (await session.execute(repo.facets(base, query))).all()
    return [Facet(row.category, row.n) for row in rows]


def _listing(row: object, query: Query) -> Listing:
    data = row._mapping  # type: ignore[attr-defined]
    rank = float(data["sort_key"]) if query.sort is Sort.RELEVANCE else None
    return Listing(
        deployment_id=data["id"],
        agent_id=data["agent_id"],
        name=data["name"],
        description=data["description"],
        category=data["category"],
        tags=list(data["tags"] or []),
        icon=data["icon"],
        example_prompts=list(data["example_prompts"] or []),
        organization_name=data["organization_name"],
        organization_slug=data["organization_slug"],
        visibility=data["visibility"],
        usage_count=data["usage_count"],
        deployed_at=data["deployed_at"],
        rank=rank,
        cursor=Cursor(data["sort_key"], data["id"]).encode(query),
    )
