"""Per-agent roles (owner, editor, viewer) granted to members of the agent's organisation."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize
from backend.errors import Invalid, NotFound
from backend.models import Agent, AgentGrant
from backend.orgs import repository as repo
from backend.orgs.schemas import agent_role


async def _agent(session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("No such agent")
    await authorize(session, actor, "manage_grants", agent)
    return agent


async def grant_agent_role(
    session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> AgentGrant:
    agent = await _agent(session, actor, agent_id)
    try:
        role = agent_role(role)
    except ValueError as err:
        raise Invalid(f"role: {err}", field="role") from err
    if (await session.scalars(repo.membership(agent.organization_id, user_id))).first() is None:
        raise Invalid(
            "Agent roles can only be granted to members of the agent's organization", field="userId"
        )
    grant = (await session.scalars(repo.grant(agent.id, user_id).with_for_update())).first()
    previous = grant.role if grant else None
    if grant is None:
        grant = AgentGrant(agent_id=agent.id, user_id=user_id, role=role)
        session.add(grant)
    grant.role = role
    await session.flush()
    await record(
        session,
        actor,
        action="agent.grant",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={"userId": str(user_id), "role": role, "previous": previous},
    )
    return grant


async def revoke_agent_role(
    session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    agent = await _agent(session, actor, agent_id)
    grant = (await session.scalars(repo.grant(agent.id, user_id).with_for_update())).first()
    if grant is None:
        return False
    await session.delete(grant)
    await session.flush()
    await record(
        session,
        actor,
        action="agent.revoke_grant",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={"userId": str(user_id), "role": grant.role},
    )
    return True
