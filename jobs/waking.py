"""Arq's worker, woken by new work instead of polling Redis every few milliseconds.

Arq polls its queue on a fixed delay. A short delay (we need a few milliseconds of
enqueue-to-start latency for chat) makes an idle worker cost hundreds of Redis round trips a
second, and each started job costs four more (WATCH, EXISTS, ZSCORE, MULTI/EXEC). This worker
keeps arq's queue layout, job semantics, cron and retry handling, and changes two things:

- it sleeps until an enqueuer publishes on :data:`backend.wakeup.WAKE_CHANNEL`, one of its
  own jobs ends (a slot frees up), or :data:`IDLE_POLL_S` passes (cron jobs, delayed jobs, and
  enqueuers that do not publish, all still start within that bound); a wake-up that names its
  job is claimed directly, without polling the queue;
- it claims every job a poll found in one round trip, with a Lua script doing what arq's WATCH
  transaction does (skip jobs in progress elsewhere, gone from the queue, or deferred).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.connections import create_pool, log_redis_info
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker

from backend.wakeup import WAKE_CHANNEL

IDLE_POLL_S = 0.1

logger = logging.getLogger("arq.worker")

# KEYS: in-progress key, queue. ARGV: job id, now (ms), in-progress timeout (ms).
# Returns the job's score when this worker may start it, else nil.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
redis.call('PSETEX', KEYS[1], ARGV[3], '1')
return score
"""


class WakingWorker(Worker):
    """:class:`arq.worker.Worker` without the busy poll (burst mode is not supported)."""

    def __init__(self, *args: Any, idle_poll: float = IDLE_POLL_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.burst:
            raise ValueError("WakingWorker does not run in burst mode")
        self.idle_poll = idle_poll
        self._wake = asyncio.Event()
        self._starved = False  # the last poll found more startable jobs than free slots
        self._woken: list[bytes] = []  # jobs named by wake-ups, claimed together
        self._claiming: asyncio.Task[None] | None = None

    async def main(self) -> None:
        # arq's Worker.main, with the fixed-delay poll loop replaced by _serve().
        if self._pool is None:
            self._pool = await create_pool(
                self.redis_settings,
                job_deserializer=self.job_deserializer,
                job_serializer=self.job_serializer,
                default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )
        logger.info("Starting worker for %d functions: %s", len(self.functions), ", ".join(self.functions))
        await log_redis_info(self.pool, logger.info)
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        listener = asyncio.create_task(self._listen())
        try:
            await self._serve()
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener

    async def _serve(self) -> None:
        while True:
            self._wake.clear()  # before the poll: a wake-up during it makes the next poll immediate
            await self._poll_iteration()
            if self.job_counter >= self.max_jobs:
                self._starved = True  # arq skipped the queue (no free slot): poll again when one frees up
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.idle_poll):
                    await self._wake.wait()

    async def _listen(self) -> None:
        """Set the wake event on every message of :data:`WAKE_CHANNEL`; reconnect on errors."""
        while True:
            pubsub = self.pool.pubsub()
            try:
                await pubsub.subscribe(WAKE_CHANNEL)
                self._wake.set()  # anything enqueued while we were not listening
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    job_id = message.get("data")
                    if not job_id:
                        self._wake.set()
                        continue
                    self._woken.append(job_id)
                    if self._claiming is None or self._claiming.done():
                        self._claiming = asyncio.create_task(self._claim_woken())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the idle poll keeps jobs moving meanwhile
                logger.warning("wake channel lost (%s), resubscribing", type(exc).__name__)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _claim_woken(self) -> None:
        """Claim the jobs wake-ups named, in one round trip per batch (a burst of enqueues is one)."""
        await asyncio.sleep(0)  # let the listener gather the burst already received
        while self._woken:
            job_ids, self._woken = self._woken, []
            try:
                await self.start_jobs(job_ids)
            except Exception as exc:  # Redis trouble: the next poll finds them
                logger.warning("claiming woken jobs failed (%s)", type(exc).__name__)
                self._wake.set()
                return

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        if self._starved:
            self._wake.set()  # a slot is free: jobs left waiting may start now

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Claim the polled jobs in one round trip, then start those this worker won.

        A job stays in the queue until it finishes, so a poll also lists the jobs this worker is
        running: those are skipped here rather than claimed (and refused) again on every poll.
        """
        running = {j for j, task in self.tasks.items() if not task.done()}
        candidates = [j for j in (raw.decode() for raw in job_ids) if j not in running]
        free = self.max_jobs - self.job_counter
        self._starved = len(candidates) > max(free, 0)
        if free <= 0 or not candidates:
            return
        ids = candidates[:free]
        now = str(timestamp_ms())
        timeout_ms = str(int(self.in_progress_timeout_s * 1000))
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in ids:
                # EVAL, not EVALSHA: Redis caches the compiled script either way, and EVAL never
                # fails with NOSCRIPT after a Redis restart (nor costs a SCRIPT EXISTS per call).
                pipe.eval(
                    _CLAIM, 2, in_progress_key_prefix + job_id, self.queue_name, job_id, now, timeout_ms
                )
            scores = await pipe.execute()
        for job_id, score in zip(ids, scores, strict=True):
            if score is None:
                logger.debug("job %s already running elsewhere", job_id)
                continue
            await self.sem.acquire()
            self.job_counter += 1
            task = self.loop.create_task(self.run_job(job_id, int(float(score))))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task
