"""SQL of handoffs: the live targets of a run and the agents already in its ancestor chain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from backend.models import Agent, Deployment, Run


def targets(organization_id: uuid.UUID, deployment_ids: Sequence[uuid.UUID]) -> Select[Deployment, Agent]:
    """Live deployments (of non-archived agents) of the run's own organisation, with their agents."""
    return (
        select(Deployment, Agent)
        .join(Agent, Agent.id == Deployment.agent_id)
        .where(
            Deployment.id.in_(deployment_ids),
            Deployment.organization_id == organization_id,
            Deployment.undeployed_at.is_(None),
            Agent.archived_at.is_(None),
        )
    )


def chain(run_id: uuid.UUID, limit: int = 32) -> Select[Any]:
    """The run and its ancestors via ``parent_run_id``: (id, agent_id, organization_id, depth)."""
    base = (
        select(Run.id, Run.parent_run_id, Run.agent_id, Run.organization_id, Run.depth)
        .where(Run.id == run_id)
        .cte("handoff_chain", recursive=True)
    )
    parent = select(Run.id, Run.parent_run_id, Run.agent_id, Run.organization_id, Run.depth).join(
        base, Run.id == base.c.parent_run_id
    )
    recursive = base.union_all(parent)
    return select(recursive).order_by(recursive.c.depth.desc()).limit(limit)
