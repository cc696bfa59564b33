"""After-commit side effects of the runs domain: enqueue jobs, publish events, signal cancels.

Services never talk to Redis inside a transaction. They put what must happen after commit into the
session's :class:`Outbox`; :func:`unit_of_work` commits and then flushes it. A rolled-back
transaction drops its outbox, so no job or event exists for a change that never happened. If the
process dies between commit and flush, nothing is lost: the reconciler enqueues ``queued`` runs
that have no job, and subscribers replay events from PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from arq.constants import expires_extra_ms
from arq.jobs import serialize_job
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import autocommit, transaction
from backend.events import publish
from backend.events.codec import CANCEL_CHANNEL, encode
from backend.logging import log
from backend.resources import Resources
from backend.wakeup import wake

RUN_JOB = "runs.execute"
_OUTBOX = "agentry.runs.outbox"

# arq's key layout (arq.constants), used to repair a job after its worker died.
_JOB_KEY = "arq:job:"
_IN_PROGRESS_KEY = "arq:in-progress:"
_RESULT_KEY = "arq:result:"
_RETRY_KEY = "arq:retry:"


@dataclass
class Outbox:
    enqueue: list[uuid.UUID] = field(default_factory=list)
    events: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)
    cancels: list[uuid.UUID] = field(default_factory=list)

    def publish(self, run_id: uuid.UUID, events: Iterable[dict[str, Any]] | None) -> None:
        if events:
            self.events.setdefault(run_id, []).extend(events)

    async def flush(self, resources: Resources) -> None:
        for run_id, events in self.events.items():
            await publish(resources.redis, run_id, events)
        if self.enqueue:
            await dispatch_after_commit(resources, self.enqueue)
        for run_id in self.cancels:
            try:
                await resources.redis.publish(CANCEL_CHANNEL, encode({"run_id": str(run_id)}))
            except Exception as exc:  # the worker's heartbeat sees cancel_requested within a second
                log.warning("runs.cancel_signal_failed", run_id=str(run_id), error=type(exc).__name__)


def outbox(session: AsyncSession) -> Outbox:
    """The after-commit outbox of this session (created on first use)."""
    box: Outbox | None = session.info.get(_OUTBOX)
    if box is None:
        box = session.info[_OUTBOX] = Outbox()
    return box


@asynccontextmanager
async def unit_of_work(resources: Resources, *, one_write: bool = False) -> AsyncIterator[AsyncSession]:
    """``transaction()`` plus the outbox: commit, then enqueue/publish what the services queued.

    ``one_write``: the service's only write is ONE statement (atomic on its own), so no
    transaction is opened (:func:`backend.db.autocommit`), saving the BEGIN and COMMIT round trips.
    """
    opened = autocommit(resources.engine) if one_write else transaction(resources.sessions)
    async with opened as session:
        yield session
        box = session.info.pop(_OUTBOX, None)
    if box is not None:
        await box.flush(resources)


async def dispatch_after_commit(resources: Resources, run_ids: Iterable[uuid.UUID]) -> None:
    """Enqueue ``runs.execute`` for committed runs. Never raises: a run left without a job is
    picked up by the reconciler (it is ``queued`` in PostgreSQL)."""
    for run_id in run_ids:
        try:
            await enqueue_run(resources.arq, run_id)
        except Exception as exc:
            log.warning("runs.enqueue_failed", run_id=str(run_id), error=type(exc).__name__)


async def enqueue_run(arq: ArqRedis, run_id: uuid.UUID) -> None:
    """Idempotent: job id = run id, so a second enqueue of a waiting job is a no-op.

    The same keys as ``ArqRedis.enqueue_job`` in ONE round trip (MULTI/EXEC, no WATCH): a new run
    has no job yet, and a duplicate entry is harmless (arq skips an id already in progress, and the
    run's claim is a guarded UPDATE).
    """
    job = str(run_id)
    now = _now_ms()
    payload = serialize_job(RUN_JOB, (job,), {}, None, now)
    async with arq.pipeline(transaction=True) as pipe:
        pipe.set(_JOB_KEY + job, payload, px=expires_extra_ms, nx=True)
        pipe.zadd(arq.default_queue_name, {job: now}, nx=True)
        wake(pipe, job)
        await pipe.execute()


async def requeue_run(arq: ArqRedis, run_id: uuid.UUID) -> None:
    """Make the run's job runnable again after its worker died (sweeper, reconciler).

    A killed worker leaves arq's in-progress marker (which would block the job for arq's whole job
    timeout) and possibly a stale result key (which makes ``enqueue_job`` refuse the id). Both are
    removed, then the job is enqueued, or put back on the queue if its definition still exists.
    Running it twice is harmless: the claim is a guarded UPDATE.
    """
    job = str(run_id)
    await arq.delete(_IN_PROGRESS_KEY + job, _RESULT_KEY + job, _RETRY_KEY + job)
    enqueued = await arq.enqueue_job(RUN_JOB, job, _job_id=job)
    if enqueued is None:
        await arq.zadd(arq.default_queue_name, {job: _now_ms()}, nx=True)
    await wake(arq, job)


async def job_state(redis: Redis, run_ids: list[uuid.UUID], queue: str) -> list[tuple[bool, bool]]:
    """For each run: (job waiting or running in arq, job definition exists)."""
    async with redis.pipeline(transaction=False) as pipe:
        for run_id in run_ids:
            pipe.zscore(queue, str(run_id))
            pipe.exists(_JOB_KEY + str(run_id))
        raw = await pipe.execute()
    return [(raw[i] is not None, bool(raw[i + 1])) for i in range(0, len(raw), 2)]


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
