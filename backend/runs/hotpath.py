"""The two writes every run makes, each ONE statement (data-modifying CTEs), for the worker's hot path.

``claim``: ``queued -> running`` under a lease + its status event, returning the thread history the
model needs in the same round trip. ``finish_owned``: the lease
holder ends its run, writes its remaining events and (chat runs) the assistant message. Same
guards and semantics as :mod:`backend.runs.ledger` (which stays the general, composable writer);
measured, the ORM/Core versions cost several milliseconds of CPU per run in SQLAlchemy alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import utcnow, uuid7
from backend.db.raw import RawSQL, build, fetchrow, jsonb
from backend.models import Run
from backend.runs import states
from backend.runs.ledger import NewEvent, done_event, status_event, wire

_CLAIM = RawSQL("""
WITH r AS (
  UPDATE runs SET status = 'running', lease_owner = :owner,
         lease_expires_at = now() + make_interval(secs => CAST(:lease AS double precision)),
         started_at = COALESCE(started_at, now()), next_seq = next_seq + 1, updated_at = now()
   WHERE id = :run_id AND status = 'queued'
  RETURNING *
), ev AS (
  INSERT INTO run_events (run_id, seq, type, kind, data, created_at)
  SELECT r.id, r.next_seq - 1, 'status', NULL,
         jsonb_build_object('status', 'RUNNING', 'attempt', r.attempt + 1), CAST(:at AS timestamptz)
    FROM r
)
SELECT r.*, (
  SELECT COALESCE(jsonb_agg(jsonb_build_array(h.role, h.content) ORDER BY h.seq DESC), '[]'::jsonb)
    FROM (SELECT role, content, seq FROM messages
           WHERE thread_id = r.thread_id AND seq < r.thread_seq
           ORDER BY seq DESC LIMIT :history) AS h
) AS history
  FROM r
""")

_FINISH = RawSQL("""
WITH r AS (
  UPDATE runs SET status = :status, output = :output, error = :error, status_reason = :reason,
         finished_at = now(), lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
         next_seq = next_seq + :n,
         input_tokens = COALESCE(CAST(:input_tokens AS bigint), input_tokens),
         output_tokens = COALESCE(CAST(:output_tokens AS bigint), output_tokens),
         requests = COALESCE(CAST(:requests AS integer), requests),
         tool_calls = COALESCE(CAST(:tool_calls AS integer), tool_calls),
         cost_usd = COALESCE(CAST(:cost_usd AS numeric), cost_usd)
   WHERE id = :run_id AND status IN ('running', 'waiting') AND lease_owner = :owner AND next_seq = :expect
  RETURNING next_seq, thread_id
), ev AS (
  INSERT INTO run_events (run_id, seq, type, kind, data, created_at)
  SELECT :run_id, r.next_seq - :n + x.ord - 1, x.e ->> 'type', x.e ->> 'kind', x.e -> 'data',
         CAST(:at AS timestamptz)
    FROM r, jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS x(e, ord)
), t AS (
  UPDATE threads SET message_count = message_count + 1, updated_at = now()
   WHERE id = (SELECT thread_id FROM r) AND CAST(:content AS text) IS NOT NULL
  RETURNING id, message_count
), m AS (
  INSERT INTO messages (id, thread_id, run_id, role, content, seq, created_at)
  SELECT CAST(:message_id AS uuid), t.id, :run_id, 'assistant', :content, t.message_count,
         CAST(:at AS timestamptz)
    FROM t
)
SELECT next_seq FROM r
""")


_APPEND = RawSQL("""
WITH r AS (
  UPDATE runs SET next_seq = next_seq + :n, updated_at = now(),
         status = COALESCE(CAST(:status AS varchar), status),
         input_tokens = COALESCE(CAST(:input_tokens AS bigint), input_tokens),
         output_tokens = COALESCE(CAST(:output_tokens AS bigint), output_tokens),
         requests = COALESCE(CAST(:requests AS integer), requests),
         tool_calls = COALESCE(CAST(:tool_calls AS integer), tool_calls),
         cost_usd = COALESCE(CAST(:cost_usd AS numeric), cost_usd)
   WHERE id = :run_id AND status IN ('running', 'waiting') AND lease_owner = :owner AND next_seq = :expect
  RETURNING next_seq
), ev AS (
  INSERT INTO run_events (run_id, seq, type, kind, data, created_at)
  SELECT :run_id, r.next_seq - :n + x.ord - 1, x.e ->> 'type', x.e ->> 'kind', x.e -> 'data',
         CAST(:at AS timestamptz)
    FROM r, jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS x(e, ord)
)
SELECT next_seq FROM r
""")


async def append_owned(
    session: AsyncSession | asyncpg.Connection,
    run_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    owner: str,
    expect_seq: int,
    usage: dict[str, Any] | None = None,
    status: str | None = None,
) -> list[dict[str, Any]] | None:
    """The lease holder's checkpoint: events + usage counters (+ running/waiting), one statement."""
    at = utcnow()
    usage = usage or {}
    params = {
        "n": len(events),
        "run_id": run_id,
        "owner": owner,
        "expect": expect_seq,
        "at": at,
        "status": status,
        "events": json.dumps([{"type": e.type, "kind": e.kind, "data": e.data} for e in events], default=str),
        **{k: usage.get(k) for k in _USAGE},
    }
    row = await fetchrow(session, _APPEND, params)
    if row is None:
        return None
    next_seq: int = row["next_seq"]
    first = next_seq - len(events)
    return [wire(first + i, e, at) for i, e in enumerate(events)]


