"""Fault test: two OS processes tick the same due schedules concurrently -> exactly one run per fire time."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

from arq.jobs import Job, JobStatus
from sqlalchemy import func, select

from backend.db import utcnow
from backend.models import Run
from backend.resources import Resources
from backend.settings import Settings
from tests.schedules.factories import World, due_schedule

ROOT = Path(__file__).resolve().parents[2]
SCHEDULES = 150


async def _spawn(settings: Settings) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "AGENTRY_DATABASE_URL": str(settings.database_url),
        "AGENTRY_REDIS_URL": str(settings.redis_url),
        "AGENTRY_ENV": "test",
        "AGENTRY_LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.schedules.tick_process",
        "4",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def test_two_tick_processes_fire_each_due_schedule_exactly_once(
    resources: Resources, settings: Settings, w: World
) -> None:
    # Yearly cron, made due 5 s ago: exactly one fire time is due for each schedule during the test.
    due = utcnow() - timedelta(seconds=5)
    ids = {
        await due_schedule(resources.sessions, w, next_fire_at=due, cron="0 0 1 1 *")
        for _ in range(SCHEDULES)
    }
    procs = [await _spawn(settings), await _spawn(settings)]
    for p in procs:
        assert p.stdout is not None and (await asyncio.wait_for(p.stdout.readline(), 60)).strip() == b"ready"
    for p in procs:  # release both at once
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        await p.stdin.drain()
    outputs = [json.loads((await asyncio.wait_for(p.communicate(), 120))[0].splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)

    per_process = [len(o["runs"]) for o in outputs]
    reported = [r for o in outputs for r in o["runs"]]
    assert len(reported) == len(set(reported)) == SCHEDULES
    print("runs per process:", per_process, "ticks:", [o["ticks"] for o in outputs])
    assert all(n > 0 for n in per_process), f"one process did all the work: {per_process}"
    async with resources.sessions() as s:
        rows = (
            await s.execute(
                select(Run.schedule_id, Run.fire_time, func.count()).group_by(Run.schedule_id, Run.fire_time)
            )
        ).all()
    assert {r[0] for r in rows} == ids
    assert all(count == 1 for _, _, count in rows) and len(rows) == SCHEDULES
    for run_id in reported[:10]:  # committed, then enqueued under job id = run id
        assert await Job(run_id, resources.arq).status() == JobStatus.queued
