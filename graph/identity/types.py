"""GraphQL types of accounts and credentials."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from backend import models
from backend.authz import authorized_select
from graph.context import Info

if TYPE_CHECKING:
    from graph.orgs.types import Membership, Organization


@strawberry.type(description="A person, or a service account used by integrators' API keys.")
class User:
    model: strawberry.Private[models.User]
    id: strawberry.ID = strawberry.field(description="The user's id.")
    email: str = strawberry.field(description="E-mail address (login name).")
    display_name: str = strawberry.field(description="Name shown to others.")
    is_service_account: bool = strawberry.field(description="A non-human account that cannot log in.")
    created_at: datetime = strawberry.field(description="When the account was created.")

    @classmethod
    def from_row(cls, row: models.User) -> User:
        return cls(
            model=row,
            id=strawberry.ID(str(row.id)),
            email=row.email,
            display_name=row.display_name,
            is_service_account=row.is_service_account,
            created_at=row.created_at,
        )

    @strawberry.field(
        description="This user's memberships in organisations you belong to (all of them for you)."
    )
    async def memberships(
        self, info: Info
    ) -> list[Annotated[Membership, strawberry.lazy("graph.orgs.types")]]:
        from graph.orgs.types import Membership

        async with info.context.resources.sessions() as session:
            stmt = await authorized_select(session, info.context.actor, "read", models.Membership)
            rows = (await session.scalars(stmt.where(models.Membership.user_id == self.model.id))).all()
        return [Membership.from_row(r) for r in rows]

    @strawberry.field(description="Organisations of this user that you can see.")
    async def organizations(
        self, info: Info
    ) -> list[Annotated[Organization, strawberry.lazy("graph.orgs.types")]]:
        from graph.identity.loaders import organization_by_id
        from graph.orgs.types import Organization

        rows = await organization_by_id(info).load_many(
            [m.model.organization_id for m in await self.memberships(info)]
        )
        return [Organization.from_row(r) for r in rows if r is not None]


@strawberry.type(description="A session token and the signed-in user.")
class AuthPayload:
    token: str = strawberry.field(
        description="Bearer token for `Authorization: Bearer <token>`; keep it secret."
    )
    user: User = strawberry.field(description="The signed-in user.")


@strawberry.type(
    description="An integrator credential: acts as its owner narrowed to its scopes, in one organisation."
)
class ApiKey:
    model: strawberry.Private[models.ApiKey]
    id: strawberry.ID = strawberry.field(description="The key's id.")
    name: str = strawberry.field(description="A label chosen at creation.")
    prefix: str = strawberry.field(description="The public start of the key (`agk_...`), to recognise it.")
    scopes: list[str] = strawberry.field(description="What the key may do (see the API key scopes).")
    organization_id: strawberry.ID = strawberry.field(description="The one organisation the key acts in.")
    user_id: strawberry.ID = strawberry.field(description="The user (or service account) the key acts as.")
    expires_at: datetime | None = strawberry.field(description="When the key stops working; null: never.")
    last_used_at: datetime | None = strawberry.field(description="Last use (updated at most once a minute).")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null: active.")
    created_at: datetime = strawberry.field(description="When the key was created.")

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            model=row,
            id=strawberry.ID(str(row.id)),
            name=row.name,
            prefix=row.prefix,
            scopes=list(row.scopes),
            organization_id=strawberry.ID(str(row.organization_id)),
            user_id=strawberry.ID(str(row.user_id)),
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A new API key; the secret is shown this once and never again.")
class ApiKeyCreated:
    api_key: ApiKey = strawberry.field(description="The key's metadata.")
    secret: str = strawberry.field(description="The full key: send it as `Authorization: Bearer <secret>`.")
