"""``runEvents``: replay after ``afterSeq`` then live, ending with ``done`` (see backend.runs.stream)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from backend.runs.stream import run_events
from graph.context import Info
from graph.runs.types import RunEvent, parse_id


@strawberry.type
class RunSubscriptions:
    @strawberry.subscription(
        description="A run's events: persisted ones after `afterSeq` (0: all), then live "
        "ones, each once and in order, ending with `done`. Reconnect with the last seq "
        "seen to resume without gaps. Token deltas (type message, kind delta) are live "
        "only; the persisted message event carries the full text."
    )
    async def run_events(
        self, info: Info, run_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[RunEvent, None]:
        rid = parse_id(run_id, "runId")
        async for event in run_events(info.context.resources, info.context.actor, rid, after_seq or 0):
            yield RunEvent(
                run_id=strawberry.ID(str(rid)),
                seq=event["seq"],
                type=event["type"],
                kind=event.get("kind"),
                data=event.get("data"),
                at=datetime.fromisoformat(event["at"]) if event.get("at") else None,
            )
