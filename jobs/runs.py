"""Runs jobs: ``runs.execute`` (one run, job id = run id), ``runs.sweep`` and ``runs.reconcile``.

Arq's own semantics are made harmless: a job re-delivered after arq cancelled it (shutdown) or
after its in-progress marker expired finds the run claimed or finished and returns ``skipped``
(the claim is a guarded UPDATE); ``max_tries`` is high because the run's own ``attempt`` counter,
not arq's, bounds how often a run is resumed; the job timeout is above the longest run time limit.
"""

from __future__ import annotations

import uuid
from typing import Any

from arq.cron import CronJob, cron
from arq.worker import func

from backend.resources import Resources
from backend.runs.dispatch import RUN_JOB
from backend.runtime.executor import RunExecution
from backend.runtime.leases import runtime_for
from backend.runtime.maintenance import reconcile, sweep

JOB_TIMEOUT_S = 3_700  # > Limits.max_run_seconds (3,600)


async def runs_execute(ctx: dict[str, Any], run_id: str) -> str:
    resources: Resources = ctx["resources"]
    return await RunExecution(runtime_for(resources), uuid.UUID(run_id)).execute()


async def runs_sweep(ctx: dict[str, Any]) -> int:
    result = await sweep(ctx["resources"])
    return len(result.requeued) + len(result.ended)


async def runs_reconcile(ctx: dict[str, Any]) -> int:
    return len(await reconcile(ctx["resources"]))


# keep_result=0: a run's outcome lives in PostgreSQL; Arq's copy would cost a pickle and a write per run.
RUN_FUNCTIONS: list[Any] = [
    func(runs_execute, name=RUN_JOB, max_tries=10_000, timeout=JOB_TIMEOUT_S, keep_result=0)
]
RUN_CRON_JOBS: list[CronJob] = [
    cron(runs_sweep, name="runs.sweep", second=set(range(0, 60, 2)), timeout=60, max_tries=1),
    cron(runs_reconcile, name="runs.reconcile", second=set(range(1, 60, 5)), timeout=60, max_tries=1),
]
