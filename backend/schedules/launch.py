"""Where schedules and webhooks hand runs to the runs domain (the one seam; nothing else here creates runs).

``backend.runs.service.create_run`` inserts the queued run (``ON CONFLICT (schedule_id, fire_time) DO
NOTHING`` for schedule fires), writes its first event and the ``run.create`` audit event, and puts the run in
the session's outbox; the caller's ``backend.runs.dispatch.unit_of_work`` enqueues it after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor
from backend.models import Deployment
from backend.runs.service import create_run


@dataclass(frozen=True)
class RunRequest:
    deployment: Deployment
    actor: Actor  # ``acting_as(creator)``: the run uses the schedule's or trigger's creator's permissions
    trigger: str  # schedule | webhook
    input: str
    schedule_id: uuid.UUID | None = None
    fire_time: datetime | None = None


async def start_run(session: AsyncSession, req: RunRequest) -> uuid.UUID | None:
    """The new run's id; None when the (schedule, fire time) run exists already."""
    run = await create_run(
        session,
        req.actor,
        deployment=req.deployment,
        trigger=req.trigger,
        input=req.input,
        schedule_id=req.schedule_id,
        fire_time=req.fire_time,
    )
    return run.id if run is not None else None
