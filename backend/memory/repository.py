"""SQL of long-term memory: PostgreSQL full-text search over ``memory_items.search``."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Select, func, select

from backend.models import MemoryItem

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def owned(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    """Every query starts here: one user's memories of one agent, never anyone else's."""
    return select(MemoryItem).where(MemoryItem.agent_id == agent_id, MemoryItem.user_id == user_id)


def search_terms(query: str) -> str | None:
    """A websearch query matching ANY of the words (``a or b``); None when nothing searchable is left."""
    words = _WORD.findall(query.lower())[:20]
    return " or ".join(words) if words else None


def matching(agent_id: uuid.UUID, user_id: uuid.UUID, query: str, limit: int) -> Select[Any]:
    terms = search_terms(query)
    stmt = owned(agent_id, user_id)
    if terms is None:
        return stmt.order_by(MemoryItem.created_at.desc()).limit(limit)
    tsquery = func.websearch_to_tsquery("english", terms)
    return (
        stmt.where(MemoryItem.search.op("@@")(tsquery))
        .order_by(func.ts_rank(MemoryItem.search, tsquery).desc(), MemoryItem.created_at.desc())
        .limit(limit)
    )


def count(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    return select(func.count()).select_from(owned(agent_id, user_id).subquery())
