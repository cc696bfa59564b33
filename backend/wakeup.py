"""The wake-up signal between whoever enqueues an Arq job and the idle workers.

Workers (:class:`jobs.waking.WakingWorker`) sleep instead of polling Redis every few
milliseconds; an enqueuer that wants its job started at once publishes here, in the same
MULTI as the job when it can. A lost wake-up only costs latency: workers still poll every
:data:`jobs.waking.IDLE_POLL_S`.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

WAKE_CHANNEL = "agentry:jobs:wake"


def wake(target: Pipeline | Redis, job_id: str = "") -> Any:
    """Queue the wake-up on a pipeline (returns it) or send it (returns an awaitable).

    ``job_id``: the job just enqueued, which a woken worker claims at once instead of polling the
    queue for it (one Redis round trip fewer per job); without it, workers poll."""
    return target.publish(WAKE_CHANNEL, job_id.encode())
