"""Configuration checks that need the database: model integrations, tools and handoffs.

Targets in other organisations are reported exactly like missing ones, so a builder
can never probe another tenant's ids.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.schemas import AgentConfig
from backend.agents.tool_catalog import load_integrations, resolve_tools
from backend.errors import Invalid
from backend.models import Agent, Deployment


async def check_model(session: AsyncSession, organization_id: uuid.UUID, config: AgentConfig) -> None:
    ref = config.model_ref
    if ref.integration_id is None:
        return
    if not await load_integrations(session, organization_id, [ref.integration_id]):
        raise Invalid(f"model: no integration {ref.integration_id} in this organisation", field="model")


async def check_handoffs(
    session: AsyncSession, organization_id: uuid.UUID, agent_id: uuid.UUID | None, config: AgentConfig
) -> None:
    """Every target is a live deployment of a non-archived agent of the same organisation, not itself."""
    if not config.handoffs:
        return
    rows = await session.execute(
        select(Deployment.id, Deployment.agent_id)
        .join(Agent, Agent.id == Deployment.agent_id)
        .where(
            Deployment.id.in_(config.handoffs),
            Deployment.organization_id == organization_id,
            Deployment.undeployed_at.is_(None),
            Agent.archived_at.is_(None),
        )
    )
    live = {row.id: row.agent_id for row in rows}
    for index, target in enumerate(config.handoffs):
        if target not in live:
            raise Invalid(
                f"handoffs.{index}: no live deployment {target} in this organisation",
                field=f"handoffs.{index}",
            )
        if agent_id is not None and live[target] == agent_id:
            raise Invalid(f"handoffs.{index}: an agent cannot hand off to itself", field=f"handoffs.{index}")


async def check_config(
    session: AsyncSession, organization_id: uuid.UUID, agent_id: uuid.UUID | None, config: AgentConfig
) -> list[str]:
    """Runs every database check; returns the model-visible tool names."""
    await check_model(session, organization_id, config)
    tools = await resolve_tools(session, organization_id, config.tools)
    await check_handoffs(session, organization_id, agent_id, config)
    return [t.name for t in tools]
