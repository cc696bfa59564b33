"""Rows for integration tests: two organisations with members, agents bound to integrations, runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import transaction, uuid7
from backend.integrations import service
from backend.integrations.schemas import CreateIntegrationInput
from backend.models import Agent, Deployment, Integration, Membership, Organization, Run, User
from backend.settings import Settings
from tests.factories import add_deployed_agent


def actor_for(user: User) -> Actor:
    return Actor(kind="user", user_id=user.id, request_id=f"test-{uuid.uuid4().hex[:8]}")


@dataclass
class World:
    a: Organization
    b: Organization
    owner: Actor
    admin: Actor
    builder: Actor
    member: Actor
    outsider: Actor  # owner of b
    users: dict[str, User]


async def _user(session: AsyncSession, org: Organization, role: str) -> User:
    user = User(id=uuid7(), email=f"{role}-{uuid.uuid4().hex[:8]}@example.com", display_name=role)
    session.add(user)
    await session.flush()
    session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
    await session.flush()
    return user


async def make_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with transaction(sessions) as s:
        a = Organization(id=uuid7(), slug=f"acme-{uuid.uuid4().hex[:6]}", name="Acme")
        b = Organization(id=uuid7(), slug=f"globex-{uuid.uuid4().hex[:6]}", name="Globex")
        s.add_all([a, b])
        await s.flush()
        users = {r: await _user(s, a, r) for r in ("owner", "admin", "builder", "member")}
        users["outsider"] = await _user(s, b, "owner")
    return World(
        a, b, *(actor_for(users[r]) for r in ("owner", "admin", "builder", "member", "outsider")), users
    )


async def create(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    actor: Actor,
    org: Organization,
    type_: str,
    name: str,
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
) -> Integration:
    async with transaction(sessions) as s:
        return await service.create_integration(
            s,
            actor,
            settings,
            CreateIntegrationInput(
                organization_id=org.id, type=type_, name=name, config=config, secrets=secrets or {}
            ),
        )


async def agent_with_tools(
    sessions: async_sessionmaker[AsyncSession],
    org: Organization,
    owner: User,
    tools: list[dict[str, Any]],
    *,
    slug: str | None = None,
    handoffs: list[uuid.UUID] | None = None,
) -> tuple[Agent, Deployment]:
    config = {
        "instructions": "",
        "model": "offline",
        "tools": [{"integration_id": str(t["integration_id"]), "tools": t.get("tools")} for t in tools],
        "handoffs": [str(h) for h in handoffs or []],
    }
    async with transaction(sessions) as s:
        return await add_deployed_agent(s, org.id, owner.id, config, slug=slug)


async def make_run(
    sessions: async_sessionmaker[AsyncSession], agent: Agent, user: User, *, parent: Run | None = None
) -> Run:
    async with transaction(sessions) as s:
        run = Run(
            id=uuid7(),
            organization_id=agent.organization_id,
            agent_id=agent.id,
            user_id=user.id,
            trigger="handoff" if parent else "api",
            status="running",
            config=agent.config,
            parent_run_id=parent.id if parent else None,
            depth=(parent.depth + 1) if parent else 0,
        )
        s.add(run)
    return run


def run_actor(run: Run) -> Actor:
    assert run.user_id is not None
    return Actor.for_run(
        user_id=run.user_id, organization_id=run.organization_id, agent_id=run.agent_id, run_id=run.id
    )
