"""The agent lifecycle at the service level on real PostgreSQL: versions, deployments, audit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend.agents import service
from backend.db import transaction
from backend.errors import Conflict
from backend.models import AuditEvent, DeploymentEvent
from backend.resources import Resources
from tests.agents.factories import World, make_world, snapshot


@pytest.fixture
async def world(resources: Resources) -> World:
    return await make_world(resources)


async def _call(resources: Resources, fn: Any, *args: Any, **kwargs: Any) -> Any:
    async with transaction(resources.sessions) as session:
        return await fn(session, *args, **kwargs)


async def test_full_lifecycle(resources: Resources, world: World) -> None:
    builder = world.builder
    agent = await _call(
        resources,
        service.create,
        builder,
        organization_id=world.a.id,
        data={
            "name": "Trip Planner",
            "description": "Plans trips",
            "category": "travel",
            "instructions": "Plan trips.",
            "tools": [{"integration_id": str(world.sql.id)}],
        },
    )
    assert agent.slug == "trip-planner"
    v1 = await _call(resources, service.publish, builder, agent_id=agent.id, changelog="first")
    assert v1.number == 1 and len(v1.config_hash) == 64

    with pytest.raises(Conflict):
        await _call(resources, service.publish, builder, agent_id=agent.id, changelog="again")

    await _call(
        resources,
        service.update,
        builder,
        agent_id=agent.id,
        changes={"instructions": "Plan better trips.", "model_settings": {"temperature": 0.2}},
    )
    v2 = await _call(resources, service.publish, builder, agent_id=agent.id, changelog="better")
    assert v2.number == 2
    _, _, changes = await _call(
        resources, service.diff_versions, builder, from_version_id=v1.id, to_version_id=v2.id
    )
    assert {(c.path, c.kind) for c in changes} == {
        ("instructions", "changed"),
        ("modelSettings.temperature", "changed"),
    }

    d1 = await _call(resources, service.deploy, builder, version_id=v1.id, visibility="organization")
    d2 = await _call(resources, service.deploy, builder, version_id=v2.id, visibility="public")
    assert d2.id == d1.id and d2.version_id == v2.id and d2.visibility == "public"
    d3 = await _call(resources, service.deploy, builder, version_id=v1.id, visibility="public")  # rollback
    assert d3.id == d1.id and d3.version_id == v1.id
    d4 = await _call(resources, service.undeploy, builder, deployment_id=d1.id)
    assert d4.undeployed_at is not None

    async with resources.sessions() as s:
        moves = (
            await s.execute(
                select(
                    DeploymentEvent.action, DeploymentEvent.from_version_id, DeploymentEvent.to_version_id
                ).order_by(DeploymentEvent.id)
            )
        ).all()
        actions = (
            await s.scalars(
                select(AuditEvent.action).where(AuditEvent.outcome == "allowed").order_by(AuditEvent.seq)
            )
        ).all()
    assert moves == [
        ("deploy", None, v1.id),
        ("deploy", v1.id, v2.id),
        ("deploy", v2.id, v1.id),
        ("undeploy", v1.id, None),
    ]
    assert actions == [
        "agent.create",
        "agent.publish",
        "agent.update",
        "agent.publish",
        "agent.deploy",
        "agent.deploy",
        "agent.deploy",
        "agent.undeploy",
    ]

    await _call(resources, service.deploy, builder, version_id=v2.id, visibility="organization")
    archived = await _call(resources, service.archive, builder, agent_id=agent.id)
    assert archived.archived_at is not None
    async with resources.sessions() as s:
        live = await service.get_deployment(s, builder, d1.id)
        assert live.undeployed_at is not None  # archiving took it out of the marketplace
    before = await snapshot(resources.sessions)
    with pytest.raises(Conflict):
        await _call(resources, service.deploy, builder, version_id=v2.id, visibility="organization")
    with pytest.raises(Conflict):
        await _call(resources, service.update, builder, agent_id=agent.id, changes={"name": "X"})
    assert await snapshot(resources.sessions) == before
    restored = await _call(resources, service.restore, builder, agent_id=agent.id)
    assert restored.archived_at is None


async def test_versions_never_change(resources: Resources, world: World) -> None:
    agent = await _call(
        resources, service.create, world.builder, organization_id=world.a.id, data={"name": "Frozen"}
    )
    v1 = await _call(resources, service.publish, world.builder, agent_id=agent.id)
    await _call(resources, service.update, world.builder, agent_id=agent.id, changes={"instructions": "new"})
    async with resources.sessions() as s:
        stored = (await s.get(type(v1), v1.id)).config  # type: ignore[union-attr]
    assert stored["instructions"] == "" and stored == v1.config
    async with transaction(resources.sessions) as s:
        row = await s.get(type(v1), v1.id)
        row.config = {"instructions": "tampered"}  # type: ignore[union-attr]
        with pytest.raises(RuntimeError, match="immutable"):
            await s.flush()


async def test_concurrent_edits_do_not_interleave_version_numbers(resources: Resources, world: World) -> None:
    import asyncio

    agent = await _call(
        resources, service.create, world.builder, organization_id=world.a.id, data={"name": "Race"}
    )

    async def edit_and_publish(i: int) -> int | None:
        try:
            await _call(
                resources, service.update, world.builder, agent_id=agent.id, changes={"instructions": str(i)}
            )
            return (await _call(resources, service.publish, world.builder, agent_id=agent.id)).number
        except Conflict:
            return None

    numbers = [n for n in await asyncio.gather(*(edit_and_publish(i) for i in range(5))) if n is not None]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    async with resources.sessions() as s:
        count = await s.scalar(select(func.count()).select_from(DeploymentEvent))
    assert count == 0


async def test_concurrent_moves_keep_a_consistent_history(resources: Resources, world: World) -> None:
    """Deploys, rollbacks and undeploys racing on one agent: each recorded move starts where the
    previous one ended (they serialise on the agent row)."""
    import asyncio

    agent = await _call(
        resources, service.create, world.owner, organization_id=world.a.id, data={"name": "Busy"}
    )
    v1 = await _call(resources, service.publish, world.owner, agent_id=agent.id)
    await _call(resources, service.update, world.owner, agent_id=agent.id, changes={"instructions": "v2"})
    v2 = await _call(resources, service.publish, world.owner, agent_id=agent.id)
    deployment = await _call(resources, service.deploy, world.owner, version_id=v1.id)

    async def move(i: int) -> None:
        try:
            if i % 3 == 2:
                await _call(resources, service.undeploy, world.owner, deployment_id=deployment.id)
            else:
                await _call(resources, service.deploy, world.owner, version_id=(v1, v2)[i % 2].id)
        except Conflict:
            pass  # undeploying what is already undeployed

    await asyncio.gather(*(move(i) for i in range(9)))
    async with resources.sessions() as s:
        events = (
            await s.scalars(select(DeploymentEvent).order_by(DeploymentEvent.at, DeploymentEvent.id))
        ).all()
    live = None
    for event in events:
        assert event.from_version_id == live, [(e.action, e.from_version_id, e.to_version_id) for e in events]
        live = event.to_version_id
