"""``memories(agentId)``: what an agent remembers about the viewer."""

from __future__ import annotations

import strawberry

from backend.memory import service
from graph.context import Info
from graph.memory.types import MemoryItemConnection, memory_connection
from graph.runs.types import clamp_first, decode_cursor, parse_id


@strawberry.type
class MemoryQueries:
    @strawberry.field(
        description="What the agent remembers about the viewer (only ever the viewer's own "
        "items), newest first."
    )
    async def memories(
        self, info: Info, agent_id: strawberry.ID, first: int | None = 20, after: str | None = None
    ) -> MemoryItemConnection:
        async with info.context.resources.sessions() as session:
            rows, more = await service.list_memories(
                session,
                info.context.actor,
                agent_id=parse_id(agent_id, "agentId"),
                first=clamp_first(first),
                after=decode_cursor(after),
            )
        return memory_connection(rows, more)
