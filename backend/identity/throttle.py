"""Login throttling in Redis: per account and per client address, fixed windows.

Counters only: losing Redis loses nothing but the current windows.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30


def _keys(email: str, client_addr: str | None) -> tuple[str, str]:
    account = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    return f"agentry:login:acct:{account}", f"agentry:login:addr:{client_addr or 'unknown'}"


async def is_throttled(redis: Redis, email: str, client_addr: str | None) -> bool:
    account, address = _keys(email, client_addr)
    counts = await redis.mget(account, address)
    acct, addr = (int(c or 0) for c in counts)
    return acct >= MAX_FAILURES_PER_ACCOUNT or addr >= MAX_FAILURES_PER_ADDRESS


async def note_failure(redis: Redis, email: str, client_addr: str | None) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in _keys(email, client_addr):
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)  # the window starts at the first failure
            pipe.incr(key)
        await pipe.execute()


async def note_success(redis: Redis, email: str, client_addr: str | None) -> None:
    await redis.delete(_keys(email, client_addr)[0])
