"""``viewer``: who am I."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.identity.loaders import user_by_id
from graph.identity.types import User


@strawberry.type
class IdentityQueries:
    @strawberry.field(description="The signed-in user (or the API key's user); null when anonymous.")
    async def viewer(self, info: Info) -> User | None:
        actor = info.context.actor
        if not actor.authenticated or actor.user_id is None:
            return None
        row = await user_by_id(info).load(actor.user_id)
        return User.from_row(row) if row else None
