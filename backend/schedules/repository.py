"""SQL for schedules: composable ``select()``s and the tick's claim statement."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select

from backend.models import Agent, Deployment, Run, Schedule


def by_id(schedule_id: uuid.UUID) -> Select[Schedule]:
    return select(Schedule).where(Schedule.id == schedule_id)


def runs_of(runs: Select[Run], schedule_id: uuid.UUID, first: int) -> Select[Run]:
    """Narrows a (policy-filtered) runs select; served by the UNIQUE (schedule_id, fire_time) index."""
    return (
        runs.where(Run.schedule_id == schedule_id).order_by(Run.fire_time.desc(), Run.id.desc()).limit(first)
    )


def claim_due(now: datetime, limit: int) -> Select[Schedule, Deployment, Agent]:
    """Due active schedules with what a run needs, row-locked; rows another tick holds are skipped.

    ``FOR UPDATE OF schedules`` locks only the schedule rows (not deployments), and ``SKIP LOCKED`` lets
    concurrent ticks split the due set instead of waiting on each other. Served by ``ix_schedules_due``.
    """
    return (
        select(Schedule, Deployment, Agent)
        .join(Deployment, Deployment.id == Schedule.deployment_id)
        .join(Agent, Agent.id == Deployment.agent_id)
        .where(Schedule.status == "active", Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at)
        .limit(limit)
        .with_for_update(of=Schedule, skip_locked=True)
    )


def deployment_with_agent(deployment_id: uuid.UUID) -> Select[Deployment, Agent]:
    return (
        select(Deployment, Agent)
        .join(Agent, Agent.id == Deployment.agent_id)
        .where(Deployment.id == deployment_id)
    )
