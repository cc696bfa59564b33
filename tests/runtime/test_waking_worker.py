"""The waking worker: jobs that found no free slot start as soon as one frees up."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis

from backend.resources import redis_settings
from backend.wakeup import wake
from jobs.waking import WakingWorker
from tests.runtime.harness import started

STARTS: dict[str, int] = {}


async def slow(ctx: dict[str, Any], key: str) -> None:
    STARTS[key] = STARTS.get(key, 0) + 1
    await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _running(redis_url: str, *, max_jobs: int) -> AsyncIterator[tuple[ArqRedis, WakingWorker]]:
    """A waking worker on a queue of its own, its idle poll out of reach: only wake-ups start jobs."""
    settings = redis_settings(redis_url)
    queue = f"test:{uuid.uuid4().hex}"
    pool = await create_pool(settings, default_queue_name=queue)
    worker = WakingWorker(
        functions=[slow],  # type: ignore[list-item]
        redis_settings=settings,
        queue_name=queue,
        burst=False,
        handle_signals=False,
        max_jobs=max_jobs,
        keep_result=0,
        idle_poll=30.0,
    )
    try:
        async with started(worker):
            await asyncio.sleep(0.3)  # subscribed to wake-ups
            yield pool, worker
    finally:
        await pool.aclose()


async def test_jobs_left_waiting_for_a_slot_start_when_one_frees_up(redis_url: str) -> None:
    async with _running(redis_url, max_jobs=2) as (pool, worker):
        keys = [f"k{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
        for key in keys:
            await pool.enqueue_job("slow", key, _job_id=key)
        await wake(pool)
        async with asyncio.timeout(5):  # 3 waves of 0.2 s; the idle poll (30 s) never fires
            while sum(STARTS.get(k, 0) for k in keys) < 5 or worker.job_counter:
                await asyncio.sleep(0.02)
        assert [STARTS[k] for k in keys] == [1] * 5, "each job ran exactly once"


async def test_a_job_enqueued_while_every_slot_is_busy_starts_when_one_frees_up(redis_url: str) -> None:
    async with _running(redis_url, max_jobs=1) as (pool, _):
        first, second = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("first", "second"))
        await pool.enqueue_job("slow", first, _job_id=first)
        await wake(pool)
        async with asyncio.timeout(5):
            while STARTS.get(first) is None:
                await asyncio.sleep(0.01)
        await pool.enqueue_job("slow", second, _job_id=second)  # the only slot is busy
        await wake(pool)
        async with asyncio.timeout(3):  # not the 30 s idle poll
            while STARTS.get(second) is None:
                await asyncio.sleep(0.01)


async def _polls(pool: Any) -> int:
    stats = await pool.info("commandstats")
    return int((stats.get("cmdstat_zrangebyscore") or {}).get("calls", 0))


async def test_a_wake_up_naming_its_job_starts_it_without_polling_the_queue(redis_url: str) -> None:
    async with _running(redis_url, max_jobs=2) as (pool, worker):
        one = f"one-{uuid.uuid4().hex[:6]}"
        before = await _polls(pool)
        await pool.enqueue_job("slow", one, _job_id=one)
        await wake(pool, one)
        async with asyncio.timeout(3):  # not the 30 s idle poll
            while STARTS.get(one) is None:
                await asyncio.sleep(0.01)
        assert await _polls(pool) == before, "claimed directly, the queue was not polled"
        # A burst naming more jobs than free slots: the rest start as slots free up, each once.
        keys = [f"b{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
        for key in keys:
            await pool.enqueue_job("slow", key, _job_id=key)
            await wake(pool, key)
        async with asyncio.timeout(5):
            while sum(STARTS.get(k, 0) for k in keys) < 5 or worker.job_counter:
                await asyncio.sleep(0.02)
        assert [STARTS[k] for k in keys] == [1] * 5
