"""Factories for agent tests: organisations, users with roles, integrations, and a DB snapshot."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import transaction
from backend.identity.tokens import open_session
from backend.models import Integration, Membership, Organization, User
from backend.resources import Resources

SNAPSHOT_TABLES = ("agents", "agent_versions", "deployments", "deployment_events")


async def make_org(session: AsyncSession, slug: str) -> Organization:
    org = Organization(slug=slug, name=slug.title())
    session.add(org)
    await session.flush()
    return org


async def make_user(session: AsyncSession, org: Organization | None = None, role: str | None = None) -> User:
    user = User(email=f"{secrets.token_hex(4)}@example.com", display_name="Test user")
    session.add(user)
    await session.flush()
    if org is not None and role is not None:
        session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
        await session.flush()
    return user


async def make_integration(
    session: AsyncSession,
    org: Organization,
    type_: str = "sql",
    name: str = "db",
    cache: dict[str, Any] | None = None,
) -> Integration:
    integration = Integration(organization_id=org.id, type=type_, name=name, config={}, cache=cache or {})
    session.add(integration)
    await session.flush()
    return integration


def actor_for(user: User) -> Actor:
    return Actor(kind="user", user_id=user.id, request_id=f"test-{uuid.uuid4().hex[:8]}")


@dataclass
class World:
    """Org ``a`` (owner, builder, member, auditor, an SQL integration) and ``b`` (owner, integration)."""

    a: Organization
    b: Organization
    owner: Actor
    builder: Actor
    member: Actor
    auditor: Actor
    outsider: Actor  # owner of b
    sql: Integration
    other_sql: Integration
    tokens: dict[str, str]  # role name -> session token (for GraphQL tests)


async def make_world(resources: Resources) -> World:
    roles = ("owner", "builder", "member", "auditor")
    async with transaction(resources.sessions) as s:
        a, b = await make_org(s, "acme"), await make_org(s, "globex")
        users = [await make_user(s, a, r) for r in roles]
        outsider = await make_user(s, b, "owner")
        sql, other = await make_integration(s, a), await make_integration(s, b)
        tokens = {}
        for name, user in zip((*roles, "outsider"), (*users, outsider), strict=True):
            tokens[name] = (
                await open_session(s, resources.settings, user, client_addr=None, user_agent=None)
            )[1]
    return World(a, b, *(actor_for(u) for u in users), actor_for(outsider), sql, other, tokens)


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Every row of the agent tables plus the count of allowed audit events."""
    out: dict[str, Any] = {}
    async with sessions() as s:
        for table in SNAPSHOT_TABLES:
            rows = await s.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            out[table] = [dict(r._mapping) for r in rows]
        out["audit"] = await s.scalar(text("SELECT count(*) FROM audit_events WHERE outcome = 'allowed'"))
    return out
