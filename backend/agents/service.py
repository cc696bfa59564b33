"""Agent lifecycle: create, edit the draft, archive, restore (publishing and deploying are in
:mod:`backend.agents.versions` and :mod:`backend.agents.deployments`, re-exported here).

Services never commit; every mutation writes its audit event in the caller's
transaction, and every invalid input raises before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents import repository as repo
from backend.agents.access import agent_for, deployment_for, ensure_active
from backend.agents.deployments import deploy, live_deployment, take_down, undeploy
from backend.agents.schemas import (
    CONFIG_FIELDS,
    LISTING_FIELDS,
    AgentConfig,
    slugify,
    validate_config,
    validate_listing,
)
from backend.agents.tool_catalog import load_integrations, resolve_tools
from backend.agents.validation import check_config, check_handoffs, check_model
from backend.agents.versions import diff_versions, publish
from backend.audit import record
from backend.authz import Actor, authorize, authorized_select, forget
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.models import Agent, Deployment, Organization

__all__ = [
    "archive",
    "create",
    "deploy",
    "diff_versions",
    "get",
    "get_deployment",
    "list_for_organization",
    "publish",
    "readable",
    "restore",
    "undeploy",
    "update",
]

NESTED = ("model_settings", "memory", "limits")


def _split(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    unknown = set(data) - LISTING_FIELDS - CONFIG_FIELDS
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    listing = {k: v for k, v in data.items() if k in LISTING_FIELDS}
    config = {k: v for k, v in data.items() if k in CONFIG_FIELDS}
    return listing, config


async def _free_slug(session: AsyncSession, organization_id: uuid.UUID, name: str) -> str:
    base = slugify(name)[:58].strip("-") or "agent"
    taken = set((await session.scalars(repo.slugs_like(organization_id, base))).all())
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


async def _authorize_bindings(
    session: AsyncSession,
    actor: Actor,
    organization_id: uuid.UUID,
    config: AgentConfig,
    before: AgentConfig | None,
) -> None:
    """Binding an integration needs ``use`` on it; bindings kept from before are not re-checked."""
    kept = {b.integration_id for b in before.tools} if before else set()
    new = [b.integration_id for b in config.tools if b.integration_id not in kept]
    for integration in (await load_integrations(session, organization_id, new)).values():
        await authorize(session, actor, "use", integration)


async def create(
    session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID, data: Mapping[str, Any]
) -> Agent:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("No such organization")
    await authorize(session, actor, "create_agent", org)
    listing_in, config_in = _split(data)
    if not listing_in.get("slug"):
        listing_in["slug"] = await _free_slug(session, org.id, str(listing_in.get("name") or ""))
    listing = validate_listing(listing_in)
    config = validate_config(config_in)
    if (await session.execute(repo.slug_taken(org.id, listing.slug))).first():
        raise Conflict(f"slug {listing.slug!r} is already used in this organization", field="slug")
    await check_config(session, org.id, None, config)
    await _authorize_bindings(session, actor, org.id, config, None)
    agent = Agent(
        organization_id=org.id, created_by_id=actor.user_id, config=config.stored(), **listing.model_dump()
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create took the slug between check and insert
        raise Conflict(f"slug {listing.slug!r} is already used in this organization", field="slug") from None
    forget(actor)  # the creator now owns this agent: drop the cached principal that predates it
    await record(
        session,
        actor,
        action="agent.create",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=org.id,
        summary={"slug": agent.slug, "name": agent.name},
    )
    return agent


async def get(session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> Agent:
    return await agent_for(session, actor, agent_id, "read")


async def readable(session: AsyncSession, actor: Actor, agent: Agent | None) -> Agent:
    """The read check for an agent fetched elsewhere (a DataLoader batch); ``None`` is NotFound."""
    if agent is None:
        raise NotFound("No such agent")
    await authorize(session, actor, "read", agent)
    return agent


def _merge_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Nested settings merge key by key; lists (tools, handoffs) and scalars are replaced."""
    merged = dict(current)
    for key, value in changes.items():
        if key in NESTED and isinstance(value, Mapping) and isinstance(current.get(key), Mapping):
            merged[key] = {**current[key], **value}
        else:
            merged[key] = value
    return merged


