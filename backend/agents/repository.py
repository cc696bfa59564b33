"""All SQL of the agents domain, as composable ``select()`` statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select

from backend.models import Agent, AgentVersion, Deployment, DeploymentEvent


def agent(agent_id: uuid.UUID, *, for_update: bool = False) -> Select[Agent]:
    """``for_update`` serialises concurrent edits, publishes and deploys of one agent."""
    stmt = select(Agent).where(Agent.id == agent_id)
    return stmt.with_for_update() if for_update else stmt


def agents(ids: Sequence[uuid.UUID]) -> Select[Agent]:
    return select(Agent).where(Agent.id.in_(ids))


def slug_taken(organization_id: uuid.UUID, slug: str, *, except_id: uuid.UUID | None = None) -> Select:
    stmt = select(Agent.id).where(Agent.organization_id == organization_id, Agent.slug == slug)
    return stmt.where(Agent.id != except_id) if except_id else stmt


def slugs_like(organization_id: uuid.UUID, base: str) -> Select[str]:
    return select(Agent.slug).where(Agent.organization_id == organization_id, Agent.slug.startswith(base))


def latest_version(agent_id: uuid.UUID) -> Select[AgentVersion]:
    return (
        select(AgentVersion)
        .where(AgentVersion.agent_id == agent_id)
        .order_by(AgentVersion.number.desc())
        .limit(1)
    )


def versions(ids: Sequence[uuid.UUID]) -> Select[AgentVersion]:
    return select(AgentVersion).where(AgentVersion.id.in_(ids))


def versions_of_agents(agent_ids: Sequence[uuid.UUID]) -> Select[AgentVersion]:
    """Newest first, so a loader can slice per agent without re-sorting."""
    return (
        select(AgentVersion)
        .where(AgentVersion.agent_id.in_(agent_ids))
        .order_by(AgentVersion.agent_id, AgentVersion.number.desc())
    )


def deployment(deployment_id: uuid.UUID, *, for_update: bool = False) -> Select[Deployment]:
    stmt = select(Deployment).where(Deployment.id == deployment_id)
    return stmt.with_for_update() if for_update else stmt


def deployments(ids: Sequence[uuid.UUID]) -> Select[Deployment]:
    return select(Deployment).where(Deployment.id.in_(ids))


def deployments_of_agents(agent_ids: Sequence[uuid.UUID]) -> Select[Deployment]:
    return select(Deployment).where(Deployment.agent_id.in_(agent_ids))


def events_of_deployments(deployment_ids: Sequence[uuid.UUID]) -> Select[DeploymentEvent]:
    """Newest first (uuid7 ids are time-ordered, so ``id`` breaks ties of equal timestamps)."""
    return (
        select(DeploymentEvent)
        .where(DeploymentEvent.deployment_id.in_(deployment_ids))
        .order_by(DeploymentEvent.deployment_id, DeploymentEvent.at.desc(), DeploymentEvent.id.desc())
    )


def count_versions(agent_id: uuid.UUID) -> Select[int]:
    return select(func.count()).select_from(AgentVersion).where(AgentVersion.agent_id == agent_id)
