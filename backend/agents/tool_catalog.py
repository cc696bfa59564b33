"""Resolves an agent's tool bindings to the tools the model sees.

The agents service validates bindings with it (integration in the same organisation,
named tools exist) and the runtime uses the same resolution, so the names a builder
sees in ``Agent.toolNames`` are exactly the names the model is offered.

Naming rule: a tool keeps its own name (``request``, ``query``...). When two bound
integrations expose the same name, each colliding tool is prefixed with its
integration's name (``crm_request``, ``billing_request``); names are restricted to
``[A-Za-z0-9_-]`` as model providers require.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.schemas import ToolBinding
from backend.errors import Invalid
from backend.integrations import registry
from backend.models import Integration


@dataclass(frozen=True)
class ResolvedTool:
    name: str  # what the model sees
    tool: str  # the integration's own tool name
    integration_id: uuid.UUID
    integration_type: str


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "tool"


def available_tools(integration: Integration) -> list[str] | None:
    """The integration's tool names, or ``None`` when they cannot be known yet (undiscovered MCP)."""
    return registry.tool_names(integration)


async def load_integrations(
    session: AsyncSession, organization_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Integration]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(Integration).where(Integration.organization_id == organization_id, Integration.id.in_(ids))
    )
    return {row.id: row for row in rows}


def resolve_loaded(
    bindings: Sequence[ToolBinding], found: Mapping[uuid.UUID, Integration], *, strict: bool = True
) -> list[ResolvedTool]:
    """Resolution over already-loaded integrations. ``strict=False`` (display of a stored
    config) skips bindings whose integration or tool has gone instead of raising."""
    picked: list[tuple[Integration, str]] = []
    for index, binding in enumerate(bindings):
        integration = found.get(binding.integration_id)
        if integration is None:
            if not strict:
                continue
            raise Invalid(
                f"tools.{index}.integrationId: no integration {binding.integration_id} in this organisation",
                field=f"tools.{index}.integrationId",
            )
        known = available_tools(integration)
        if binding.tools is None:
            picked.extend((integration, t) for t in known or [])
            continue
        for name in binding.tools:
            if known is not None and name not in known:
                if not strict:
                    continue
                raise Invalid(
                    f"tools.{index}.tools: integration {integration.name!r} has no tool {name!r}",
                    field=f"tools.{index}.tools",
                )
            picked.append((integration, name))
    counts = Counter(_safe(tool) for _, tool in picked)
    return [
        ResolvedTool(
            name=_safe(tool) if counts[_safe(tool)] == 1 else f"{_safe(integration.name)}_{_safe(tool)}",
            tool=tool,
            integration_id=integration.id,
            integration_type=integration.type,
        )
        for integration, tool in picked
    ]


async def resolve_tools(
    session: AsyncSession, organization_id: uuid.UUID, bindings: Sequence[ToolBinding]
) -> list[ResolvedTool]:
    """Raises ``Invalid`` (never revealing other organisations) for unknown integrations or tools."""
    found = await load_integrations(session, organization_id, [b.integration_id for b in bindings])
    return resolve_loaded(bindings, found)


async def tool_names_for(
    session: AsyncSession, organization_id: uuid.UUID, bindings: Sequence[ToolBinding]
) -> list[str]:
    """The tool names the model sees for these bindings (validating them on the way)."""
    return [t.name for t in await resolve_tools(session, organization_id, bindings)]
