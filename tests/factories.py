"""Row factories shared by tests and benchmarks: direct inserts for speed, bypassing services.

Use the services (and their authorisation and audit) in tests that are about them; use these
where a deployed agent is only the stage for something else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import uuid7
from backend.models import Agent, AgentVersion, Deployment


async def add_deployed_agent(
    session: AsyncSession,
    organization_id: uuid.UUID,
    owner_id: uuid.UUID,
    config: dict[str, Any],
    *,
    slug: str | None = None,
    name: str = "Agent",
    description: str = "",
) -> tuple[Agent, Deployment]:
    """An agent with version 1 of ``config`` deployed to its organisation."""
    agent = Agent(
        id=uuid7(),
        organization_id=organization_id,
        slug=slug or f"a-{uuid.uuid4().hex[:8]}",
        name=name,
        description=description,
        config=config,
        created_by_id=owner_id,
        tags=[],
    )
    session.add(agent)
    await session.flush()
    version = AgentVersion(
        id=uuid7(),
        agent_id=agent.id,
        number=1,
        config=config,
        config_hash="0" * 64,
        created_at=datetime.now(UTC),
        changelog="",
    )
    session.add(version)
    await session.flush()
    deployment = Deployment(
        id=uuid7(),
        agent_id=agent.id,
        organization_id=organization_id,
        version_id=version.id,
        visibility="organization",
        deployed_at=datetime.now(UTC),
    )
    session.add(deployment)
    await session.flush()
    return agent, deployment
