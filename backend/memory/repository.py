"""SQL of long-term memory: PostgreSQL full-text search over ``memory_items.search``."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Select, func, select

from backend.db.raw import RawSQL
from backend.models import MemoryItem

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def owned(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    """Every query starts here: one user's memories of one agent, never anyone else's."""
    return select(MemoryItem).where(MemoryItem.agent_id == agent_id, MemoryItem.user_id == user_id)


def search_terms(query: str) -> str | None:
    """A websearch query matching ANY of the words (``a or b``); None when nothing searchable is left."""
    words = _WORD.findall(query.lower())[:20]
    return " or ".join(words) if words else None


# Fixed texts on the hot path (``backend.db.raw``): every model-called ``recall`` runs one, and
# building or compiling a full-text select per call cost more CPU than the search itself.
_OWNED = "FROM memory_items WHERE agent_id = :agent_id AND user_id = :user_id"
_NEWEST = RawSQL(f"SELECT content {_OWNED} ORDER BY created_at DESC LIMIT :limit")
_BEST = RawSQL(f"""
SELECT content {_OWNED} AND search @@ websearch_to_tsquery('english', :terms)
 ORDER BY ts_rank(search, websearch_to_tsquery('english', :terms)) DESC, created_at DESC
 LIMIT :limit
""")


def matching(
    agent_id: uuid.UUID, user_id: uuid.UUID, query: str, limit: int
) -> tuple[RawSQL, dict[str, Any]]:
    """The ``content`` of the best full-text matches first (any word); the newest items when nothing
    searchable is left."""
    terms = search_terms(query)
    params: dict[str, Any] = {"agent_id": agent_id, "user_id": user_id, "limit": limit}
    if terms is None:
        return _NEWEST, params
    return _BEST, {**params, "terms": terms}


def count(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    return select(func.count()).select_from(owned(agent_id, user_id).subquery())
