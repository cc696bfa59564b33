"""The only writer of a run's status and events.

Every change is ONE guarded ``UPDATE runs ... WHERE id = :id AND status IN (...) [AND lease_owner
= :me]`` that also reserves sequence numbers (``next_seq = next_seq + n``), followed by the INSERT of
the events with those numbers, in the caller's transaction. A lost race (the run moved on, or the
lease went to another worker) updates zero rows: nothing is written and the caller gets ``None``.
The row lock taken by the UPDATE serialises concurrent writers of one run, so sequence numbers are
gap-free per successful transaction and never reused.

Events are returned in wire form; publish them only after the transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import utcnow
from backend.models import Run, RunEvent
from backend.runs import states


@dataclass(frozen=True)
class NewEvent:
    type: str  # status | step | message | done
    kind: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def status_event(status: str, **data: Any) -> NewEvent:
    return NewEvent("status", None, {"status": states.public(status), **data})


def done_event(
    status: str,
    *,
    output: str | None,
    error: str | None,
    reason: str | None,
    usage: dict[str, Any] | None = None,
) -> NewEvent:
    data: dict[str, Any] = {
        "status": states.public(status),
        "output": output,
        "error": error,
        "reason": reason,
    }
    if usage is not None:
        data["usage"] = usage
    return NewEvent("done", None, data)


def wire(seq: int, event: NewEvent, at: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "sub": 0,
        "type": event.type,
        "kind": event.kind,
        "data": event.data,
        "at": at.isoformat(),
    }


def row_to_wire(row: RunEvent) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "sub": 0,
        "type": row.type,
        "kind": row.kind,
        "data": row.data,
        "at": row.created_at.isoformat(),
    }


async def append(
    session: AsyncSession,
    run_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    statuses: Sequence[str] | None = None,
    owner: str | None = None,
    values: dict[str, Any] | None = None,
    expect_seq: int | None = None,
) -> list[dict[str, Any]] | None:
    """Applies ``values`` to the run and appends ``events``, if the guard holds; else ``None``.

    ``expect_seq`` (the lease holder's own count) makes a retried write idempotent: after an
    ambiguous commit, the retry finds ``next_seq`` already advanced and changes nothing.
    """
    stmt = update(Run).where(Run.id == run_id)
    if statuses is not None:
        stmt = stmt.where(Run.status.in_(statuses))
    if owner is not None:
        stmt = stmt.where(Run.lease_owner == owner)
    if expect_seq is not None:
        stmt = stmt.where(Run.next_seq == expect_seq)
    stmt = stmt.values(next_seq=Run.next_seq + len(events), **(values or {})).returning(Run.next_seq)
    next_seq = (await session.execute(stmt)).scalar_one_or_none()
    if next_seq is None:
        return None
    return await insert_events(session, run_id, next_seq - len(events), events)


async def insert_events(
    session: AsyncSession, run_id: uuid.UUID, first_seq: int, events: Sequence[NewEvent]
) -> list[dict[str, Any]]:
    """INSERTs events numbered from ``first_seq`` (already reserved on the run row)."""
    if not events:
        return []
    at = utcnow()
    rows = [
        {
            "run_id": run_id,
            "seq": first_seq + i,
            "type": e.type,
            "kind": e.kind,
            "data": e.data,
            "created_at": at,
        }
        for i, e in enumerate(events)
    ]
    await session.execute(insert(RunEvent), rows)
    return [wire(first_seq + i, e, at) for i, e in enumerate(events)]


async def claim(
    session: AsyncSession, run_id: uuid.UUID, owner: str, lease_seconds: float
) -> tuple[Run, list[dict[str, Any]]] | None:
    """``queued -> running`` under a lease; ``None`` when another worker has it or it is not queued."""
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.status == states.QUEUED)
        .values(
            status=states.RUNNING,
            lease_owner=owner,
            lease_expires_at=func.now() + _seconds(lease_seconds),
            started_at=func.coalesce(Run.started_at, func.now()),
            next_seq=Run.next_seq + 1,
            updated_at=func.now(),
        )
        .returning(Run)
        .execution_options(populate_existing=True)
    )
    run = (await session.execute(stmt)).scalar_one_or_none()
    if run is None:
        return None
    events = await insert_events(
        session, run_id, run.next_seq - 1, [status_event(states.RUNNING, attempt=run.attempt + 1)]
    )
    return run, events


async def finish(
    session: AsyncSession,
    run_id: uuid.UUID,
    status: str,
    *,
    output: str | None = None,
    error: str | None = None,
    reason: str | None = None,
    owner: str | None = None,
    statuses: Sequence[str] = states.EXECUTING,
    values: dict[str, Any] | None = None,
    before: Sequence[NewEvent] = (),
    usage: dict[str, Any] | None = None,
    expect_seq: int | None = None,
) -> list[dict[str, Any]] | None:
    """Moves a run to a terminal status, writing ``before`` events, then ``status`` and ``done``."""
    assert status in states.TERMINAL
    events = [
        *before,
        status_event(status, reason=reason),
        done_event(status, output=output, error=error, reason=reason, usage=usage),
    ]
    return await append(
        session,
        run_id,
        events,
        statuses=statuses,
        owner=owner,
        expect_seq=expect_seq,
        values={
            "status": status,
            "output": output,
            "error": error,
            "status_reason": reason,
            "finished_at": func.now(),
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": func.now(),
            **(values or {}),
        },
    )


async def release(
    session: AsyncSession, run_id: uuid.UUID, owner: str, *, reason: str
) -> list[dict[str, Any]] | None:
    """``running -> queued`` by the lease holder itself (worker shutting down): resumable at once."""
    return await append(
        session,
        run_id,
        [status_event(states.QUEUED, reason=reason)],
        statuses=states.EXECUTING,
        owner=owner,
        values={
            "status": states.QUEUED,
            "lease_owner": None,
            "lease_expires_at": None,
            "attempt": Run.attempt + 1,
            "updated_at": func.now(),
        },
    )


def _seconds(value: float) -> Any:
    return func.make_interval(0, 0, 0, 0, 0, 0, value)
