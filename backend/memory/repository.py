"""SQL of long-term memory: PostgreSQL full-text search over ``memory_items.search``."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from backend.models import MemoryItem

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def owned(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    """Every query starts here: one user's memories of one agent, never anyone else's."""
    return select(MemoryItem).where(MemoryItem.agent_id == agent_id, MemoryItem.user_id == user_id)


def search_terms(query: str) -> str | None:
    """A websearch query matching ANY of the words (``a or b``); None when nothing searchable is left."""
    words = _WORD.findall(query.lower())[:20]
    return " or ".join(words) if words else None


# Built once with bound parameters: building a full-text select per call cost more CPU than the
# search itself, and every model-called ``recall`` runs one.
_AGENT: Any = bindparam("agent_id")
_USER: Any = bindparam("user_id")
_TERMS: Any = bindparam("terms")
_LIMIT: Any = bindparam("limit")
_TSQUERY = func.websearch_to_tsquery("english", _TERMS)
_NEWEST = owned(_AGENT, _USER).order_by(MemoryItem.created_at.desc()).limit(_LIMIT)
_BEST = (
    owned(_AGENT, _USER)
    .where(MemoryItem.search.op("@@")(_TSQUERY))
    .order_by(func.ts_rank(MemoryItem.search, _TSQUERY).desc(), MemoryItem.created_at.desc())
    .limit(_LIMIT)
)


def matching(
    agent_id: uuid.UUID, user_id: uuid.UUID, query: str, limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    """Best full-text matches first (any word); the newest items when nothing searchable is left."""
    terms = search_terms(query)
    params: dict[str, Any] = {"agent_id": agent_id, "user_id": user_id, "limit": limit}
    if terms is None:
        return _NEWEST, params
    return _BEST, {**params, "terms": terms}


def count(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[Any]:
    return select(func.count()).select_from(owned(agent_id, user_id).subquery())
