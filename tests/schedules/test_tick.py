"""The tick: due schedules fire exactly once, misfire policies, suspension when the creator lost access."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from arq.jobs import Job, JobStatus
from sqlalchemy import delete, func, select, update

from backend.db import transaction, utcnow
from backend.models import AuditEvent, Deployment, Membership, Run, Schedule
from backend.resources import Resources
from backend.runs.dispatch import unit_of_work
from backend.schedules.tick import tick
from tests.schedules.factories import World, due_schedule

T0 = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)


async def run_tick(resources: Resources, **kw: object) -> list:  # type: ignore[type-arg]
    async with unit_of_work(resources) as s:
        result = await tick(s, **kw)  # type: ignore[arg-type]
    return result.run_ids


async def runs_of(resources: Resources, schedule_id: object) -> list[Run]:
    async with resources.sessions() as s:
        return list(
            (await s.scalars(select(Run).where(Run.schedule_id == schedule_id).order_by(Run.fire_time))).all()
        )


async def test_due_schedule_fires_once_and_advances(resources: Resources, w: World) -> None:
    due = utcnow().replace(second=0, microsecond=0)
    sid = await due_schedule(resources.sessions, w, next_fire_at=due)
    first = await run_tick(resources)
    again = await run_tick(resources)
    assert len(first) == 1 and again == []
    (run,) = await runs_of(resources, sid)
    assert (run.trigger, run.fire_time, run.status, run.input) == ("schedule", due, "queued", "daily report")
    assert (run.user_id, run.deployment_id, run.version_id) == (
        w.builder.user_id,
        w.deployment_id,
        w.version_id,
    )
    assert await Job(str(run.id), resources.arq).status() == JobStatus.queued
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
    assert (
        sched is not None and sched.last_fired_at == due and sched.next_fire_at == due + timedelta(minutes=1)
    )


async def test_nothing_due_is_a_cheap_no_op(resources: Resources, w: World) -> None:
    await due_schedule(resources.sessions, w, next_fire_at=utcnow() + timedelta(minutes=5))
    assert await run_tick(resources) == []


async def test_concurrent_ticks_in_one_process_fire_each_schedule_once(
    resources: Resources, w: World
) -> None:
    due = utcnow() - timedelta(seconds=5)
    ids = [await due_schedule(resources.sessions, w, next_fire_at=due, cron="0 0 1 1 *") for _ in range(30)]
    results = await asyncio.gather(*(run_tick(resources, limit=3) for _ in range(12)))
    while more := await run_tick(resources, limit=3):
        results.append(more)
    assert sum(len(r) for r in results) == 30
    async with resources.sessions() as s:
        per = (await s.execute(select(Run.schedule_id, func.count()).group_by(Run.schedule_id))).all()
    assert sorted(per) == sorted((i, 1) for i in ids)


async def test_skip_drops_missed_fires_after_downtime(resources: Resources, w: World) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=T0, cron="0 * * * *", policy="skip")
    now = T0 + timedelta(hours=3, minutes=30)  # 10:00, 11:00, 12:00 and 13:00 were missed
    assert await run_tick(resources, now=now) == []
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
    assert sched is not None and sched.next_fire_at == T0 + timedelta(hours=4) and sched.last_fired_at is None
    assert await run_tick(resources, now=T0 + timedelta(hours=4, seconds=3)) != []  # then fires on time again


async def test_catch_up_once_fires_one_run_for_the_missed_period(resources: Resources, w: World) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=T0, cron="0 * * * *", policy="catch_up_once")
    now = T0 + timedelta(hours=3, minutes=30)
    assert len(await run_tick(resources, now=now)) == 1
    assert await run_tick(resources, now=now + timedelta(minutes=1)) == []
    (run,) = await runs_of(resources, sid)
    assert run.fire_time == T0 + timedelta(hours=3)
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
    assert sched is not None and sched.next_fire_at == T0 + timedelta(hours=4)


async def test_creator_removed_from_org_suspends_instead_of_firing(resources: Resources, w: World) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1))
    async with transaction(resources.sessions) as s:
        await s.execute(delete(Membership).where(Membership.user_id == w.builder.user_id))
    assert await run_tick(resources) == []
    assert await runs_of(resources, sid) == []
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
        audit = (await s.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(sid)))).all()
    assert sched is not None and (sched.status, sched.next_fire_at) == ("suspended", None)
    assert sched.status_reason and sched.status_reason.startswith("creator lost access")
    assert [(a.action, a.outcome, a.actor_type) for a in audit] == [("schedule.suspend", "allowed", "system")]


async def test_undeployed_deployment_suspends(resources: Resources, w: World) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1))
    async with transaction(resources.sessions) as s:
        await s.execute(
            update(Deployment).where(Deployment.id == w.deployment_id).values(undeployed_at=utcnow())
        )
    assert await run_tick(resources) == []
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
    assert (
        sched is not None
        and sched.status == "suspended"
        and sched.status_reason == "deployment was undeployed"
    )


async def test_demoted_creator_suspends_but_other_schedules_still_fire(
    resources: Resources, w: World
) -> None:
    mine = await due_schedule(resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1))
    owners = await due_schedule(
        resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1), creator=w.owner.user_id
    )
    async with transaction(resources.sessions) as s:
        await s.execute(
            update(Membership).where(Membership.user_id == w.builder.user_id).values(role="member")
        )
    assert len(await run_tick(resources)) == 1
    assert await runs_of(resources, mine) == [] and len(await runs_of(resources, owners)) == 1


async def test_a_stale_claim_cannot_create_a_second_run_for_the_same_fire_time(
    resources: Resources, w: World
) -> None:
    due = utcnow().replace(microsecond=0) - timedelta(seconds=2)
    sid = await due_schedule(resources.sessions, w, next_fire_at=due, cron="0 0 1 1 *")
    assert len(await run_tick(resources)) == 1
    async with transaction(resources.sessions) as s:  # as if a tick had read the row before the advance
        await s.execute(update(Schedule).where(Schedule.id == sid).values(next_fire_at=due))
    assert await run_tick(resources) == []  # ON CONFLICT (schedule_id, fire_time) DO NOTHING
    assert len(await runs_of(resources, sid)) == 1
    async with resources.sessions() as s:
        sched = await s.get(Schedule, sid)
    assert sched is not None and sched.next_fire_at is not None and sched.next_fire_at > utcnow()


async def test_a_schedule_that_cannot_start_a_run_is_suspended_without_blocking_others(
    resources: Resources, w: World
) -> None:
    due = utcnow() - timedelta(seconds=1)
    broken = await due_schedule(resources.sessions, w, next_fire_at=due)
    healthy = await due_schedule(resources.sessions, w, next_fire_at=due)
    async with transaction(resources.sessions) as s:  # e.g. written before input became required
        await s.execute(update(Schedule).where(Schedule.id == broken).values(input=""))
    assert len(await run_tick(resources)) == 1
    assert await runs_of(resources, broken) == [] and len(await runs_of(resources, healthy)) == 1
    async with resources.sessions() as s:
        sched = await s.get(Schedule, broken)
    assert sched is not None and sched.status == "suspended"
    assert sched.status_reason is not None and sched.status_reason.startswith("cannot start a run")
