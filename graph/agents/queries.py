"""Agent, deployment and version-diff queries, and ``Organization.agents``."""

from __future__ import annotations

import uuid

import strawberry

from backend.agents import service
from backend.agents.versioning import FieldChange
from graph.agents import loaders
from graph.agents.inputs import parse_id
from graph.agents.types import (
    Agent,
    AgentConnection,
    AgentEdge,
    AgentVersion,
    AgentVersionDiff,
    ConfigChange,
    Deployment,
)
from graph.context import Info
from graph.pagination import PageInfo


def _change(c: FieldChange) -> ConfigChange:
    return ConfigChange(path=c.path, kind=c.kind, before=c.before, after=c.after)


@strawberry.type
class AgentQueries:
    @strawberry.field(
        description="An agent by id. Listing fields need `read`; configuration fields need "
        "`read_config` (null with a FORBIDDEN error otherwise)."
    )
    async def agent(self, info: Info, id: strawberry.ID) -> Agent | None:
        # Through the loader, so aliased sibling agent(id:) fields share one batch and their
        # relations (versions, deployment...) resume together and batch as well.
        row = await loaders.agent_by_id(info).load(parse_id(id, "id"))
        async with info.context.resources.sessions() as session:
            row = await service.readable(session, info.context.actor, row)
        return Agent.from_row(row)

    @strawberry.field(description="A deployment by id (to those who may use or manage it).")
    async def deployment(self, info: Info, id: strawberry.ID) -> Deployment | None:
        async with info.context.resources.sessions() as session:
            row = await service.get_deployment(session, info.context.actor, parse_id(id, "id"))
        return Deployment.from_row(row)

    @strawberry.field(description="Field-level changes between two versions of the same agent.")
    async def agent_version_diff(
        self, info: Info, from_version_id: strawberry.ID, to_version_id: strawberry.ID
    ) -> AgentVersionDiff:
        async with info.context.resources.sessions() as session:
            before, after, changes = await service.diff_versions(
                session,
                info.context.actor,
                from_version_id=parse_id(from_version_id, "fromVersionId"),
                to_version_id=parse_id(to_version_id, "toVersionId"),
            )
        return AgentVersionDiff(
            from_version=AgentVersion.from_row(before),
            to_version=AgentVersion.from_row(after),
            changes=[_change(c) for c in changes],
        )


async def organization_agents(
    info: Info, organization_id: uuid.UUID, first: int | None, after: str | None, include_archived: bool
) -> AgentConnection:
    """Resolver behind ``Organization.agents`` (the field lives on the orgs' type)."""
    async with info.context.resources.sessions() as session:
        page = await service.list_for_organization(
            session,
            info.context.actor,
            organization_id=organization_id,
            first=first,
            after=after,
            include_archived=include_archived,
        )
    loaders.prime_agents(info, page.agents)
    edges = [
        AgentEdge(cursor=c, node=Agent.from_row(a)) for a, c in zip(page.agents, page.cursors, strict=True)
    ]
    return AgentConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page, end_cursor=page.cursors[-1] if page.cursors else None
        ),
        total_count=page.total_count,
    )
