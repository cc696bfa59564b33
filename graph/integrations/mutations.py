"""Mutations: each opens one transaction and calls one service function."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend.db import transaction
from backend.errors import Invalid
from backend.integrations import service
from backend.integrations.schemas import CreateIntegrationInput as CreateData
from backend.integrations.schemas import ImportOpenApiInput as ImportData
from backend.integrations.schemas import UpdateIntegrationInput as UpdateData
from graph.context import Info
from graph.integrations.types import Integration, IntegrationTestResult, parse_id


def _object(value: Any, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"{field}: must be a JSON object", field=field)
    return value


@strawberry.input(description="A new integration of an organisation.")
class CreateIntegrationInput:
    organization_id: strawberry.ID = strawberry.field(description="The organisation.")
    type: str = strawberry.field(description="An IntegrationType key.")
    name: str = strawberry.field(description="Unique name within the organisation.")
    config: JSON | None = strawberry.field(default=None, description="Settings, per the type's configSchema.")
    secrets: JSON | None = strawberry.field(
        default=None, description="Secrets, per the type's secretsSchema."
    )


@strawberry.input(description="Changes to an integration; omitted fields stay as they are.")
class UpdateIntegrationInput:
    id: strawberry.ID = strawberry.field(description="The integration.")
    name: str | None = strawberry.field(default=None, description="New name.")
    config: JSON | None = strawberry.field(default=None, description="Replaces the whole config.")
    secrets: JSON | None = strawberry.field(
        default=None, description="Merged into the stored secrets; a null value clears that field."
    )


@strawberry.input(description="An OpenAPI 3 document to turn into tools of an http integration.")
class ImportOpenApiInput:
    integration_id: strawberry.ID = strawberry.field(description="An integration of type http.")
    document: str = strawberry.field(description="The OpenAPI document, JSON or YAML text.")


@strawberry.type
class IntegrationMutations:
    @strawberry.mutation(description="Configure an integration for an organisation (`manage_integrations`).")
    async def create_integration(self, info: Info, input: CreateIntegrationInput) -> Integration:
        data = CreateData(
            organization_id=parse_id(input.organization_id, "organizationId"),
            type=input.type,
            name=input.name,
            config=_object(input.config, "config") or {},
            secrets=_object(input.secrets, "secrets") or {},
        )
        async with transaction(info.context.resources.sessions) as session:
            row = await service.create_integration(
                session, info.context.actor, info.context.resources.settings, data
            )
        return Integration.from_row(row)

    @strawberry.mutation(description="Rename, reconfigure or change secrets of an integration (`manage`).")
    async def update_integration(self, info: Info, input: UpdateIntegrationInput) -> Integration:
        data = UpdateData(
            id=parse_id(input.id, "id"),
            name=input.name,
            config=_object(input.config, "config"),
            secrets=_object(input.secrets, "secrets"),
        )
        async with transaction(info.context.resources.sessions) as session:
            row = await service.update_integration(
                session, info.context.actor, info.context.resources.settings, data
            )
        return Integration.from_row(row)

    @strawberry.mutation(
        description="Delete an integration (`manage`); returns its id. Bound agents lose its tools."
    )
    async def delete_integration(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        async with transaction(info.context.resources.sessions) as session:
            deleted = await service.delete_integration(session, info.context.actor, parse_id(id, "id"))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(description="Check the credentials against the connected system (`manage`).")
    async def test_integration(self, info: Info, id: strawberry.ID) -> IntegrationTestResult:
        async with transaction(info.context.resources.sessions) as session:
            result = await service.check_integration(
                session, info.context.actor, info.context.resources.settings, parse_id(id, "id")
            )
        return IntegrationTestResult.from_result(result)

    @strawberry.mutation(description="Generate one tool per operation of an OpenAPI document (http type).")
    async def import_open_api(self, info: Info, input: ImportOpenApiInput) -> Integration:
        data = ImportData(id=parse_id(input.integration_id, "integrationId"), document=input.document)
        async with transaction(info.context.resources.sessions) as session:
            row = await service.import_openapi(session, info.context.actor, data)
        return Integration.from_row(row)

    @strawberry.mutation(description="Re-read the tool list of an integration that discovers tools (MCP).")
    async def refresh_integration_tools(self, info: Info, id: strawberry.ID) -> Integration:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.refresh_tools(
                session, info.context.actor, info.context.resources.settings, parse_id(id, "id")
            )
        return Integration.from_row(row)
