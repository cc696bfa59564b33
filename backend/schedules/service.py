"""Schedule lifecycle: create, update, pause, resume, delete, read and list.

Authorisation (policies/runs.polar, agents.polar): creating needs ``manage_schedules`` on the deployment
(the right to deploy the agent, or an API key with ``schedules:write``); an existing schedule is checked as
a ``Schedule`` resource: ``manage`` to change it, ``read`` to see it (the agent's managers, auditors, its
creator). Services never commit; each mutation writes its audit event in the caller's transaction, and
invalid input raises before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound, Unauthenticated
from backend.models import Agent, Deployment, Run, Schedule
from backend.schedules import repository as repo
from backend.schedules.access import blocked_reason
from backend.schedules.cron import CronError, next_fire_after, parse_timezone, validate
from backend.schedules.schemas import CreateScheduleInput, ScheduleStatus, UpdateScheduleInput, parse

MAX_PAGE = 100
# Creating needs this on the deployment (the policy maps it to "deploy" on the agent, and lets API keys with
# the schedules:write scope do it); existing schedules are checked as Schedule resources (read | manage).
MANAGE_ON_DEPLOYMENT = "manage_schedules"


def _user_id(actor: Actor) -> uuid.UUID:
    """Schedules run as a person: an API key's schedule belongs to the key's owner."""
    if actor.user_id is None:
        raise Unauthenticated("Sign in to manage schedules")
    return actor.user_id


async def _deployment(
    session: AsyncSession, actor: Actor | None, deployment_id: uuid.UUID
) -> tuple[Deployment, Agent]:
    """The deployment and its agent; with an actor, checks ``manage_schedules`` on the deployment."""
    row = (await session.execute(repo.deployment_with_agent(deployment_id))).tuples().first()
    if row is None:
        raise NotFound("No such deployment")
    if actor is not None:
        await authorize(session, actor, MANAGE_ON_DEPLOYMENT, row[0])
    return row


async def _schedule(
    session: AsyncSession, actor: Actor, schedule_id: uuid.UUID, action: str = "manage"
) -> tuple[Schedule, Deployment, Agent]:
    """Fetch (row-locked for ``manage``), then authorise ``action`` on the schedule itself."""
    stmt = repo.by_id(schedule_id)
    found = (await session.scalars(stmt.with_for_update() if action == "manage" else stmt)).first()
    if found is None:
        raise NotFound("No such schedule")
    await authorize(session, actor, action, found)
    deployment, agent = await _deployment(session, None, found.deployment_id)
    return found, deployment, agent


def _first_fire(cron: str, timezone: str, now: datetime) -> datetime:
    try:
        return validate(cron, timezone, now=now)[2]
    except CronError as exc:
        raise Invalid(str(exc), field="cron") from exc


async def _audit(session: AsyncSession, actor: Actor, action: str, s: Schedule, **summary: Any) -> None:
    await record(
        session,
        actor,
        action=f"schedule.{action}",
        resource_type="schedule",
        resource_id=str(s.id),
        organization_id=s.organization_id,
        summary={"deployment_id": str(s.deployment_id), **summary},
    )


async def create(session: AsyncSession, actor: Actor, *, data: dict[str, Any]) -> Schedule:
    owner = _user_id(actor)
    inp = parse(CreateScheduleInput, data)
    deployment, agent = await _deployment(session, actor, inp.deployment_id)
    if deployment.undeployed_at is not None or agent.archived_at is not None:
        raise Conflict("The deployment is not live; deploy the agent first")
    schedule = Schedule(
        organization_id=deployment.organization_id,
        deployment_id=deployment.id,
        created_by_id=owner,
        name=inp.name,
        cron=inp.cron,
        timezone=inp.timezone,
        input=inp.input,
        misfire_policy=inp.misfire_policy.value,
        status=ScheduleStatus.ACTIVE.value,
        next_fire_at=_first_fire(inp.cron, inp.timezone, utcnow()),
    )
    session.add(schedule)
    await session.flush()
    await _audit(session, actor, "create", schedule, cron=schedule.cron, timezone=schedule.timezone)
    return schedule


async def update(session: AsyncSession, actor: Actor, *, data: dict[str, Any]) -> Schedule:
    inp = parse(UpdateScheduleInput, data)
    schedule, _, _ = await _schedule(session, actor, inp.id)
    changes = inp.model_dump(exclude_unset=True, exclude_none=True, exclude={"id"})
    cron, timezone = changes.get("cron", schedule.cron), changes.get("timezone", schedule.timezone)
    next_fire = _first_fire(cron, timezone, utcnow())  # validates the combination before any write
    for key, value in changes.items():
        setattr(schedule, key, value.value if key == "misfire_policy" else value)
    if schedule.status == ScheduleStatus.ACTIVE and ({"cron", "timezone"} & changes.keys()):
        schedule.next_fire_at = next_fire
    await session.flush()
    await _audit(session, actor, "update", schedule, fields=sorted(changes))
    return schedule


async def pause(session: AsyncSession, actor: Actor, *, schedule_id: uuid.UUID) -> Schedule:
    schedule, _, _ = await _schedule(session, actor, schedule_id)
    if schedule.status == ScheduleStatus.PAUSED:
        return schedule
    schedule.status, schedule.status_reason, schedule.next_fire_at = ScheduleStatus.PAUSED, None, None
    await session.flush()
    await _audit(session, actor, "pause", schedule)
    return schedule


async def resume(session: AsyncSession, actor: Actor, *, schedule_id: uuid.UUID) -> Schedule:
    """Re-activates from now: fires missed while paused or suspended are not caught up.

    A schedule suspended because its creator lost access would be suspended again at its next fire, so
    when the creator still lacks access the resuming manager becomes its owner (audited).
    """
    schedule, deployment, agent = await _schedule(session, actor, schedule_id)
    if schedule.status == ScheduleStatus.ACTIVE:
        return schedule
    if deployment.undeployed_at is not None or agent.archived_at is not None:
        raise Conflict("The deployment is not live; deploy the agent first")
    previous_owner = schedule.created_by_id
    if await blocked_reason(session, owner_id=previous_owner, deployment=deployment, agent=agent):
        schedule.created_by_id = _user_id(actor)
    schedule.status, schedule.status_reason = ScheduleStatus.ACTIVE, None
    schedule.next_fire_at = next_fire_after(schedule.cron, parse_timezone(schedule.timezone), utcnow())
    await session.flush()
    changed = schedule.created_by_id != previous_owner
    await _audit(
        session, actor, "resume", schedule, **({"owner_changed_from": str(previous_owner)} if changed else {})
    )
    return schedule


async def delete(session: AsyncSession, actor: Actor, *, schedule_id: uuid.UUID) -> uuid.UUID:
    """Hard delete: its runs stay (``runs.schedule_id`` is set NULL)."""
    schedule, _, _ = await _schedule(session, actor, schedule_id)
    await _audit(session, actor, "delete", schedule, cron=schedule.cron)
    await session.delete(schedule)
    await session.flush()
    return schedule_id


async def get(session: AsyncSession, actor: Actor, *, schedule_id: uuid.UUID) -> Schedule:
    return (await _schedule(session, actor, schedule_id, "read"))[0]


async def runs(session: AsyncSession, actor: Actor, schedule: Schedule, *, first: int = 20) -> Sequence[Run]:
    """The schedule's latest runs (newest fire time first) that ``actor`` may read."""
    readable = await authorized_select(session, actor, "read", Run)
    stmt = repo.runs_of(readable, schedule.id, max(1, min(first, MAX_PAGE)))
    return (await session.scalars(stmt)).all()


async def list_page(
    session: AsyncSession,
    actor: Actor,
    *,
    deployment_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    first: int = 20,
    after: uuid.UUID | None = None,
) -> tuple[list[Schedule], bool, int]:
    """Newest first, keyset-paginated on the (time-ordered) id; returns (page, has_next, total)."""
    if (deployment_id is None) == (organization_id is None):
        raise Invalid("Pass exactly one of deploymentId or organizationId", field="deploymentId")
    stmt = await authorized_select(session, actor, "read", Schedule)
    if deployment_id is not None:
        stmt = stmt.where(Schedule.deployment_id == deployment_id)
    else:
        stmt = stmt.where(Schedule.organization_id == organization_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    limit = max(1, min(first, MAX_PAGE))
    if after is not None:
        stmt = stmt.where(Schedule.id < after)
    rows = list((await session.scalars(stmt.order_by(Schedule.id.desc()).limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit, int(total or 0)
