"""Queries: the integration-type catalogue and one integration; lists hang off ``Organization``."""

from __future__ import annotations

import uuid

import strawberry

from backend.integrations import registry, service
from graph.context import Info
from graph.integrations.types import Integration, IntegrationType, parse_id


async def organization_integrations(info: Info, organization_id: uuid.UUID) -> list[Integration]:
    async with info.context.resources.sessions() as session:
        rows = await service.list_integrations(session, info.context.actor, organization_id)
    return [Integration.from_row(r) for r in rows]


@strawberry.type
class IntegrationQueries:
    @strawberry.field(
        description="Every installed integration type (built-ins and plugins) with form schemas."
    )
    def integration_types(self) -> list[IntegrationType]:
        return [IntegrationType.from_plugin(t) for t in registry.all_types().values()]

    @strawberry.field(description="One integration (needs `read` on it).")
    async def integration(self, info: Info, id: strawberry.ID) -> Integration | None:
        async with info.context.resources.sessions() as session:
            row = await service.get_integration(session, info.context.actor, parse_id(id, "id"))
        return Integration.from_row(row)
