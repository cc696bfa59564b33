"""Publishing immutable, numbered versions and diffing them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents import repository as repo
from backend.agents.access import agent_for, ensure_active, version_for
from backend.agents.schemas import validate_config
from backend.agents.validation import check_config
from backend.agents.versioning import FieldChange, config_hash, diff_configs
from backend.audit import record
from backend.authz import Actor
from backend.db import utcnow
from backend.errors import Conflict, Invalid
from backend.models import AgentVersion

MAX_CHANGELOG = 5_000


async def publish(
    session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID, changelog: str = ""
) -> AgentVersion:
    """Freezes the draft. The agent row lock serialises numbering; unchanged drafts are refused."""
    changelog = changelog.strip()
    if len(changelog) > MAX_CHANGELOG:
        raise Invalid(f"changelog: at most {MAX_CHANGELOG} characters", field="changelog")
    agent = await agent_for(session, actor, agent_id, "publish", lock=True)
    ensure_active(agent)
    # Integrations or handoff targets may have gone since the draft was saved: check again.
    config = validate_config(agent.config)
    await check_config(session, agent.organization_id, agent.id, config)
    stored = config.stored()
    digest = config_hash(stored)
    latest = (await session.scalars(repo.latest_version(agent.id))).first()
    if latest is not None and latest.config_hash == digest:
        raise Conflict(f"The draft is unchanged since version {latest.number}; nothing to publish")
    version = AgentVersion(
        agent_id=agent.id,
        number=(latest.number + 1) if latest else 1,
        config=stored,
        config_hash=digest,
        changelog=changelog,
        author_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(version)
    await session.flush()
    await record(
        session,
        actor,
        action="agent.publish",
        resource_type="agent",
        resource_id=str(agent.id),
        organization_id=agent.organization_id,
        summary={"version_id": str(version.id), "number": version.number, "config_hash": digest},
    )
    return version


async def diff_versions(
    session: AsyncSession, actor: Actor, *, from_version_id: uuid.UUID, to_version_id: uuid.UUID
) -> tuple[AgentVersion, AgentVersion, list[FieldChange]]:
    """Field-level changes between two versions of the same agent (needs ``read_config``)."""
    before = await version_for(session, actor, from_version_id, "read_config")
    after = await version_for(session, actor, to_version_id, "read_config")
    if before.agent_id != after.agent_id:
        raise Invalid("Both versions must belong to the same agent", field="toVersionId")
    return before, after, diff_configs(before.config, after.config)