async def update(
    session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID, changes: Mapping[str, Any]
) -> Agent:
    """Edits listing fields and/or the draft configuration (never a published version)."""
    agent = await agent_for(session, actor, agent_id, "edit", lock=True)
    ensure_active(agent)
    listing_in, config_in = _split(changes)
    current = {f: getattr(agent, f) for f in LISTING_FIELDS}
    listing = validate_listing({**current, **listing_in})
    before = AgentConfig.model_validate(agent.config)
    config = validate_config(_merge_config(before.stored(), config_in))
    if config.model != before.model:
        await check_model(session, agent.organization_id, config)
    if config.tools != before.tools:
        await resolve_tools(session, agent.organization_id, config.tools)
        await _authorize_bindings(session, actor, agent.organization_id, config, before)
    if config.handoffs != before.handoffs:
        await check_handoffs(session, agent.organization_id, agent.id, config)
    if (
        listing.slug != agent.slug
        and (
            await session.execute(repo.slug_taken(agent.organization_id, listing.slug, except_id=agent.id))
        ).first()
    ):
        raise Conflict(f"slug {listing.slug!r} is already used in this organization", field="slug")
    changed = sorted(f for f, v in listing.model_dump().items() if getattr(agent, f) != v)
    changed += sorted(f for f in CONFIG_FIELDS if getattr(config, f) != getattr(before, f))
    if not changed:
        return agent
    for field, value in listing.model_dump().items():
        setattr(agent, field, value)
    if "category" in changed:  # the deployment's copy, used for marketplace facets
        await session.execute(
            sa_update(Deployment).where(Deployment.agent_id == agent.id).values(category=agent.category)
        )
    agent.config = config.stored()
    await session.flush()
    await record(
        session,
        actor,
        action="agent.update",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={"fields": changed},
    )
    return agent


async def archive(session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID) -> Agent:
    """Retires an agent: it leaves the marketplace (its deployment is undeployed, history kept)."""
    agent = await agent_for(session, actor, agent_id, "archive", lock=True)
    if agent.archived_at is not None:
        raise Conflict("The agent is already archived")
    agent.archived_at = utcnow()
    live = await live_deployment(session, agent)
    if live is not None:
        take_down(session, actor, live)
    await session.flush()
    await record(
        session,
        actor,
        action="agent.archive",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={"undeployed_deployment_id": str(live.id) if live else None},
    )
    return agent


async def restore(session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID) -> Agent:
    """Brings an archived agent back as an editable draft; it is not redeployed automatically."""
    agent = await agent_for(session, actor, agent_id, "archive", lock=True)
    if agent.archived_at is None:
        raise Conflict("The agent is not archived")
    agent.archived_at = None
    await session.flush()
    await record(
        session,
        actor,
        action="agent.restore",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={},
    )
    return agent


async def get_deployment(session: AsyncSession, actor: Actor, deployment_id: uuid.UUID) -> Deployment:
    return await deployment_for(session, actor, deployment_id, "read")


@dataclass
class AgentPage:
    agents: list[Agent]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def _cursor(agent_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"agent:{agent_id}".encode()).decode().rstrip("=")


def _after(cursor: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, ident = raw.partition(":")
        if kind != "agent":
            raise ValueError(kind)
        return uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid("after: not a cursor of this connection", field="after") from None


async def list_for_organization(
    session: AsyncSession,
    actor: Actor,
    *,
    organization_id: uuid.UUID,
    first: int | None = None,
    after: str | None = None,
    include_archived: bool = False,
) -> AgentPage:
    """The organisation's agents the actor may read, newest first (uuid7 ids are time-ordered)."""
    size = 20 if first is None else first
    if not 1 <= size <= 100:
        raise Invalid("first: must be between 1 and 100", field="first")
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("No such organization")
    await authorize(session, actor, "read", org)
    stmt = (await authorized_select(session, actor, "read", Agent)).where(Agent.organization_id == org.id)
    if not include_archived:
        stmt = stmt.where(Agent.archived_at.is_(None))
    total = await session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True))
    if after:
        stmt = stmt.where(Agent.id < _after(after))
    rows = list((await session.scalars(stmt.order_by(Agent.id.desc()).limit(size + 1))).all())
    page = rows[:size]
    return AgentPage(page, [_cursor(a.id) for a in page], len(rows) > size, int(total or 0))
