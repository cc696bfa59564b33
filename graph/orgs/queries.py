"""``organization(slug)``: outsiders get NOT_FOUND, never a hint that it exists."""

from __future__ import annotations

import strawberry

from backend.authz import authorize
from backend.errors import NotFound, Unauthenticated
from backend.orgs import repository as repo
from graph.context import Info
from graph.orgs.types import Organization


@strawberry.type
class OrgQueries:
    @strawberry.field(description="An organisation you belong to, by slug.")
    async def organization(self, info: Info, slug: str) -> Organization | None:
        actor = info.context.actor
        if not actor.authenticated:
            raise Unauthenticated("Sign in to continue")
        async with info.context.resources.sessions() as session:
            row = (await session.scalars(repo.by_slug(slug.strip().lower()))).first()
            if row is None:
                raise NotFound("No such organization")
            await authorize(session, actor, "read", row)
        return Organization.from_row(row)
