"""The tick in a real ``agentry worker`` process: a due schedule's run is created, enqueued and executed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from backend.db import utcnow
from backend.models import Run
from backend.resources import Resources
from backend.settings import Settings
from jobs.schedules import schedules_tick
from jobs.worker import CRON_JOBS
from tests.schedules.factories import World, due_schedule

ROOT = Path(__file__).resolve().parents[2]


async def test_tick_job_is_registered_and_starts_due_runs(resources: Resources, w: World) -> None:
    assert "schedules.tick" in {job.name for job in CRON_JOBS}
    await due_schedule(resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1))
    assert await schedules_tick({"resources": resources}) == 1
    assert await schedules_tick({"resources": resources}) == 0


async def test_worker_process_fires_a_schedule_and_runs_it(
    resources: Resources, settings: Settings, w: World, tmp_path: Path
) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=utcnow() + timedelta(seconds=2))
    # Due while the worker starts (well inside the misfire grace): its startup tick or a later one fires it.
    env = {
        **os.environ,
        "AGENTRY_DATABASE_URL": str(settings.database_url),
        "AGENTRY_REDIS_URL": str(settings.redis_url),
        "AGENTRY_DATA_DIR": str(tmp_path / "worker"),
        "AGENTRY_ENV": "test",
        "AGENTRY_LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "agentry", "worker", cwd=ROOT, env=env)
    try:
        run = None
        for _ in range(600):
            async with resources.sessions() as s:
                run = (await s.scalars(select(Run).where(Run.schedule_id == sid))).first()
            if run is not None and run.status in ("succeeded", "failed", "timed_out", "cancelled"):
                break
            await asyncio.sleep(0.1)
        assert run is not None, "the worker's tick did not create the run"
        assert (run.trigger, run.status) == ("schedule", "succeeded"), (run.status, run.error)
        assert run.output is not None and "daily report" in run.output
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
