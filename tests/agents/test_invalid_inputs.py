"""Every invalid input is BAD_USER_INPUT (or CONFLICT/FORBIDDEN/NOT_FOUND) and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.agents import service
from backend.authz import Actor
from backend.db import transaction
from backend.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from backend.resources import Resources
from tests.agents.factories import World, make_world, snapshot


async def _call(resources: Resources, fn: Any, *args: Any, **kwargs: Any) -> Any:
    async with transaction(resources.sessions) as session:
        return await fn(session, *args, **kwargs)


@pytest.fixture
async def world(resources: Resources) -> World:
    return await make_world(resources)


@pytest.fixture
async def setup(resources: Resources, world: World) -> dict[str, Any]:
    """An agent of a with a live deployment; a live deployment of b; an undeployed one of a."""
    ids: dict[str, Any] = {}
    for key, org, who in (
        ("agent", world.a, world.owner),
        ("other", world.b, world.outsider),
        ("gone", world.a, world.owner),
    ):
        agent = await _call(resources, service.create, who, organization_id=org.id, data={"name": key})
        version = await _call(resources, service.publish, who, agent_id=agent.id)
        deployment = await _call(resources, service.deploy, who, version_id=version.id)
        ids[key], ids[f"{key}_deployment"] = agent, deployment
    await _call(resources, service.undeploy, world.owner, deployment_id=ids["gone_deployment"].id)
    return ids


async def _refused(
    resources: Resources, error: type[DomainError], fn: Any, *args: Any, **kwargs: Any
) -> DomainError:
    before = await snapshot(resources.sessions)
    with pytest.raises(error) as caught:
        await _call(resources, fn, *args, **kwargs)
    assert await snapshot(resources.sessions) == before, "a refused call changed data"
    return caught.value


def _bad_configs(world: World, setup: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    missing = str(uuid.uuid4())
    return [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"description": "d" * 2001}, "description"),
        ({"tags": ["t"] * 5 + [f"x{i}" for i in range(6)]}, "tags"),
        ({"instructions": "i" * 32_001}, "instructions"),
        ({"model": "gpt-4o"}, "model"),
        ({"model": "mistral:large"}, "model"),
        ({"model": f"integration:{world.other_sql.id}"}, "model"),
        ({"model": f"integration:{missing}/llama3"}, "model"),
        ({"model_settings": {"temperature": 3}}, "modelSettings.temperature"),
        ({"limits": {"max_steps": 1000}}, "limits.maxSteps"),
        ({"tools": [{"integration_id": str(world.sql.id), "tools": ["drop_database"]}]}, "tools.0.tools"),
        ({"tools": [{"integration_id": str(world.other_sql.id)}]}, "tools.0.integrationId"),
        ({"tools": [{"integration_id": missing}]}, "tools.0.integrationId"),
        ({"handoffs": [str(setup["other_deployment"].id)]}, "handoffs.0"),
        ({"handoffs": [missing]}, "handoffs.0"),
        ({"handoffs": [str(setup["gone_deployment"].id)]}, "handoffs.0"),
        ({"no_such_field": 1}, "no_such_field"),
    ]


async def test_invalid_create_and_update_change_nothing(
    resources: Resources, world: World, setup: dict[str, Any]
) -> None:
    agent = setup["agent"]
    for data, field in _bad_configs(world, setup):
        created = await _refused(
            resources,
            Invalid,
            service.create,
            world.owner,
            organization_id=world.a.id,
            data={"name": "ok", **data},
        )
        assert created.field == field, (data, created.field)
        updated = await _refused(
            resources, Invalid, service.update, world.owner, agent_id=agent.id, changes=data
        )
        assert updated.field == field, (data, updated.field)


async def test_other_org_handoff_is_indistinguishable_from_missing(
    resources: Resources, world: World, setup: dict[str, Any]
) -> None:
    other, missing = setup["other_deployment"].id, uuid.uuid4()
    errors = [
        await _refused(
            resources,
            Invalid,
            service.update,
            world.owner,
            agent_id=setup["agent"].id,
            changes={"handoffs": [str(target)]},
        )
        for target in (other, missing)
    ]
    assert errors[0].message.replace(str(other), "?") == errors[1].message.replace(str(missing), "?")


async def test_handoff_to_itself_is_refused(
    resources: Resources, world: World, setup: dict[str, Any]
) -> None:
    own = setup["agent_deployment"].id
    err = await _refused(
        resources,
        Invalid,
        service.update,
        world.owner,
        agent_id=setup["agent"].id,
        changes={"handoffs": [str(own)]},
    )
    assert "itself" in err.message


async def test_valid_handoff_and_tools_are_accepted(
    resources: Resources, world: World, setup: dict[str, Any]
) -> None:
    target = await _call(
        resources, service.create, world.owner, organization_id=world.a.id, data={"name": "t"}
    )
    agent = await _call(
        resources,
        service.update,
        world.owner,
        agent_id=target.id,
        changes={
            "handoffs": [str(setup["agent_deployment"].id)],
            "tools": [{"integration_id": str(world.sql.id), "tools": ["query"]}],
        },
    )
    assert agent.config["handoffs"] == [str(setup["agent_deployment"].id)]


async def test_conflicts_change_nothing(resources: Resources, world: World, setup: dict[str, Any]) -> None:
    agent = setup["agent"]
    await _refused(resources, Conflict, service.publish, world.owner, agent_id=agent.id)  # unchanged draft
    await _refused(
        resources,
        Conflict,
        service.create,
        world.owner,
        organization_id=world.a.id,
        data={"name": "Other", "slug": agent.slug},
    )
    await _refused(
        resources, Conflict, service.undeploy, world.owner, deployment_id=setup["gone_deployment"].id
    )
    await _refused(resources, Conflict, service.restore, world.owner, agent_id=agent.id)
    await _refused(
        resources, Invalid, service.deploy, world.owner, version_id=uuid.uuid4(), visibility="everyone"
    )
    await _refused(resources, Invalid, service.publish, world.owner, agent_id=agent.id, changelog="c" * 5001)


async def test_publish_rechecks_references(resources: Resources, world: World, setup: dict[str, Any]) -> None:
    """A handoff target undeployed after the draft was saved makes publishing BAD_USER_INPUT."""
    agent = await _call(
        resources,
        service.create,
        world.owner,
        organization_id=world.a.id,
        data={"name": "relay", "handoffs": [str(setup["agent_deployment"].id)]},
    )
    await _call(resources, service.undeploy, world.owner, deployment_id=setup["agent_deployment"].id)
    await _refused(resources, Invalid, service.publish, world.owner, agent_id=agent.id)


@pytest.mark.parametrize(
    ("who", "error"), [("member", Forbidden), ("auditor", Forbidden), ("outsider", NotFound)]
)
async def test_non_managers_change_nothing(
    resources: Resources, world: World, setup: dict[str, Any], who: str, error: type[DomainError]
) -> None:
    actor: Actor = getattr(world, who)
    agent, deployment = setup["agent"], setup["agent_deployment"]
    await _refused(resources, error, service.update, actor, agent_id=agent.id, changes={"name": "hijacked"})
    await _refused(resources, error, service.publish, actor, agent_id=agent.id)
    await _refused(resources, error, service.archive, actor, agent_id=agent.id)
    await _refused(resources, error, service.undeploy, actor, deployment_id=deployment.id)
    versions = await _call(resources, service.publish, world.owner, agent_id=agent.id) if False else None
    assert versions is None
    if who != "outsider":
        await _refused(
            resources, Forbidden, service.create, actor, organization_id=world.a.id, data={"name": "x"}
        )
    else:
        await _refused(
            resources, NotFound, service.create, actor, organization_id=world.a.id, data={"name": "x"}
        )
