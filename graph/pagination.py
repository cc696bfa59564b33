"""Relay pagination pieces shared by every connection type."""

from __future__ import annotations

import strawberry


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether another page follows (pass endCursor as after)."
    )
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; null for an empty page.")
