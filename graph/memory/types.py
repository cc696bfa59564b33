"""GraphQL types of long-term memory items."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend import models
from graph.pagination import PageInfo
from graph.runs.types import encode_cursor


@strawberry.type(
    description="Something an agent remembers about the viewer (written by its `remember` tool)."
)
class MemoryItem:
    id: strawberry.ID = strawberry.field(description="The item's id.")
    agent_id: strawberry.ID = strawberry.field(description="The agent that remembers it.")
    content: str = strawberry.field(description="What is remembered.")
    run_id: strawberry.ID | None = strawberry.field(description="The run that stored it.")
    created_at: datetime = strawberry.field(description="When it was stored.")

    @classmethod
    def from_row(cls, row: models.MemoryItem) -> MemoryItem:
        return cls(
            id=strawberry.ID(str(row.id)),
            agent_id=strawberry.ID(str(row.agent_id)),
            content=row.content,
            run_id=strawberry.ID(str(row.run_id)) if row.run_id else None,
            created_at=row.created_at,
        )


@strawberry.type(description="An edge of a memory list.")
class MemoryItemEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: MemoryItem = strawberry.field(description="The item.")


@strawberry.type(description="Memory items, newest first.")
class MemoryItemConnection:
    edges: list[MemoryItemEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Pagination.")


def memory_connection(rows: list[models.MemoryItem], more: bool) -> MemoryItemConnection:
    edges = [
        MemoryItemEdge(cursor=encode_cursor(r.created_at, r.id), node=MemoryItem.from_row(r)) for r in rows
    ]
    return MemoryItemConnection(
        edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
    )
