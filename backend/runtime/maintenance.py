"""The sweeper and the reconciler: what makes runs survive dead workers and a lost Redis.

Sweeper: a ``running``/``waiting`` run whose lease expired lost its worker. It goes back to
``queued`` (``attempt + 1``) and its job is made runnable again; the next worker resumes it from
the persisted steps. A run that was cancelled meanwhile ends ``CANCELLED``; one that lost its
worker :data:`MAX_ATTEMPTS` times ends ``FAILED`` (``worker_lost``) rather than looping forever.

Reconciler: a ``queued`` run with no waiting arq job (Redis flushed or restarted without its data,
an enqueue that failed after commit) is enqueued again. Job id = run id, so this is idempotent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from backend.db import transaction
from backend.events import publish
from backend.logging import log
from backend.models import Run
from backend.resources import Resources
from backend.runs import ledger, states
from backend.runs.dispatch import job_state, requeue_run

MAX_ATTEMPTS = 5
SWEEP_BATCH = 200
RECONCILE_BATCH = 500
RECONCILE_AFTER_S = 5.0
STUCK_IN_PROGRESS_S = 30.0


@dataclass
class SweepResult:
    requeued: list[uuid.UUID] = field(default_factory=list)
    ended: list[uuid.UUID] = field(default_factory=list)


async def sweep(resources: Resources) -> SweepResult:
    result = SweepResult()
    published: list[tuple[uuid.UUID, list[dict[str, Any]]]] = []
    async with transaction(resources.sessions) as session:
        rows = (
            await session.execute(
                select(Run.id, Run.attempt, Run.cancel_requested)
                .where(Run.status.in_(states.EXECUTING), Run.lease_expires_at < func.now())
                .order_by(Run.lease_expires_at)
                .limit(SWEEP_BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            if row.cancel_requested:
                events = await ledger.finish(
                    session, row.id, states.CANCELLED, reason=states.REASON_CANCELLED
                )
                result.ended.append(row.id)
            elif row.attempt + 1 >= MAX_ATTEMPTS:
                events = await ledger.finish(
                    session,
                    row.id,
                    states.FAILED,
                    reason=states.REASON_WORKER_LOST,
                    error=f"The run's worker stopped responding {row.attempt + 1} times",
                )
                result.ended.append(row.id)
            else:
                events = await ledger.append(
                    session,
                    row.id,
                    [ledger.status_event(states.QUEUED, reason=states.REASON_WORKER_LOST)],
                    statuses=states.EXECUTING,
                    values={
                        "status": states.QUEUED,
                        "lease_owner": None,
                        "lease_expires_at": None,
                        "attempt": Run.attempt + 1,
                        "updated_at": func.now(),
                    },
                )
                result.requeued.append(row.id)
            published.append((row.id, events or []))
    for run_id, events in published:
        await publish(resources.redis, run_id, events)
    for run_id in result.requeued:
        try:
            await requeue_run(resources.arq, run_id)
        except Exception as exc:  # the reconciler retries
            log.warning("runs.requeue_failed", run_id=str(run_id), error=type(exc).__name__)
    if rows:
        log.info("runs.swept", requeued=len(result.requeued), ended=len(result.ended))
    return result


async def reconcile(resources: Resources) -> list[uuid.UUID]:
    """Enqueue ``queued`` runs whose job is missing (or stuck on a dead worker's arq marker)."""
    async with resources.sessions() as session:
        rows = (
            await session.execute(
                select(Run.id, (func.now() - Run.updated_at).label("age"))
                .where(
                    Run.status == states.QUEUED,
                    Run.updated_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, RECONCILE_AFTER_S),
                )
                .order_by(Run.created_at)
                .limit(RECONCILE_BATCH)
            )
        ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    present = await job_state(resources.arq, ids, resources.arq.default_queue_name)
    in_progress = await _in_progress(resources, ids)
    fixed: list[uuid.UUID] = []
    for row, (queued, _exists), busy in zip(rows, present, in_progress, strict=True):
        stuck = busy and row.age.total_seconds() > STUCK_IN_PROGRESS_S
        if queued and not stuck:
            continue
        await requeue_run(resources.arq, row.id)
        fixed.append(row.id)
    if fixed:
        log.info("runs.reconciled", enqueued=len(fixed))
    return fixed


async def _in_progress(resources: Resources, ids: list[uuid.UUID]) -> list[bool]:
    async with resources.arq.pipeline(transaction=False) as pipe:
        for run_id in ids:
            pipe.exists(f"arq:in-progress:{run_id}")
        return [bool(v) for v in await pipe.execute()]
