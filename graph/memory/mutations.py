"""``deleteMemory``: the owner erases one memory item."""

from __future__ import annotations

import strawberry

from backend.db import transaction
from backend.memory import service
from graph.context import Info
from graph.memory.types import MemoryItem
from graph.runs.types import parse_id


@strawberry.type
class MemoryMutations:
    @strawberry.mutation(description="Erase a memory item the viewer owns (returns it as it was).")
    async def delete_memory(self, info: Info, id: strawberry.ID) -> MemoryItem:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.delete_memory(session, info.context.actor, memory_id=parse_id(id, "id"))
        return MemoryItem.from_row(row)
