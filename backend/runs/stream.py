"""``runEvents``: a run's events, replayed from PostgreSQL then tailed live from Redis.

Order of operations is what makes it gap-free and duplicate-free:

1. SUBSCRIBE to ``run:{id}`` and wait for Redis to confirm (pub/sub drops what was published earlier);
2. authorise, and replay persisted events with ``seq > afterSeq`` from PostgreSQL;
3. yield live events whose ``(seq, sub)`` is greater than the last one yielded.

An event both replayed and received live is yielded once; one published between the commit and the
SUBSCRIBE is replayed. A persisted seq that jumps ahead (a lost publish), a Redis reconnect
(``RESYNC``) or a silent channel (every ``IDLE_POLL_S``) triggers another replay from the last seq.
The stream ends after the ``done`` event.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor, authorize, is_allowed
from backend.db import autocommit
from backend.db.raw import RawSQL, build, fetchrow, hot_connection, jsonb
from backend.errors import NotFound
from backend.events import channel, hub_for
from backend.events.hub import RESYNC
from backend.models import Run
from backend.resources import Resources
from backend.runs import ledger
from backend.runs import repository as repo

IDLE_POLL_S = 2.0
REPLAY_LIMIT = 10_000
REAUTHORIZE_S = 30.0


async def _authorized(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> bool:
    """Authorise ``read`` (raises NotFound/Forbidden); returns whether the viewer may see traces."""
    run = (await session.scalars(select(Run).where(Run.id == run_id))).first()
    if run is None:
        raise NotFound("No such run")
    await authorize(session, actor, "read", run)
    return await is_allowed(session, actor, "read_trace", run)


async def _check(resources: Resources, actor: Actor, run_id: uuid.UUID) -> bool:
    async with autocommit(resources.engine) as session:
        return await _authorized(session, actor, run_id)


_OPEN = RawSQL("""
SELECT r.*, (
  SELECT COALESCE(
           jsonb_agg(jsonb_build_array(e.seq, e.type, e.kind, e.data, e.created_at) ORDER BY e.seq), '[]')
    FROM (SELECT seq, type, kind, data, created_at FROM run_events
           WHERE run_id = r.id AND seq > :after_seq ORDER BY seq LIMIT :limit) AS e
) AS replay
  FROM runs AS r WHERE r.id = :run_id
""")


async def _open(
    resources: Resources, actor: Actor, run_id: uuid.UUID, after_seq: int
) -> tuple[bool, list[dict[str, Any]]]:
    """The first check and replay in ONE statement: the run with its events after ``after_seq`` (nothing
    is returned to the caller before the run is authorised)."""
    async with hot_connection(resources.engine) as conn:
        row = await fetchrow(conn, _OPEN, {"run_id": run_id, "after_seq": after_seq, "limit": REPLAY_LIMIT})
    async with autocommit(resources.engine) as session:  # connects only if a policy needs a query
        if row is None:
            raise NotFound("No such run")
        run = build(Run, row)
        assert run is not None
        replay = jsonb(row["replay"])
        await authorize(session, actor, "read", run)
        trace = await is_allowed(session, actor, "read_trace", run)
        return trace, [
            {"seq": seq, "sub": 0, "type": kind_of, "kind": kind, "data": data, "at": at}
            for seq, kind_of, kind, data, at in replay
        ]


def redact(event: dict[str, Any]) -> dict[str, Any]:
    """Steps are traces (tool names, arguments, results): without ``read_trace`` only their kind shows."""
    if event.get("type") != "step":
        return event
    return {**event, "data": {"step": (event.get("data") or {}).get("step")}}


async def _events_after(session: AsyncSession, run_id: uuid.UUID, after_seq: int) -> list[dict[str, Any]]:
    rows = await session.scalars(repo.events_after(run_id, after_seq, limit=10_000))
    return [ledger.row_to_wire(row) for row in rows]


async def _replay(resources: Resources, run_id: uuid.UUID, after_seq: int) -> list[dict[str, Any]]:
    async with autocommit(resources.engine) as session:
        return await _events_after(session, run_id, after_seq)


async def run_events(
    resources: Resources, actor: Actor, run_id: uuid.UUID, after_seq: int = 0
) -> AsyncIterator[dict[str, Any]]:
    # Subscribe first: pub/sub drops what is published before; a refused check closes it again.
    sub = await hub_for(resources.redis).subscribe(channel(run_id))
    loop = asyncio.get_running_loop()
    checked_at = loop.time()
    last: tuple[int, int] = (max(after_seq, 0), 0)
    try:
        trace, pending = await _open(resources, actor, run_id, last[0])
        view = (lambda e: e) if trace else redact
        while True:
            for event in pending:
                key = (event["seq"], event.get("sub", 0))
                if key <= last:
                    continue
                last = key
                yield view(event)
                if event["type"] == "done":
                    return
            pending = []
            if not sub.queue.empty():  # the common case under load: no timer, no task
                event = sub.queue.get_nowait()
            else:
                try:
                    async with asyncio.timeout(IDLE_POLL_S if sub.live else IDLE_POLL_S / 4):
                        event = await sub.queue.get()
                except TimeoutError:
                    event = RESYNC
            if loop.time() - checked_at > REAUTHORIZE_S:
                trace = await _check(resources, actor, run_id)
                view = (lambda e: e) if trace else redact
                checked_at = loop.time()
            if event is RESYNC:
                pending = await _replay(resources, run_id, last[0])
                continue
            seq, sub_no = event.get("seq", 0), event.get("sub", 0)
            if seq > last[0] + (1 if sub_no == 0 else 0):
                # Persisted events we never received live (lost publish): fetch them first.
                pending = await _replay(resources, run_id, last[0])
            pending.append(event)
    finally:
        await sub.close()
