"""``schedules.tick``: every second, fire due schedules (see backend.schedules.tick).

Arq runs a cron job once per second across all workers (its job id is unique per second); correctness does not
depend on that: concurrent ticks are safe by construction (SKIP LOCKED + UNIQUE(schedule_id, fire_time)).
When nothing is due a tick is one indexed query on the partial index ``ix_schedules_due``.
"""

from __future__ import annotations

from typing import Any

from arq.cron import CronJob, cron

from backend.resources import Resources
from backend.runs.dispatch import unit_of_work
from backend.schedules.tick import BATCH, tick

MAX_BATCHES = 20  # per tick; the next second's tick continues a larger backlog


async def schedules_tick(ctx: dict[str, Any]) -> int:
    """Returns the number of runs started. Each batch of due schedules is one transaction."""
    resources: Resources = ctx["resources"]
    started = 0
    for _ in range(MAX_BATCHES):
        async with unit_of_work(resources) as session:  # commit, then enqueue the new runs
            result = await tick(session, limit=BATCH)
        started += len(result.run_ids)
        if result.claimed < BATCH:
            break
    return started


CRON_JOBS: list[CronJob] = [
    cron(
        schedules_tick,
        name="schedules.tick",
        second=set(range(60)),
        microsecond=0,
        run_at_startup=True,
        timeout=30,
        keep_result=0,
    )
]
