"""Integration types (the plugin catalogue) and an organisation's configured integrations.

Secrets never appear here: ``secretFields`` names which secret fields are set, nothing more.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend import models
from backend.integrations import registry
from backend.integrations.crypto import secret_fields
from backend.integrations.schemas import TestResult
from backend.integrations.sdk import IntegrationType as PluginType
from backend.integrations.sdk import ToolSpec
from graph.permissions import protect


@strawberry.type(description="A tool as the model sees it.")
class IntegrationTool:
    name: str = strawberry.field(description="The tool's name within its integration.")
    description: str = strawberry.field(description="What the model is told the tool does.")
    args_schema: JSON = strawberry.field(description="JSON Schema of the tool's arguments.")

    @classmethod
    def from_spec(cls, spec: ToolSpec) -> IntegrationTool:
        return cls(name=spec.name, description=spec.description, args_schema=JSON(spec.parameters))


@strawberry.type(description="A kind of integration that can be configured (built-in or from a plugin).")
class IntegrationType:
    key: str = strawberry.field(description="Type key used in createIntegration (e.g. http, sql, mcp).")
    name: str = strawberry.field(description="Human name.")
    description: str = strawberry.field(description="What it connects to.")
    kind: str = strawberry.field(description="`tools` (gives agents tools) or `model` (model credentials).")
    tools: list[str] = strawberry.field(
        description="Names of the type's own tools (discovered ones excluded)."
    )
    tool_definitions: list[IntegrationTool] = strawberry.field(description="The type's tools with schemas.")
    config_schema: JSON = strawberry.field(description="JSON Schema of `config` (render the form from it).")
    secrets_schema: JSON = strawberry.field(description="JSON Schema of `secrets` (write-only fields).")
    discovers_tools: bool = strawberry.field(description="Tools come from the connected system (e.g. MCP).")
    can_test: bool = strawberry.field(description="testIntegration makes a live credential check.")

    @classmethod
    def from_plugin(cls, plugin: PluginType) -> IntegrationType:
        data = plugin.describe()
        specs = plugin.static_tools()
        return cls(
            key=plugin.key,
            name=plugin.name,
            description=plugin.description,
            kind=plugin.kind,
            tools=[s.name for s in specs],
            tool_definitions=[IntegrationTool.from_spec(s) for s in specs],
            config_schema=data["config_schema"],
            secrets_schema=data["secrets_schema"],
            discovers_tools=plugin.dynamic_tools,
            can_test=data["has_test"],
        )


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@strawberry.type(description="An integration type configured for an organisation. Secrets are write-only.")
class Integration:
    model: strawberry.Private[models.Integration]
    id: strawberry.ID = strawberry.field(description="The integration's id (used in tool bindings).")
    type: str = strawberry.field(description="Its IntegrationType key.")
    name: str = strawberry.field(description="Unique name within the organisation.")
    organization_id: strawberry.ID = strawberry.field(description="The owning organisation.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")

    @classmethod
    def from_row(cls, row: models.Integration) -> Integration:
        return cls(
            model=row,
            id=strawberry.ID(str(row.id)),
            type=row.type,
            name=row.name,
            organization_id=strawberry.ID(str(row.organization_id)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(
        description="Connection settings (owners, admins, auditors).", extensions=[protect("config")]
    )
    def config(self) -> JSON | None:
        return JSON(dict(self.model.config or {}))

    @strawberry.field(
        description="Which secret fields are set (their values are never returned).",
        extensions=[protect("config")],
    )
    def secret_fields(self) -> list[str] | None:
        return secret_fields(self.model.secrets)

    @strawberry.field(
        description="Tools it offers (discovered ones included); null when not known yet.",
        extensions=[protect("tools")],
    )
    def tools(self) -> list[IntegrationTool] | None:
        specs = registry.tool_specs(self.model)
        return None if specs is None else [IntegrationTool.from_spec(s) for s in specs]

    @strawberry.field(
        description="Why the last tool discovery failed, if it did.", extensions=[protect("tools")]
    )
    def tools_error(self) -> str | None:
        error = (self.model.cache or {}).get("error")
        return str(error) if error else None

    @strawberry.field(
        description="When the tools were last discovered or imported.", extensions=[protect("tools")]
    )
    def tools_updated_at(self) -> datetime | None:
        cache = self.model.cache or {}
        return _datetime(cache.get("fetchedAt") or cache.get("importedAt"))


@strawberry.type(description="The outcome of a live credential check.")
class IntegrationTestResult:
    ok: bool = strawberry.field(description="Whether the connected system accepted the configuration.")
    message: str = strawberry.field(description="What happened (never contains secrets).")
    tools: list[str] | None = strawberry.field(description="Tools discovered during the check, if any.")

    @classmethod
    def from_result(cls, result: TestResult) -> IntegrationTestResult:
        return cls(ok=result.ok, message=result.message, tools=result.tools)


def parse_id(value: str, field: str) -> uuid.UUID:
    from backend.errors import Invalid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{field}: not a valid id", field=field) from None
