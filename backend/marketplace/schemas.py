"""Marketplace inputs and outputs: sort orders, opaque keyset cursors and listings.

A cursor encodes the sort, a fingerprint of the search and category it was made for,
the last row's sort key and its id. Pages continue strictly after that ``(key, id)``
pair, so concurrent inserts never shift a page (no OFFSET, no duplicates, no gaps).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from backend.errors import Invalid

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_SEARCH = 200


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    MOST_USED = "most_used"


@dataclass(frozen=True)
class Query:
    """A normalised marketplace request. ``sort`` is the effective order: RELEVANCE without
    a search means nothing to rank, so it falls back to MOST_USED."""

    search: str | None
    category: str | None
    sort: Sort
    first: int

    @classmethod
    def build(cls, search: str | None, category: str | None, sort: Sort, first: int | None) -> Query:
        search = " ".join((search or "").split())[:MAX_SEARCH] or None
        category = (category or "").strip() or None
        size = DEFAULT_PAGE if first is None else first
        if not 1 <= size <= MAX_PAGE:
            raise Invalid(f"first: must be between 1 and {MAX_PAGE}", field="first")
        if sort is Sort.RELEVANCE and search is None:
            sort = Sort.MOST_USED
        return cls(search, category, sort, size)

    @cached_property
    def fingerprint(self) -> str:
        raw = json.dumps([self.search, self.category, self.sort.value])
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cursor:
    key: Any  # float rank, ISO datetime or int usage count
    id: uuid.UUID

    def encode(self, query: Query) -> str:
        key = self.key.isoformat() if isinstance(self.key, datetime) else self.key
        raw = json.dumps([query.fingerprint, key, str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, query: Query) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            fingerprint, key, ident = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise Invalid("after: not a cursor of this API", field="after") from None
        if fingerprint != query.fingerprint:
            raise Invalid("after: the cursor belongs to a different search, category or sort", field="after")
        try:
            return cls(cls._key(query.sort, key), uuid.UUID(ident))
        except (ValueError, TypeError, AttributeError):
            raise Invalid("after: not a cursor of this API", field="after") from None

    @staticmethod
    def _key(sort: Sort, key: Any) -> Any:
        if sort is Sort.NEWEST:
            return datetime.fromisoformat(key)
        if sort is Sort.MOST_USED:
            if not isinstance(key, int) or isinstance(key, bool):
                raise TypeError
            return key
        if not isinstance(key, int | float) or isinstance(key, bool):
            raise TypeError
        return float(key)


@dataclass(frozen=True)
class Listing:
    """What end users see of a deployment: never any configuration."""

    deployment_id: uuid.UUID
    agent_id: uuid.UUID
    name: str
    description: str
    category: str | None
    tags: list[str]
    icon: str | None
    example_prompts: list[str]
    organization_name: str
    organization_slug: str
    visibility: str
    usage_count: int
    deployed_at: datetime
    rank: float | None
    cursor: str = ""


@dataclass(frozen=True)
class Facet:
    category: str | None
    count: int


@dataclass
class Page:
    listings: list[Listing]
    has_next_page: bool
    query: Query
    facets: list[Facet] | None = field(default=None)

    @property
    def end_cursor(self) -> str | None:
        return self.listings[-1].cursor if self.listings else None
