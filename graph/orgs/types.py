"""GraphQL types of organisations and memberships.

Other domains add their relation fields to ``Organization`` (one resolver line each, e.g.
``agents`` and ``integrations``); the type keeps its row in ``model``.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from backend import models
from backend.authz import authorized_select, load_principal
from backend.identity import apikeys
from backend.orgs import repository as repo
from graph.context import Info
from graph.identity.loaders import organization_by_id, user_by_id
from graph.identity.types import ApiKey, User
from graph.pagination import PageInfo

if TYPE_CHECKING:
    from graph.agents.types import AgentConnection
    from graph.integrations.types import Integration

MAX_PAGE = 100


@strawberry.enum(
    description="Organisation roles, from most to least powerful; AUDITOR reads audit and config only."
)
class OrgRole(Enum):
    OWNER = "owner"
    ADMIN = "admin"
    BUILDER = "builder"
    MEMBER = "member"
    AUDITOR = "auditor"


@strawberry.enum(description="Per-agent roles granted to organisation members.")
class AgentRole(Enum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


@strawberry.enum(description="Whether a membership is active or an invitation still to be accepted.")
class MembershipStatus(Enum):
    ACTIVE = "active"
    INVITED = "invited"


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        from backend.errors import Invalid

        raise Invalid("after: not a cursor from this API", field="after") from None


@strawberry.type(
    description="An organisation: the tenant that owns agents, integrations, keys and audit log."
)
class Organization:
    model: strawberry.Private[models.Organization]
    id: strawberry.ID = strawberry.field(description="The organisation's id.")
    slug: str = strawberry.field(description="URL name, unique.")
    name: str = strawberry.field(description="Display name.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            model=row, id=strawberry.ID(str(row.id)), slug=row.slug, name=row.name, created_at=row.created_at
        )

    @strawberry.field(
        description="Your role here; null when you act through a credential without membership."
    )
    async def viewer_role(self, info: Info) -> OrgRole | None:
        async with info.context.resources.sessions() as session:
            role = (await load_principal(session, info.context.actor)).role_in(self.model.id)
        return OrgRole(role) if role else None

    @strawberry.field(description="Members, oldest first.")
    async def members(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> MembershipConnection:
        limit = max(1, min(first or 50, MAX_PAGE))
        cursor = decode_cursor(after)
        after_id = uuid.UUID(cursor) if cursor else None
        async with info.context.resources.sessions() as session:
            base = await authorized_select(session, info.context.actor, "read", models.Membership)
            stmt = base.where(models.Membership.organization_id == self.model.id)
            if after_id is not None:
                stmt = stmt.where(models.Membership.id > after_id)
            rows = list((await session.scalars(stmt.order_by(models.Membership.id).limit(limit + 1))).all())
            total = (await session.execute(repo.count_members(self.model.id))).scalar_one() if rows else 0
        page = rows[:limit]
        edges = [MembershipEdge(cursor=encode_cursor(str(m.id)), node=Membership.from_row(m)) for m in page]
        return MembershipConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=total,
        )

    @strawberry.field(description="Agents of this organisation you may read, newest first.")
    async def agents(
        self, info: Info, first: int | None = 20, after: str | None = None, include_archived: bool = False
    ) -> Annotated[AgentConnection, strawberry.lazy("graph.agents.types")]:
        from graph.agents.queries import organization_agents

        return await organization_agents(info, self.model.id, first, after, include_archived)

    @strawberry.field(description="Integrations of this organisation you may read, by name.")
    async def integrations(
        self, info: Info
    ) -> list[Annotated[Integration, strawberry.lazy("graph.integrations.types")]]:
        from graph.integrations.queries import organization_integrations

        return await organization_integrations(info, self.model.id)

    @strawberry.field(description="API keys of this organisation you may see (yours; all for key managers).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        async with info.context.resources.sessions() as session:
            rows = await apikeys.list_api_keys(session, info.context.actor, organization_id=self.model.id)
        return [ApiKey.from_row(r) for r in rows]


@strawberry.type(description="A person's role in an organisation, or a pending invitation.")
class Membership:
    model: strawberry.Private[models.Membership | None]
    invitation: strawberry.Private[models.Invitation | None]
    id: strawberry.ID = strawberry.field(description="Membership id (or invitation id while INVITED).")
    role: OrgRole = strawberry.field(description="The role in the organisation.")
    status: MembershipStatus = strawberry.field(
        description="ACTIVE, or INVITED until the invitation is accepted."
    )
    email: str | None = strawberry.field(description="Invited e-mail address (INVITED only).")
    invitation_token: str | None = strawberry.field(
        description="Returned once, to the inviter: the invitee accepts with acceptInvitation(token)."
    )
    organization_id: strawberry.ID = strawberry.field(description="The organisation.")
    user_id: strawberry.ID | None = strawberry.field(description="The member (null while INVITED).")

    @classmethod
    def from_row(cls, row: models.Membership) -> Membership:
        return cls(
            model=row,
            invitation=None,
            id=strawberry.ID(str(row.id)),
            role=OrgRole(row.role),
            status=MembershipStatus.ACTIVE,
            email=None,
            invitation_token=None,
            organization_id=strawberry.ID(str(row.organization_id)),
            user_id=strawberry.ID(str(row.user_id)),
        )

    @classmethod
    def from_invitation(cls, row: models.Invitation, token: str | None) -> Membership:
        return cls(
            model=None,
            invitation=row,
            id=strawberry.ID(str(row.id)),
            role=OrgRole(row.role),
            status=MembershipStatus.INVITED,
            email=row.email,
            invitation_token=token,
            organization_id=strawberry.ID(str(row.organization_id)),
            user_id=None,
        )

    @strawberry.field(description="The member (null while INVITED).")
    async def user(self, info: Info) -> User | None:
        if self.model is None:
            return None
        row = await user_by_id(info).load(self.model.user_id)
        return User.from_row(row) if row else None

    @strawberry.field(description="The organisation.")
    async def organization(self, info: Info) -> Organization | None:
        row = await organization_by_id(info).load(uuid.UUID(str(self.organization_id)))
        return Organization.from_row(row) if row else None


@strawberry.type(description="An edge of a membership list.")
class MembershipEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this edge.")
    node: Membership = strawberry.field(description="The membership.")


@strawberry.type(description="A page of memberships.")
class MembershipConnection:
    edges: list[MembershipEdge] = strawberry.field(description="The memberships of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination.")
    total_count: int = strawberry.field(description="Members in the organisation.")


@strawberry.type(description="A per-agent role held by an organisation member.")
class AgentGrant:
    agent_id: strawberry.ID = strawberry.field(description="The agent.")
    user_id: strawberry.ID = strawberry.field(description="The member.")
    role: AgentRole = strawberry.field(description="owner, editor or viewer.")