@dataclass
class Claimed:
    run: Run
    events: list[dict[str, Any]]  # the RUNNING status event, to publish
    history: list[tuple[str, str]]  # the thread's (role, content) before this run, newest first


async def claim(
    session: AsyncSession | asyncpg.Connection,
    run_id: uuid.UUID,
    owner: str,
    lease_seconds: float,
    *,
    history: int,
) -> Claimed | None:
    """Take the queued run under a lease, with up to ``history`` earlier thread messages."""
    at = utcnow()
    params = {"owner": owner, "lease": lease_seconds, "run_id": run_id, "at": at, "history": history}
    row = await fetchrow(session, _CLAIM, params)
    if row is None:
        return None
    run = build(Run, row)  # from the row: no ORM loading on the hot path
    assert run is not None
    messages = jsonb(row["history"])
    event = status_event(states.RUNNING, attempt=run.attempt + 1)
    return Claimed(run, [wire(run.next_seq - 1, event, at)], [(r, c) for r, c in messages or []])


async def finish_owned(
    session: AsyncSession | asyncpg.Connection,
    run_id: uuid.UUID,
    status: str,
    *,
    owner: str,
    expect_seq: int,
    usage: dict[str, Any] | None = None,
    output: str | None = None,
    error: str | None = None,
    reason: str | None = None,
    before: Sequence[NewEvent] = (),
    assistant: str | None = None,
) -> list[dict[str, Any]] | None:
    """End the run if we still hold it (else ``None``); ``assistant`` adds the thread's reply message."""
    assert status in states.TERMINAL
    usage = usage or {}
    usage_data = {k: (str(v) if k == "cost_usd" else v) for k, v in usage.items()}
    events = [
        *before,
        status_event(status, reason=reason),
        done_event(status, output=output, error=error, reason=reason, usage=usage_data or None),
    ]
    at = utcnow()
    payload = json.dumps([{"type": e.type, "kind": e.kind, "data": e.data} for e in events], default=str)
    params = {
        "status": status,
        "output": output,
        "error": error,
        "reason": reason,
        "n": len(events),
        "run_id": run_id,
        "owner": owner,
        "expect": expect_seq,
        "events": payload,
        "at": at,
        "content": assistant,
        "message_id": uuid7(),
        **{k: usage.get(k) for k in _USAGE},
    }
    row = await fetchrow(session, _FINISH, params)
    if row is None:
        return None
    next_seq: int = row["next_seq"]
    first = next_seq - len(events)
    return [wire(first + i, e, at) for i, e in enumerate(events)]


_USAGE = ("input_tokens", "output_tokens", "requests", "tool_calls", "cost_usd")
