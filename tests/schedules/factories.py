"""Rows the schedule tests need, written straight through the ORM (no other domain's services)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import transaction, utcnow
from backend.models import Agent, AgentVersion, Deployment, Membership, Organization, Schedule, User


@dataclass
class World:
    org_id: uuid.UUID
    owner: Actor  # organisation owner: manages everything
    builder: Actor  # builder who created the agent: manages it
    member: Actor  # plain member: may use the deployment, not manage it
    outsider: Actor  # member of another organisation
    agent_id: uuid.UUID
    version_id: uuid.UUID
    deployment_id: uuid.UUID


async def user(session: AsyncSession, name: str) -> uuid.UUID:
    u = User(email=f"{name}-{secrets.token_hex(4)}@example.com", display_name=name)
    session.add(u)
    await session.flush()
    return u.id


async def org(session: AsyncSession, slug: str) -> uuid.UUID:
    o = Organization(slug=f"{slug}-{secrets.token_hex(3)}", name=slug)
    session.add(o)
    await session.flush()
    return o.id


async def member(session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    session.add(Membership(organization_id=org_id, user_id=user_id, role=role))
    await session.flush()


async def deployed_agent(
    session: AsyncSession, org_id: uuid.UUID, creator: uuid.UUID, visibility: str = "organization"
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    agent = Agent(
        organization_id=org_id,
        slug=f"agent-{secrets.token_hex(3)}",
        name="Reporter",
        description="",
        tags=[],
        example_prompts=[],
        config={"instructions": "Report.", "model": "offline"},
        created_by_id=creator,
    )
    session.add(agent)
    await session.flush()
    version = AgentVersion(
        agent_id=agent.id,
        number=1,
        config=agent.config,
        config_hash="0" * 64,
        author_id=creator,
        created_at=utcnow(),
    )
    session.add(version)
    await session.flush()
    deployment = Deployment(
        agent_id=agent.id,
        organization_id=org_id,
        version_id=version.id,
        visibility=visibility,
        deployed_at=utcnow(),
        deployed_by_id=creator,
    )
    session.add(deployment)
    await session.flush()
    return agent.id, version.id, deployment.id


def as_user(user_id: uuid.UUID) -> Actor:
    return Actor(kind="user", user_id=user_id)


async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with transaction(sessions) as s:
        org_id, other_org = await org(s, "acme"), await org(s, "other")
        ids = {n: await user(s, n) for n in ("owner", "builder", "member", "outsider")}
        await member(s, org_id, ids["owner"], "owner")
        await member(s, org_id, ids["builder"], "builder")
        await member(s, org_id, ids["member"], "member")
        await member(s, other_org, ids["outsider"], "owner")
        agent_id, version_id, deployment_id = await deployed_agent(s, org_id, ids["builder"])
    return World(
        org_id,
        as_user(ids["owner"]),
        as_user(ids["builder"]),
        as_user(ids["member"]),
        as_user(ids["outsider"]),
        agent_id,
        version_id,
        deployment_id,
    )


async def due_schedule(
    sessions: async_sessionmaker[AsyncSession],
    w: World,
    *,
    next_fire_at: datetime,
    cron: str = "* * * * *",
    policy: str = "skip",
    creator: uuid.UUID | None = None,
) -> uuid.UUID:
    """An active schedule inserted directly with a chosen ``next_fire_at`` (as if time had passed)."""
    async with transaction(sessions) as s:
        sched = Schedule(
            organization_id=w.org_id,
            deployment_id=w.deployment_id,
            created_by_id=creator or w.builder.user_id,
            name="due",
            cron=cron,
            timezone="UTC",
            input="daily report",
            misfire_policy=policy,
            status="active",
            next_fire_at=next_fire_at,
        )
        s.add(sched)
        await s.flush()
        return sched.id
