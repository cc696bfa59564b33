"""Memory items: the tools write and search them; their owner lists and erases them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow, uuid7
from backend.db.raw import fetch
from backend.errors import Conflict, Invalid, NotFound, Unauthenticated
from backend.memory import repository as repo
from backend.models import MemoryItem

MAX_CHARS = 2_000
MAX_ITEMS = 1_000  # per (agent, user)
RECALL_LIMIT = 5


async def remember(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    agent_id: uuid.UUID,
    user_id: uuid.UUID,
    run_id: uuid.UUID | None,
    text: str,
) -> MemoryItem:
    """Stores one memory for the run's user (called by the ``remember`` tool inside a run)."""
    text = " ".join(text.split())
    if not text:
        raise Invalid("text: nothing to remember", field="text")
    if len(text) > MAX_CHARS:
        raise Invalid(f"text: at most {MAX_CHARS} characters", field="text")
    count: int = await session.scalar(repo.count(agent_id, user_id)) or 0
    if count >= MAX_ITEMS:
        raise Conflict(f"Memory is full ({MAX_ITEMS} items); the user can delete some")
    item = MemoryItem(
        id=uuid7(),
        organization_id=organization_id,
        agent_id=agent_id,
        user_id=user_id,
        run_id=run_id,
        content=text,
        created_at=utcnow(),
    )
    session.add(item)
    await session.flush()
    return item


async def recall(
    session: AsyncSession, *, agent_id: uuid.UUID, user_id: uuid.UUID, query: str, limit: int = RECALL_LIMIT
) -> list[str]:
    """The texts of the best full-text matches first (any word matches); the newest items for an
    empty query."""
    stmt, params = repo.matching(agent_id, user_id, query, limit)
    return [row["content"] for row in await fetch(session, stmt, params)]


async def list_memories(
    session: AsyncSession,
    actor: Actor,
    *,
    agent_id: uuid.UUID,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[MemoryItem], bool]:
    """What ``agent_id`` remembers about the viewer (only ever the viewer's own items)."""
    if actor.user_id is None:
        raise Unauthenticated("Sign in to continue")
    stmt = await authorized_select(session, actor, "read", MemoryItem)
    stmt = stmt.where(MemoryItem.agent_id == agent_id, MemoryItem.user_id == actor.user_id)
    if after is not None:
        at, last = after
        stmt = stmt.where(
            (MemoryItem.created_at < at) | ((MemoryItem.created_at == at) & (MemoryItem.id < last))
        )
    stmt = stmt.order_by(MemoryItem.created_at.desc(), MemoryItem.id.desc()).limit(first + 1)
    rows = list((await session.scalars(stmt)).all())
    return rows[:first], len(rows) > first


async def delete_memory(session: AsyncSession, actor: Actor, *, memory_id: uuid.UUID) -> MemoryItem:
    item = (await session.scalars(select(MemoryItem).where(MemoryItem.id == memory_id))).first()
    if item is None:
        raise NotFound("No such memory item")
    await authorize(session, actor, "delete", item)
    await session.execute(delete(MemoryItem).where(MemoryItem.id == item.id))
    await record(
        session,
        actor,
        action="memory.delete",
        resource_type="memory_item",
        resource_id=str(item.id),
        organization_id=item.organization_id,
        summary={"agent_id": str(item.agent_id)},
    )
    return item
