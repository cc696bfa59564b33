"""What the policy knows about an actor: its roles, loaded once per actor per request or job.

The principal is plain data (ids per role); every decision about what a role may do is made
in ``policies/*.polar``. Loading costs two indexed queries; the result is cached on the
(per-request) Actor object for a few seconds and dropped by :func:`forget` after role changes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.actor import Actor
from backend.models import Agent, AgentGrant, Deployment, Membership

CACHE_SECONDS = 5.0
_CACHE_ATTR = "_authz_principal"
_generation = 0


@dataclass
class Principal:
    """Registered with Oso. ``scoped``/``confined`` are plain booleans so data filtering can use them."""

    kind: str
    user_id: uuid.UUID | None
    is_system: bool = False
    scoped: bool = False
    scopes: list[str] = field(default_factory=list)
    confined: bool = False
    home_org_id: uuid.UUID | None = None
    org_roles: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    agent_roles: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    deployment_roles: dict[str, list[uuid.UUID]] = field(default_factory=dict)

    def org_ids(self, role: str) -> list[uuid.UUID]:
        return self.org_roles.get(role, [])

    def agent_ids(self, role: str) -> list[uuid.UUID]:
        return self.agent_roles.get(role, [])

    def deployment_ids(self, role: str) -> list[uuid.UUID]:
        return self.deployment_roles.get(role, [])

    @cached_property
    def key(self) -> tuple[object, ...]:
        """Everything the policy can see of this principal: plans are memoised by it."""
        return (
            self.kind,
            self.user_id,
            self.is_system,
            self.scoped,
            tuple(self.scopes),
            self.confined,
            self.home_org_id,
            *(_freeze(d) for d in (self.org_roles, self.agent_roles, self.deployment_roles)),
        )

    def role_in(self, organization_id: uuid.UUID) -> str | None:
        for role, ids in self.org_roles.items():
            if organization_id in ids:
                return role
        return None


def _freeze(roles: dict[str, list[uuid.UUID]]) -> tuple[tuple[str, tuple[uuid.UUID, ...]], ...]:
    return tuple(sorted((role, tuple(sorted(ids))) for role, ids in roles.items()))


def _base(actor: Actor) -> Principal:
    return Principal(
        kind=actor.kind,
        user_id=actor.user_id,
        is_system=actor.kind == "system",
        scoped=actor.scopes is not None,
        scopes=sorted(actor.scopes or ()),
        confined=actor.confined,
        home_org_id=actor.organization_id if actor.confined else None,
    )


async def load_principal(session: AsyncSession, actor: Actor) -> Principal:
    """The actor's principal; concurrent callers of one request share a single load."""
    cached = actor.__dict__.get(_CACHE_ATTR)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return await asyncio.shield(cached[1])  # type: ignore[no-any-return]
    future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
    # Actor is frozen; the cache lives on the instance, i.e. per request / job.
    object.__setattr__(actor, _CACHE_ATTR, (time.monotonic(), future))
    try:
        principal = _base(actor)
        if actor.user_id is not None and actor.kind != "system":
            await _load_roles(session, actor, principal)
    except BaseException as err:
        actor.__dict__.pop(_CACHE_ATTR, None)
        future.set_exception(err)
        future.exception()  # mark retrieved: waiters (if any) re-raise it
        raise
    future.set_result(principal)
    return principal


def forget(actor: Actor) -> None:
    """Drop the cached principal (call after changing the actor's own memberships or grants)."""
    actor.__dict__.pop(_CACHE_ATTR, None)
    changed()


def changed() -> None:
    """Something a principal is built from changed: principals cached across requests are void."""
    global _generation
    _generation += 1


def generation() -> int:
    """Bumped by :func:`changed`; caches keep the value they loaded at and compare."""
    return _generation


def attach(actor: Actor, principal: Principal, loaded_at: float) -> None:
    """Give a new actor an already loaded principal (it still expires ``CACHE_SECONDS`` after loading)."""
    future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
    future.set_result(principal)
    object.__setattr__(actor, _CACHE_ATTR, (loaded_at, future))


async def _load_roles(session: AsyncSession, actor: Actor, principal: Principal) -> None:
    """One round trip: memberships, per-agent grants and authored agents (with their deployments).

    Grants and authorship only count inside organisations the user still belongs to (for API
    keys and agents: only the credential's organisation).
    """
    user_id = actor.user_id
    member = select(Membership.organization_id).where(Membership.user_id == user_id)
    if principal.confined:
        member = member.where(Membership.organization_id == actor.organization_id)
    member_orgs = member.scalar_subquery()
    memberships = select(
        literal("org").label("kind"),
        Membership.role,
        Membership.organization_id.label("id"),
        null().label("deployment_id"),
    ).where(Membership.user_id == user_id, Membership.organization_id.in_(member_orgs))
    grants = (
        select(literal("agent"), AgentGrant.role, AgentGrant.agent_id, Deployment.id)
        .join(Agent, Agent.id == AgentGrant.agent_id)
        .outerjoin(Deployment, Deployment.agent_id == Agent.id)
        .where(AgentGrant.user_id == user_id, Agent.organization_id.in_(member_orgs))
    )
    created = (
        select(literal("agent"), literal("creator"), Agent.id, Deployment.id)
        .outerjoin(Deployment, Deployment.agent_id == Agent.id)
        .where(Agent.created_by_id == user_id, Agent.organization_id.in_(member_orgs))
    )
    org_roles: dict[str, list[uuid.UUID]] = defaultdict(list)
    agent_roles: dict[str, list[uuid.UUID]] = defaultdict(list)
    deployment_roles: dict[str, list[uuid.UUID]] = defaultdict(list)
    rows: list[Any] = list((await session.execute(union_all(memberships, grants, created))).all())
    for kind, role, target, deployment_id in rows:
        if kind == "org":
            org_roles[role].append(target)
            continue
        agent_roles[role].append(target)
        if deployment_id is not None:
            deployment_roles[role].append(deployment_id)
    principal.org_roles = dict(org_roles)
    principal.agent_roles = dict(agent_roles)
    principal.deployment_roles = dict(deployment_roles)
