"""Fixed-window request counter per webhook trigger in Redis (rebuildable state: losing it resets windows)."""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

WINDOW_S = 60


async def hit(redis: Redis, trigger_id: uuid.UUID, limit: int) -> int:
    """Counts one request; returns 0 when allowed, else the seconds until the window resets."""
    now = time.time()
    window = int(now // WINDOW_S)
    key = f"ratelimit:webhook:{trigger_id}:{window}"
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, WINDOW_S * 2)
    count, _ = await pipe.execute()
    if int(count) <= limit:
        return 0
    return max(1, int((window + 1) * WINDOW_S - now) + 1)
