"""Deployments: an agent's one place in the marketplace, moved between versions.

Deploying another version moves the deployment and keeps its id, so rollback is
deploying an earlier version and everything pointing at the deployment (handoffs,
schedules, threads) follows. Each move is a ``DeploymentEvent``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents import repository as repo
from backend.agents.access import agent_for, deployment_for, ensure_active
from backend.audit import record
from backend.authz import Actor
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.models import Agent, Deployment, DeploymentEvent

VISIBILITIES = ("organization", "public")


async def deploy(
    session: AsyncSession, actor: Actor, *, version_id: uuid.UUID, visibility: str = "organization"
) -> Deployment:
    visibility = visibility.lower()
    if visibility not in VISIBILITIES:
        raise Invalid("visibility: must be ORGANIZATION or PUBLIC", field="visibility")
    version = (await session.scalars(repo.versions([version_id]))).first()
    if version is None:
        raise NotFound("No such agent version")
    agent = await agent_for(session, actor, version.agent_id, "deploy", lock=True)
    ensure_active(agent)
    now = utcnow()
    current = (await session.scalars(repo.deployments_of_agents([agent.id]))).first()
    if current is None:
        current = Deployment(
            category=agent.category,
            agent_id=agent.id,
            organization_id=agent.organization_id,
            version_id=version.id,
            visibility=visibility,
            deployed_at=now,
            deployed_by_id=actor.user_id,
        )
        session.add(current)
        await session.flush()
        previous = None
    else:
        live = current.undeployed_at is None
        if live and current.version_id == version.id and current.visibility == visibility:
            return current  # already exactly so: nothing moves, nothing to record
        previous = current.version_id if live else None
        current.version_id, current.visibility, current.category = version.id, visibility, agent.category
        current.deployed_at, current.deployed_by_id, current.undeployed_at = now, actor.user_id, None
    session.add(
        DeploymentEvent(
            deployment_id=current.id,
            action="deploy",
            from_version_id=previous,
            to_version_id=version.id,
            visibility=visibility,
            actor_id=actor.user_id,
            at=now,
        )
    )
    await session.flush()
    await record(
        session,
        actor,
        action="agent.deploy",
        resource_type="deployment",
        resource_id=str(current.id),
        organization_id=agent.organization_id,
        summary={
            "agent_id": str(agent.id),
            "from_version_id": str(previous) if previous else None,
            "to_version_id": str(version.id),
            "visibility": visibility,
        },
    )
    return current


def take_down(session: AsyncSession, actor: Actor, deployment: Deployment) -> None:
    """Marks a live deployment undeployed and records the move (shared with archiving)."""
    now = utcnow()
    deployment.undeployed_at = now
    session.add(
        DeploymentEvent(
            deployment_id=deployment.id,
            action="undeploy",
            from_version_id=deployment.version_id,
            to_version_id=None,
            visibility=deployment.visibility,
            actor_id=actor.user_id,
            at=now,
        )
    )


async def undeploy(session: AsyncSession, actor: Actor, *, deployment_id: uuid.UUID) -> Deployment:
    """Removes the deployment from the marketplace; its id, events and threads are kept."""
    deployment = await deployment_for(session, actor, deployment_id, "manage")
    # Every deployment move holds its agent's row lock (deploy, archive, undeploy), in that order.
    await session.execute(repo.agent(deployment.agent_id, for_update=True))
    await session.refresh(deployment)
    if deployment.undeployed_at is not None:
        raise Conflict("The deployment is not live")
    take_down(session, actor, deployment)
    await session.flush()
    await record(
        session,
        actor,
        action="agent.undeploy",
        resource_type="deployment",
        resource_id=str(deployment.id),
        organization_id=deployment.organization_id,
        summary={"agent_id": str(deployment.agent_id), "version_id": str(deployment.version_id)},
    )
    return deployment


async def live_deployment(session: AsyncSession, agent: Agent) -> Deployment | None:
    found = (await session.scalars(repo.deployments_of_agents([agent.id]))).first()
    return found if found is not None and found.undeployed_at is None else None


async def count_use(session: AsyncSession, deployment_id: uuid.UUID) -> None:
    """For the runtime: one more use (a started thread) for MOST_USED ordering. Atomic, no lock."""
    await session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id)
        .values(usage_count=Deployment.usage_count + 1)
    )
