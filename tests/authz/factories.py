"""Small row factories for access-control tests (direct inserts, no services)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor
from backend.db import uuid7
from backend.models import (
    Agent,
    AgentGrant,
    AgentVersion,
    ApiKey,
    Deployment,
    Integration,
    Membership,
    MemoryItem,
    Organization,
    Run,
    Schedule,
    Thread,
    User,
)


async def user(session: AsyncSession, name: str = "u") -> User:
    row = User(id=uuid7(), email=f"{name}-{uuid.uuid4().hex[:8]}@example.com", display_name=name)
    session.add(row)
    await session.flush()
    return row


async def org(session: AsyncSession, slug: str | None = None) -> Organization:
    row = Organization(id=uuid7(), slug=slug or f"org-{uuid.uuid4().hex[:8]}", name="Org")
    session.add(row)
    await session.flush()
    return row


async def member(
    session: AsyncSession, organization: Organization, role: str, name: str | None = None
) -> User:
    person = await user(session, name or role)
    session.add(Membership(organization_id=organization.id, user_id=person.id, role=role))
    await session.flush()
    return person


async def agent(session: AsyncSession, organization: Organization, created_by: User | None = None) -> Agent:
    row = Agent(
        id=uuid7(),
        organization_id=organization.id,
        slug=f"a-{uuid.uuid4().hex[:8]}",
        name="Helper",
        description="Helps",
        config={"instructions": "SECRET PROMPT", "model": "offline"},
        created_by_id=created_by.id if created_by else None,
        tags=[],
    )
    session.add(row)
    await session.flush()
    return row


async def grant(session: AsyncSession, target: Agent, person: User, role: str) -> None:
    session.add(AgentGrant(agent_id=target.id, user_id=person.id, role=role))
    await session.flush()


async def deployment(session: AsyncSession, target: Agent, visibility: str = "organization") -> Deployment:
    version = AgentVersion(
        id=uuid7(),
        agent_id=target.id,
        number=1,
        config=target.config,
        config_hash="0" * 64,
        created_at=datetime.now(UTC),
    )
    session.add(version)
    await session.flush()
    row = Deployment(
        id=uuid7(),
        agent_id=target.id,
        organization_id=target.organization_id,
        version_id=version.id,
        visibility=visibility,
        deployed_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


async def thread(session: AsyncSession, dep: Deployment, owner: User) -> Thread:
    row = Thread(
        id=uuid7(),
        organization_id=dep.organization_id,
        user_id=owner.id,
        agent_id=dep.agent_id,
        deployment_id=dep.id,
    )
    session.add(row)
    await session.flush()
    return row


async def run(session: AsyncSession, t: Thread) -> Run:
    row = Run(
        id=uuid7(),
        organization_id=t.organization_id,
        agent_id=t.agent_id,
        deployment_id=t.deployment_id,
        thread_id=t.id,
        user_id=t.user_id,
        trigger="chat",
        status="succeeded",
    )
    session.add(row)
    await session.flush()
    return row


async def schedule(session: AsyncSession, dep: Deployment, creator: User) -> Schedule:
    row = Schedule(
        id=uuid7(),
        organization_id=dep.organization_id,
        deployment_id=dep.id,
        created_by_id=creator.id,
        cron="0 * * * *",
        timezone="UTC",
    )
    session.add(row)
    await session.flush()
    return row


async def integration(session: AsyncSession, organization: Organization) -> Integration:
    row = Integration(
        id=uuid7(),
        organization_id=organization.id,
        type="http",
        name=f"i-{uuid.uuid4().hex[:6]}",
        config={"baseUrl": "https://example.com"},
    )
    session.add(row)
    await session.flush()
    return row


async def memory(session: AsyncSession, target: Agent, owner: User) -> MemoryItem:
    row = MemoryItem(
        id=uuid7(),
        organization_id=target.organization_id,
        agent_id=target.id,
        user_id=owner.id,
        content="likes tea",
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return row


async def api_key(
    session: AsyncSession, organization: Organization, owner: User, scopes: list[str]
) -> ApiKey:
    row = ApiKey(
        id=uuid7(),
        organization_id=organization.id,
        user_id=owner.id,
        name="k",
        prefix=f"agk_{uuid.uuid4().hex[:8]}",
        secret_hash=b"x",
        scopes=scopes,
    )
    session.add(row)
    await session.flush()
    return row


def as_user(person: User | None, **kw: Any) -> Actor:
    return Actor(kind="user", user_id=person.id if person else None, **kw)


def as_key(key: ApiKey) -> Actor:
    return Actor(
        kind="api_key",
        user_id=key.user_id,
        api_key_id=key.id,
        organization_id=key.organization_id,
        scopes=frozenset(key.scopes),
    )
