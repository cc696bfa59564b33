"""The schedule tick: claim due schedules, create their runs, advance them — in ONE transaction.

Exactly-once per fire time, with any number of concurrent ticks (processes, hosts):
1. ``SELECT ... FOR UPDATE OF schedules SKIP LOCKED``: a due row is handled by one tick at a time; others
   skip it rather than wait (and re-check ``next_fire_at`` on the committed version if they raced the commit);
2. the run is inserted with ``ON CONFLICT (schedule_id, fire_time) DO NOTHING``: even a tick that somehow
   saw a stale row cannot create a second run for the same fire;
3. ``next_fire_at`` moves past ``now`` in the same transaction: the row stops being due once its run exists.
The caller commits through ``backend.runs.dispatch.unit_of_work``, which then enqueues the new runs (a crash
in between leaves ``queued`` runs for the runs reconciler). Misfire policies and DST: ``docs/schedules.md``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor
from backend.db import utcnow
from backend.errors import DomainError
from backend.logging import log
from backend.models import Deployment, Schedule
from backend.schedules import repository as repo
from backend.schedules.access import acting_as, blocked_reason
from backend.schedules.launch import RunRequest, start_run
from backend.schedules.misfire import Plan, plan
from backend.schedules.schemas import ScheduleStatus

BATCH = 100


@dataclass
class TickResult:
    run_ids: list[uuid.UUID] = field(default_factory=list)
    claimed: int = 0
    skipped: int = 0  # fires dropped by the skip policy
    suspended: int = 0
    failed: int = 0  # fires dropped after an unexpected error (logged)


async def tick(session: AsyncSession, *, now: datetime | None = None, limit: int = BATCH) -> TickResult:
    """Handles up to ``limit`` due schedules; the caller commits (``unit_of_work`` then enqueues the runs)."""
    now = now or utcnow()
    result = TickResult()
    rows = (await session.execute(repo.claim_due(now, limit))).tuples().all()
    result.claimed = len(rows)
    # Per tick, one actor per creator (its roles load once) and one access verdict per creator+deployment.
    actors: dict[uuid.UUID, Actor] = {}
    verdicts: dict[tuple[uuid.UUID, uuid.UUID], str | None] = {}
    for schedule, deployment, agent in rows:
        actor = actors.setdefault(schedule.created_by_id, acting_as(schedule.created_by_id))
        key = (schedule.created_by_id, deployment.id)
        if key not in verdicts:
            verdicts[key] = await blocked_reason(
                session, owner_id=schedule.created_by_id, deployment=deployment, agent=agent, actor=actor
            )
        reason = verdicts[key]
        if reason is None:
            reason = await _fire(session, schedule, deployment, actor, plan(schedule, now), result)
        if reason is not None:
            await _suspend(session, schedule, reason)
            result.suspended += 1
    if rows:
        await session.flush()
    return result


async def _fire(
    session: AsyncSession,
    schedule: Schedule,
    deployment: Deployment,
    actor: Actor,
    p: Plan,
    result: TickResult,
) -> str | None:
    """Starts the planned run and advances the schedule; returns a suspension reason if the run cannot start.

    Each start runs in a SAVEPOINT so one broken schedule cannot roll back (and so block) the whole batch.
    """
    sid = str(schedule.id)
    if p.missed:
        log.info(
            "schedule.misfire", schedule_id=sid, policy=schedule.misfire_policy, fired=p.fire_time is not None
        )
    if p.fire_time is None:
        result.skipped += 1
    else:
        req = RunRequest(deployment, actor, "schedule", schedule.input, schedule.id, p.fire_time)
        try:
            async with session.begin_nested():
                run_id = await start_run(session, req)
        except (
            DomainError
        ) as exc:  # e.g. the deployed configuration cannot run: retrying each tick won't help
            return f"cannot start a run: {exc.message}"
        except Exception:
            log.exception("schedule.fire_failed", schedule_id=sid)
            result.failed += 1
            run_id = None
        if run_id is not None:
            result.run_ids.append(run_id)
            schedule.last_fired_at = p.fire_time
            log.info("schedule.fired", schedule_id=sid, run_id=str(run_id), fire_time=p.fire_time.isoformat())
    schedule.next_fire_at = p.next_fire_at
    return None


async def _suspend(session: AsyncSession, schedule: Schedule, reason: str) -> None:
    schedule.status, schedule.status_reason, schedule.next_fire_at = ScheduleStatus.SUSPENDED, reason, None
    log.warning("schedule.suspended", schedule_id=str(schedule.id), reason=reason)
    await record(
        session,
        Actor.system(),
        action="schedule.suspend",
        resource_type="schedule",
        resource_id=str(schedule.id),
        organization_id=schedule.organization_id,
        summary={"reason": reason, "creator_id": str(schedule.created_by_id)},
    )
