"""A run's publications, in order; some events are held to ride along with the next one.

Each publication costs a PUBLISH, and a read and a dispatch in every API process that follows the
run. A quick run publishes several times within milliseconds (``RUNNING`` after its claim, a
checkpoint, a tool's result, the token deltas pending before a checkpoint, its end), so the
executor and the checkpointer :meth:`~RunPublisher.hold` such events: they leave in the same message
as the next publication, or on their own after :data:`HOLD_S`. Nothing is ever reordered, and
:meth:`~RunPublisher.publish` (a checkpoint's own events, a run's end) never waits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from backend.events import publish

HOLD_S = 0.05


class RunPublisher:
    def __init__(self, redis: Redis, run_id: uuid.UUID) -> None:
        self.redis = redis
        self.run_id = run_id
        self._held: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: asyncio.Task[bool] | None = None

    def hold(self, events: Sequence[dict[str, Any]], seconds: float = HOLD_S) -> None:
        """Publish ``events`` with the next publication, or on their own after ``seconds``."""
        self._held.extend(events)
        if self._timer is None and self._held:
            self._timer = asyncio.get_running_loop().call_later(seconds, self._release)

    def _release(self) -> None:
        self._timer = None
        if not self._held:
            return
        loop = asyncio.get_running_loop()
        if self._sending is not None and not self._sending.done():  # keep the order: try again soon
            self._timer = loop.call_later(0.001, self._release)
            return
        batch, self._held = self._held, []
        self._sending = loop.create_task(publish(self.redis, self.run_id, batch))

    async def publish(self, events: Sequence[dict[str, Any]]) -> bool:
        """Publishes what is held, then ``events``, in one message (after any release in flight)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._sending is not None and not self._sending.done():
            await asyncio.wait({self._sending})
        batch = [*self._held, *events]
        self._held = []
        return await publish(self.redis, self.run_id, batch) if batch else True

    async def flush(self) -> None:
        await self.publish([])
