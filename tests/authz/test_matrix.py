"""Role x operation matrix: every principal against every action of every resource.

Expectations are written out in full: loosening (or tightening) any Polar rule changes a
cell and fails this test. Denials are checked for NOT_FOUND (cannot even see) versus
FORBIDDEN (may see, may not act), and the SQL row filter must agree with object checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from backend.authz import Actor, authorize, authorized_select, is_allowed
from backend.errors import Forbidden, NotFound
from backend.models import AuditEvent
from tests.authz import factories as f

ORG_ACTIONS = [
    "read",
    "manage",
    "manage_members",
    "manage_owners",
    "create_agent",
    "manage_integrations",
    "read_audit",
    "manage_api_keys",
    "create_api_key",
    "read_runs",
]
AGENT_ACTIONS = [
    "read",
    "read_config",
    "edit",
    "publish",
    "deploy",
    "archive",
    "manage_grants",
    "playground",
    "read_runs",
]
ACTIONS = {
    "org": ORG_ACTIONS,
    "agent": AGENT_ACTIONS,
    "deployment": ["use", "read", "manage", "manage_schedules"],
    "thread": ["read", "write", "delete"],
    "run": ["read", "read_trace", "cancel"],
    "schedule": ["read", "manage"],
    "integration": ["read", "read_config", "manage", "use"],
    "memory": ["read", "delete"],
}
ALL = object()

AGENT_MANAGER = {"agent": ALL, "deployment": ALL, "run": ALL, "schedule": ALL, "thread": ["read"]}
EXPECTED: dict[str, dict[str, Any]] = {
    "owner": {
        "org": ALL,
        **AGENT_MANAGER,
        "thread": ["read", "delete"],
        "integration": ALL,
        "memory": ["delete"],
    },
    "admin": {
        "org": [a for a in ORG_ACTIONS if a != "manage_owners"],
        **AGENT_MANAGER,
        "thread": ["read", "delete"],
        "integration": ALL,
        "memory": ["delete"],
    },
    "builder": {
        "org": ["read", "create_agent", "create_api_key"],
        **AGENT_MANAGER,
        "integration": ["read", "use"],
    },
    "builder2": {
        "org": ["read", "create_agent", "create_api_key"],
        "agent": ["read"],
        "deployment": ["use", "read"],
        "integration": ["read", "use"],
    },
    "editor": {
        "org": ["read"],
        "agent": ["read", "read_config", "edit", "publish", "deploy", "playground", "read_runs"],
        "deployment": ALL,
        "thread": ["read"],
        "run": ALL,
        "schedule": ALL,
    },
    "viewer": {
        "org": ["read"],
        "agent": ["read", "read_config", "read_runs"],
        "deployment": ["use", "read"],
        "thread": ["read"],
        "run": ["read", "read_trace"],
        "schedule": ["read"],
    },
    "member": {
        "org": ["read"],
        "agent": ["read"],
        "deployment": ["use", "read"],
        "thread": ALL,
        "run": ["read", "cancel"],
        "memory": ALL,
    },
    "auditor": {
        "org": ["read", "read_audit", "read_runs"],
        "agent": ["read", "read_config", "read_runs"],
        "deployment": ["use", "read"],
        "thread": ["read"],
        "run": ["read", "read_trace"],
        "schedule": ["read"],
        "integration": ["read", "read_config"],
    },
    "outsider": {},
    # API keys: the owner's rights narrowed to the key's scopes (never more).
    "key:admin[agents:read]": {
        "org": ["read"],
        "agent": ["read", "read_config"],
        "deployment": ["read"],
        "schedule": ["read"],
        "integration": ["read", "read_config"],
    },
    "key:member[runs:write]": {
        "org": ["read"],
        "agent": ["read"],
        "deployment": ["use", "read"],
        "thread": ALL,
        "run": ["read", "cancel"],
        "memory": ALL,
    },
    "key:owner[all]": {
        "org": [
            "read",
            "manage",
            "manage_members",
            "create_agent",
            "manage_integrations",
            "read_audit",
            "read_runs",
        ],
        **AGENT_MANAGER,
        "thread": ["read", "delete"],
        "integration": ALL,
        "memory": ["delete"],
    },
    "key:member[audit:read]": {"org": ["read"]},
    "agent-run(member)": {
        "org": ["read"],
        "agent": ["read"],
        "deployment": ["use", "read"],
        "thread": ALL,
        "run": ["read", "cancel"],
        "memory": ALL,
    },
    "agent-run(owner)": {
        "org": ["read", "read_runs"],
        "agent": ["read", "read_config", "read_runs"],
        "deployment": ["use", "read"],
        "thread": ["read", "delete"],
        "run": ["read", "read_trace", "cancel"],
        "schedule": ["read"],
        "integration": ["read", "read_config"],
        "memory": ["delete"],
    },
}
SCOPES_ALL = [
    "agents:read",
    "agents:write",
    "runs:read",
    "runs:write",
    "schedules:write",
    "integrations:write",
    "members:write",
    "audit:read",
]


@dataclass
class World:
    actors: dict[str, Actor]
    resources: dict[str, Any]


@pytest.fixture
async def world(resources: Any) -> World:
    async with resources.sessions() as s, s.begin():
        org = await f.org(s)
        other = await f.org(s)
        people = {r: await f.member(s, org, r) for r in ("owner", "admin", "builder", "member", "auditor")}
        people["builder2"] = await f.member(s, org, "builder")
        people["editor"] = await f.member(s, org, "member", "editor")
        people["viewer"] = await f.member(s, org, "member", "viewer")
        people["outsider"] = await f.member(s, other, "owner", "outsider")
        agent = await f.agent(s, org, created_by=people["builder"])
        await f.grant(s, agent, people["editor"], "editor")
        await f.grant(s, agent, people["viewer"], "viewer")
        dep = await f.deployment(s, agent)
        thread = await f.thread(s, dep, people["member"])
        res = {
            "org": org,
            "agent": agent,
            "deployment": dep,
            "thread": thread,
            "run": await f.run(s, thread),
            "schedule": await f.schedule(s, dep, people["owner"]),
            "integration": await f.integration(s, org),
            "memory": await f.memory(s, agent, people["member"]),
        }
        actors = {name: f.as_user(p) for name, p in people.items()}
        actors["key:admin[agents:read]"] = f.as_key(await f.api_key(s, org, people["admin"], ["agents:read"]))
        actors["key:member[runs:write]"] = f.as_key(await f.api_key(s, org, people["member"], ["runs:write"]))
        actors["key:owner[all]"] = f.as_key(await f.api_key(s, org, people["owner"], SCOPES_ALL))
        actors["key:member[audit:read]"] = f.as_key(await f.api_key(s, org, people["member"], ["audit:read"]))
        for who in ("member", "owner"):
            actors[f"agent-run({who})"] = Actor.for_run(
                user_id=people[who].id, organization_id=org.id, agent_id=agent.id
            )
    return World(actors, res)


def _expected(principal: str, kind: str) -> set[str]:
    spec = EXPECTED[principal].get(kind, [])
    return set(ACTIONS[kind]) if spec is ALL else set(spec)


@pytest.mark.parametrize("principal", list(EXPECTED))
async def test_role_operation_matrix(world: World, resources: Any, principal: str) -> None:
    actor = world.actors[principal]
    mismatches = []
    async with resources.sessions() as s:
        for kind, actions in ACTIONS.items():
            resource = world.resources[kind]
            expected = _expected(principal, kind)
            for action in actions:
                if await is_allowed(s, actor, action, resource) != (action in expected):
                    mismatches.append(
                        f"{kind}.{action}: expected {'allow' if action in expected else 'deny'}"
                    )
    assert not mismatches, f"{principal}: " + "; ".join(mismatches)


@pytest.mark.parametrize("principal", list(EXPECTED))
async def test_sql_filter_agrees_with_object_checks(world: World, resources: Any, principal: str) -> None:
    actor = world.actors[principal]
    async with resources.sessions() as s:
        for kind, actions in ACTIONS.items():
            resource = world.resources[kind]
            model = type(resource)
            for action in actions:
                stmt = (await authorized_select(s, actor, action, model)).where(model.id == resource.id)
                found = (await s.scalars(stmt)).first() is not None
                assert found == (action in _expected(principal, kind)), (principal, kind, action)


async def test_denials_distinguish_not_found_and_forbidden(world: World, resources: Any) -> None:
    async with resources.sessions() as s:
        with pytest.raises(NotFound):
            await authorize(s, world.actors["outsider"], "read_config", world.resources["agent"])
        with pytest.raises(NotFound):
            await authorize(s, world.actors["outsider"], "read", world.resources["org"])
        with pytest.raises(Forbidden):
            await authorize(s, world.actors["member"], "edit", world.resources["agent"])
        with pytest.raises(NotFound):  # another user's thread is invisible, not forbidden
            await authorize(s, world.actors["builder2"], "write", world.resources["thread"])
        await authorize(s, world.actors["editor"], "edit", world.resources["agent"])
    async with resources.sessions() as s:
        denied = (await s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied"))).all()
    assert [e.action for e in denied] == [
        "agent.read_config",
        "organization.read",
        "agent.edit",
        "thread.write",
    ]
    assert {e.summary["reason"] for e in denied} == {"not_found", "forbidden"}
    assert all(e.organization_id == world.resources["org"].id for e in denied)


async def test_public_deployments_are_usable_across_organisations_but_not_by_keys(
    world: World, resources: Any
) -> None:
    async with resources.sessions() as s, s.begin():
        dep = world.resources["deployment"]
        dep = await s.get(type(dep), dep.id)
        dep.visibility = "public"
    async with resources.sessions() as s:
        assert await is_allowed(s, world.actors["outsider"], "use", dep)
        assert not await is_allowed(s, world.actors["outsider"], "manage", dep)
        # A key acts only inside its own organisation.
        other_key = Actor(
            kind="api_key",
            user_id=world.actors["outsider"].user_id,
            organization_id=world.resources["memory"].organization_id,
            scopes=frozenset(SCOPES_ALL),
        )
        assert not await is_allowed(s, other_key, "use", world.resources["integration"])


async def test_undeployed_deployment_is_not_usable(world: World, resources: Any) -> None:
    from backend.db import utcnow

    async with resources.sessions() as s, s.begin():
        dep = await s.get(type(world.resources["deployment"]), world.resources["deployment"].id)
        dep.undeployed_at = utcnow()
    async with resources.sessions() as s:
        assert not await is_allowed(s, world.actors["member"], "use", dep)
        assert await is_allowed(s, world.actors["editor"], "manage", dep)


async def test_system_actor_may_do_everything_and_anonymous_nothing(world: World, resources: Any) -> None:
    async with resources.sessions() as s:
        for kind, actions in ACTIONS.items():
            for action in actions:
                assert await is_allowed(s, Actor.system(), action, world.resources[kind])
                assert not await is_allowed(s, Actor.anonymous(), action, world.resources[kind])


async def test_removed_member_loses_grants(world: World, resources: Any) -> None:
    from sqlalchemy import delete

    from backend.models import Membership

    editor = world.actors["editor"]
    async with resources.sessions() as s, s.begin():
        await s.execute(delete(Membership).where(Membership.user_id == editor.user_id))
    async with resources.sessions() as s:
        fresh = (
            f.as_user(
                None,
            )
            if False
            else Actor(kind="user", user_id=editor.user_id)
        )
        assert not await is_allowed(s, fresh, "edit", world.resources["agent"])
