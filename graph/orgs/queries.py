"""``organization(slug)``: outsiders get NOT_FOUND, never a hint that it exists."""

from __future__ import annotations

import strawberry

from backend.orgs import service as orgs
from graph.context import Info
from graph.orgs.types import Organization


@strawberry.type
class OrgQueries:
    @strawberry.field(description="An organisation you belong to, by slug.")
    async def organization(self, info: Info, slug: str) -> Organization | None:
        async with info.context.resources.sessions() as session:
            row = await orgs.organization_by_slug(session, info.context.actor, slug)
        return Organization.from_row(row)
