"""Publishing run events after commit (never before: a rolled-back event must never be seen)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from backend.events.codec import channel, encode
from backend.logging import log


async def publish(redis: Redis, run_id: uuid.UUID | str, events: Sequence[dict[str, Any]]) -> bool:
    """Publishes in one message (one round trip); returns False (and logs) when Redis is unavailable.

    A failed publish is not an error: the events are in PostgreSQL, and subscribers replay them
    (they poll when the channel stays silent, and resynchronise after a Redis reconnect).
    """
    if not events:
        return True
    name = channel(run_id)
    try:
        await redis.publish(name, encode(events[0] if len(events) == 1 else events))
    except Exception as exc:  # Redis down or restarting: PostgreSQL has the events.
        log.warning("events.publish_failed", run_id=str(run_id), error=type(exc).__name__)
        return False
    return True
