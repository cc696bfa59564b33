"""Loading agents, versions and deployments with the authorisation check attached.

Each helper fetches, then asks ``backend.authz.authorize`` (which raises ``NotFound``
for objects the actor may not even see, so other tenants' ids never leak).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents import repository as repo
from backend.authz import Actor, authorize
from backend.errors import Conflict, NotFound
from backend.models import Agent, AgentVersion, Deployment


async def agent_for(
    session: AsyncSession, actor: Actor, agent_id: uuid.UUID, action: str, *, lock: bool = False
) -> Agent:
    found = (await session.scalars(repo.agent(agent_id, for_update=lock))).first()
    if found is None:
        raise NotFound("No such agent")
    await authorize(session, actor, action, found)
    return found


async def version_for(
    session: AsyncSession, actor: Actor, version_id: uuid.UUID, action: str
) -> AgentVersion:
    """Checks ``action`` on the version's agent (versions have no rules of their own)."""
    found = (await session.scalars(repo.versions([version_id]))).first()
    if found is None:
        raise NotFound("No such agent version")
    await agent_for(session, actor, found.agent_id, action)
    return found


async def deployment_for(
    session: AsyncSession, actor: Actor, deployment_id: uuid.UUID, action: str, *, lock: bool = False
) -> Deployment:
    found = (await session.scalars(repo.deployment(deployment_id, for_update=lock))).first()
    if found is None:
        raise NotFound("No such deployment")
    await authorize(session, actor, action, found)
    return found


def ensure_active(agent: Agent) -> None:
    if agent.archived_at is not None:
        raise Conflict("The agent is archived; restore it first")
