"""Schedule lifecycle at the service level: validation, authorisation, audit, pause/resume/delete."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from backend.authz import Actor
from backend.db import transaction, utcnow, uuid7
from backend.errors import DomainError
from backend.models import AuditEvent, Membership, Schedule
from backend.resources import Resources
from backend.schedules import service
from tests.schedules.conftest import counts
from tests.schedules.factories import World


def create_data(w: World, **over: object) -> dict[str, object]:
    return {
        "deployment_id": w.deployment_id,
        "cron": "0 9 * * *",
        "timezone": "Europe/Berlin",
        "input": "Summarise yesterday.",
        "name": "daily",
        **over,
    }


async def create(resources: Resources, actor, data):  # type: ignore[no-untyped-def]
    async with transaction(resources.sessions) as s:
        return await service.create(s, actor, data=data)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "every tuesday"}, "cron"),
        ({"cron": "*/5 * * * * *"}, "cron"),
        ({"timezone": "Moon/Base"}, "timezone"),
        ({"input": "x" * 8001}, "input"),
        ({"input": "   "}, "input"),
        ({"misfire_policy": "whenever"}, "misfirePolicy"),
        ({"name": "n" * 121}, "name"),
    ],
)
async def test_invalid_input_is_bad_user_input_and_changes_nothing(
    resources: Resources, w: World, over: dict[str, object], field: str
) -> None:
    before = await counts(resources)
    with pytest.raises(DomainError) as err:
        await create(resources, w.builder, create_data(w, **over))
    assert err.value.code == "BAD_USER_INPUT" and err.value.field == field
    assert await counts(resources) == before


async def test_create_computes_next_fire_in_the_schedule_zone_and_audits(
    resources: Resources, w: World
) -> None:
    sched = await create(resources, w.builder, create_data(w))
    assert sched.status == "active" and sched.created_by_id == w.builder.user_id
    local = sched.next_fire_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (9, 0) and sched.next_fire_at > utcnow()
    async with resources.sessions() as s:
        actions = (
            await s.scalars(select(AuditEvent.action).where(AuditEvent.resource_id == str(sched.id)))
        ).all()
    assert actions == ["schedule.create"]


@pytest.mark.parametrize(("who", "code"), [("member", "FORBIDDEN"), ("outsider", "NOT_FOUND")])
async def test_create_needs_manage_on_the_deployment(
    resources: Resources, w: World, who: str, code: str
) -> None:
    before = await counts(resources)
    with pytest.raises(DomainError) as err:
        await create(resources, getattr(w, who), create_data(w))
    assert err.value.code == code
    assert await counts(resources) == before


async def test_pause_resume_delete(resources: Resources, w: World) -> None:
    sched = await create(resources, w.builder, create_data(w, cron="*/5 * * * *", timezone="UTC"))
    async with transaction(resources.sessions) as s:
        paused = await service.pause(s, w.owner, schedule_id=sched.id)
    assert (paused.status, paused.next_fire_at) == ("paused", None)
    async with transaction(resources.sessions) as s:
        resumed = await service.resume(s, w.builder, schedule_id=sched.id)
    assert resumed.status == "active" and resumed.created_by_id == w.builder.user_id
    assert utcnow() < resumed.next_fire_at <= utcnow() + timedelta(minutes=5)
    assert resumed.next_fire_at.minute % 5 == 0
    with pytest.raises(DomainError) as err:
        async with transaction(resources.sessions) as s:
            await service.pause(s, w.member, schedule_id=sched.id)
    assert err.value.code == "NOT_FOUND"  # plain members do not even see schedules (policies/runs.polar)
    async with transaction(resources.sessions) as s:
        assert await service.delete(s, w.owner, schedule_id=sched.id) == sched.id
    async with resources.sessions() as s:
        assert await s.get(Schedule, sched.id) is None
        actions = (
            await s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.resource_id == str(sched.id), AuditEvent.outcome == "allowed")
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert actions == ["schedule.create", "schedule.pause", "schedule.resume", "schedule.delete"]


async def test_update_validates_then_recomputes_next_fire(resources: Resources, w: World) -> None:
    sched = await create(resources, w.builder, create_data(w))
    before = await counts(resources)
    with pytest.raises(DomainError) as err:
        async with transaction(resources.sessions) as s:
            await service.update(s, w.builder, data={"id": sched.id, "cron": "0 25 * * *"})
    assert err.value.code == "BAD_USER_INPUT" and await counts(resources) == before
    async with transaction(resources.sessions) as s:
        updated = await service.update(
            s,
            w.builder,
            data={"id": sched.id, "cron": "30 6 * * *", "timezone": "UTC", "misfire_policy": "catch_up_once"},
        )
    assert (updated.next_fire_at.hour, updated.next_fire_at.minute) == (6, 30)
    assert updated.misfire_policy == "catch_up_once" and updated.input == "Summarise yesterday."


async def test_reading_and_listing(resources: Resources, w: World) -> None:
    a = await create(resources, w.builder, create_data(w, name="a"))
    b = await create(resources, w.owner, create_data(w, name="b"))
    async with resources.sessions() as s:
        assert (await service.get(s, w.builder, schedule_id=a.id)).id == a.id
        with pytest.raises(DomainError) as err:
            await service.get(s, w.outsider, schedule_id=a.id)
        assert err.value.code == "NOT_FOUND"
        page, has_next, total = await service.list_page(s, w.owner, organization_id=w.org_id, first=1)
        assert ([x.id for x in page], has_next, total) == ([b.id], True, 2)
        page, has_next, _ = await service.list_page(s, w.owner, deployment_id=w.deployment_id, after=b.id)
        assert ([x.id for x in page], has_next) == ([a.id], False)
        page, _, total = await service.list_page(s, w.outsider, organization_id=w.org_id)
        assert (page, total) == ([], 0)


async def test_resume_by_a_manager_takes_over_a_schedule_whose_creator_left(
    resources: Resources, w: World
) -> None:
    sched = await create(resources, w.builder, create_data(w))
    async with transaction(resources.sessions) as s:
        await service.pause(s, w.builder, schedule_id=sched.id)
        await s.execute(delete(Membership).where(Membership.user_id == w.builder.user_id))
    async with transaction(resources.sessions) as s:
        resumed = await service.resume(s, w.owner, schedule_id=sched.id)
    assert resumed.created_by_id == w.owner.user_id and resumed.status == "active"


@pytest.mark.parametrize(
    ("scopes", "ok"), [({"schedules:write"}, True), ({"runs:write", "agents:read"}, False)]
)
async def test_api_keys_need_the_schedules_write_scope(
    resources: Resources, w: World, scopes: set[str], ok: bool
) -> None:
    key = Actor(
        kind="api_key",
        user_id=w.builder.user_id,
        api_key_id=uuid7(),
        organization_id=w.org_id,
        scopes=frozenset(scopes),
    )
    if ok:
        sched = await create(resources, key, create_data(w))
        assert sched.created_by_id == w.builder.user_id  # the key's owner: runs use a person's rights
        return
    with pytest.raises(DomainError) as err:
        await create(resources, key, create_data(w))
    assert err.value.code == "FORBIDDEN"
