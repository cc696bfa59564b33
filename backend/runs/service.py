"""Runs: creating (the one entry point for every trigger), reading, listing and cancelling.

``create_run`` is what chat, the playground, schedules, webhooks, handoffs and the API all call.
It never commits and never enqueues: it adds the run to the session's outbox, and the caller's
:func:`backend.runs.dispatch.unit_of_work` enqueues after commit (or the caller calls
:func:`backend.runs.dispatch.dispatch_after_commit` itself).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.schemas import AgentConfig
from backend.audit import record
from backend.audit.service import (
    append_ctes,
    append_event,
    append_params,
    ensure_head,
    event_fields,
    mark_locked,
)
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow, uuid7
from backend.db.raw import RawSQL, fetchrow
from backend.errors import Conflict, Invalid, NotFound
from backend.models import Agent, AgentVersion, Deployment, Run, Thread
from backend.runs import ledger, states
from backend.runs import repository as repo
from backend.runs.dispatch import outbox

MAX_INPUT_CHARS = 32_000
MAX_DEPTH = 5


def check_input(text: str, field: str = "content") -> str:
    if not text or not text.strip():
        raise Invalid(f"{field}: must not be empty", field=field)
    if len(text) > MAX_INPUT_CHARS:
        raise Invalid(f"{field}: at most {MAX_INPUT_CHARS} characters", field=field)
    return text


def _runnable(config: dict[str, Any]) -> AgentConfig:
    try:
        return AgentConfig.model_validate(config)
    except ValidationError as err:
        raise Conflict(f"The agent's configuration cannot run: {err.errors()[0]['msg']}") from None


async def create_run(
    session: AsyncSession,
    actor: Actor,
    *,
    deployment: Deployment | None = None,
    agent: Agent | None = None,
    trigger: str,
    input: str,
    thread: Thread | None = None,
    thread_seq: int | None = None,
    schedule_id: uuid.UUID | None = None,
    fire_time: datetime | None = None,
    parent_run: Run | None = None,
    parent_tool_call_id: str | None = None,
    version: AgentVersion | None = None,
    user_message: str | None = None,
    deployment_xmin: str | None = None,
) -> Run | None:
    """Insert a ``queued`` run (frozen configuration, first event) and queue it for dispatch.

    ``deployment``: a production run of the deployed version (the actor must be allowed to ``use``
    it). ``agent``: a test run of the agent's current draft (``playground``; the actor needs
    ``playground``), marked ``is_test`` and kept out of usage counts. Returns ``None`` only when a
    run for ``(schedule_id, fire_time)`` exists already (a repeated schedule fire). ``user_message``
    (chat: with ``thread``) counts and stores the thread's user message in the same statement;
    ``deployment_xmin`` (chat) makes that statement write nothing, and raise :class:`StaleDeployment`,
    unless the deployment row is still the version of it that was read (a cached read).
    """
    if (deployment is None) == (agent is None):
        raise ValueError("create_run needs exactly one of deployment or agent")
    if trigger not in states.TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    check_input(input, "input")
    if deployment is not None:
        await authorize(session, actor, "use", deployment)
        if version is None or version.id != deployment.version_id:
            version = await session.get(AgentVersion, deployment.version_id)
        if version is None or deployment.undeployed_at is not None:
            raise Conflict("This agent is not deployed")
        config, agent_id, version_id = version.config, deployment.agent_id, version.id
        org_id = deployment.organization_id
    else:
        assert agent is not None
        await authorize(session, actor, "playground", agent)
        if agent.archived_at is not None:
            raise Conflict("The agent is archived; restore it first")
        config, agent_id, version_id, org_id = agent.config, agent.id, None, agent.organization_id
    parsed = _runnable(config)
    depth = 0
    if parent_run is not None:
        depth = parent_run.depth + 1
        if depth > MAX_DEPTH:
            raise Conflict(f"Handoff depth limit ({MAX_DEPTH}) reached")
    values: dict[str, Any] = {
        "id": uuid7(),
        "organization_id": org_id,
        "agent_id": agent_id,
        "deployment_id": deployment.id if deployment is not None else None,
        "version_id": version_id,
        "thread_id": thread.id if thread is not None else None,
        "thread_seq": thread_seq,
        "user_id": actor.user_id,
        "api_key_id": actor.api_key_id,
        "trigger": trigger,
        "is_test": deployment is None,
        "status": states.QUEUED,
        "input": input,
        "config": config,
        "model": parsed.model,
        "parent_run_id": parent_run.id if parent_run is not None else None,
        "depth": depth,
        "parent_tool_call_id": parent_tool_call_id if parent_run is not None else None,
        "schedule_id": schedule_id,
        "fire_time": fire_time,
        "next_seq": 2,
        "request_id": actor.request_id,
    }
    audit = event_fields(
        actor,
        action="run.create",
        resource_type="run",
        resource_id=str(values["id"]),
        organization_id=org_id,
        summary={"trigger": trigger, "agent_id": str(agent_id), "test": deployment is None},
    )
    created: Run | None
    if user_message is not None and thread is not None:
        created = await _insert_chat_run(session, values, user_message, audit, deployment_xmin)
        if created is None:
            raise NotFound("No such thread")
    else:
        created = await _insert_run(session, values, schedule_id, fire_time)
        if created is None:
            return None
        await append_event(session, audit)
    outbox(session).enqueue.append(created.id)
    return created


async def _insert_run(
    session: AsyncSession, values: dict[str, Any], schedule_id: uuid.UUID | None, fire_time: datetime | None
) -> Run | None:
    stmt = insert(Run).values(**values)
    if schedule_id is not None and fire_time is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[Run.schedule_id, Run.fire_time])
    created = (await session.execute(stmt.returning(Run).execution_options(populate_existing=True))).scalar()
    if created is not None:
        # Not published: nobody can be subscribed to a run whose id was not returned yet.
        await ledger.insert_events(session, created.id, 1, [ledger.status_event(states.QUEUED)])
    return created


class StaleDeployment(Exception):
    """The deployment changed since the cached read the run was built from: read again, retry."""


TITLE_CHARS = 80
# ``xmin`` changes with every update of a row: equal means the deployment is the one that was read.
_SAME_DEPLOYMENT = (
    "EXISTS (SELECT 1 FROM deployments WHERE id = :deployment_id AND xmin::text = :deployment_xmin)"
)
_CHAT_INSERT = RawSQL(f"""
WITH t AS (
  UPDATE threads SET message_count = message_count + 1, updated_at = now(),
         title = COALESCE(NULLIF(title, ''), :title)
   WHERE id = :thread_id AND deleted_at IS NULL
     AND EXISTS (SELECT 1 FROM audit_chain_heads WHERE chain = :audit_chain)
     AND (CAST(:deployment_xmin AS text) IS NULL OR {_SAME_DEPLOYMENT})
  RETURNING message_count
), r AS (
  INSERT INTO runs (id, organization_id, agent_id, deployment_id, version_id, thread_id, thread_seq, user_id,
                    api_key_id, trigger, is_test, status, input, config, model, parent_run_id, depth,
                    parent_tool_call_id, schedule_id, fire_time, next_seq, request_id, created_at, updated_at)
  SELECT :id, :organization_id, :agent_id, :deployment_id, :version_id, :thread_id, t.message_count, :user_id,
         :api_key_id, :trigger, :is_test, :status, :input, CAST(:config AS jsonb), :model, :parent_run_id,
         :depth, :parent_tool_call_id, :schedule_id, :fire_time, :next_seq, :request_id, :at, :at
    FROM t
  RETURNING id, thread_seq
), e AS (
  INSERT INTO run_events (run_id, seq, type, kind, data, created_at)
  SELECT r.id, 1, 'status', NULL, CAST(:event AS jsonb), :at FROM r
), m AS (
  INSERT INTO messages (id, thread_id, run_id, role, content, seq, created_at)
  SELECT :message_id, :thread_id, r.id, 'user', :content, r.thread_seq, :at FROM r
), {append_ctes("EXISTS (SELECT 1 FROM r)")}
SELECT (SELECT thread_seq FROM r) AS thread_seq,
       EXISTS (SELECT 1 FROM audit_chain_heads WHERE chain = :audit_chain) AS chained,
       CAST(:deployment_xmin AS text) IS NOT NULL AND NOT {_SAME_DEPLOYMENT} AS stale
""")


async def _insert_chat_run(
    session: AsyncSession,
    values: dict[str, Any],
    content: str,
    audit: dict[str, Any],
    deployment_xmin: str | None = None,
) -> Run | None:
    """The chat hot path in ONE statement: the thread's message count and title, the run, its first
    event, the user's message and the audit event. ``None`` if the thread is gone.

    One statement is atomic without a transaction, which lets ``sendMessage`` skip BEGIN and
    COMMIT. It writes nothing unless the organisation's audit chain head exists (created here on
    the organisation's first audit event, then the statement runs again): never a run unaudited.
    """
    at = utcnow()
    params = {
        **{k: v for k, v in values.items() if k != "thread_seq"},
        "config": json.dumps(values["config"]),
        "at": at,
        "event": json.dumps(ledger.status_event(states.QUEUED).data),
        "message_id": uuid7(),
        "content": content,
        "title": content.strip()[:TITLE_CHARS],
        "deployment_xmin": deployment_xmin,
        **append_params(audit),
    }
    row = await fetchrow(session, _CHAT_INSERT, params)
    assert row is not None
    if not row["chained"]:
        await ensure_head(session, audit["chain"])
        row = await fetchrow(session, _CHAT_INSERT, params)
        assert row is not None
    thread_seq = row["thread_seq"]
    if thread_seq is None:
        if row["stale"]:
            raise StaleDeployment(str(values["deployment_id"]))
        return None
    mark_locked(session, audit["chain"])
    values = {**values, "thread_seq": thread_seq}
    return Run(
        **values,
        created_at=at,
        updated_at=at,
        attempt=0,
        cancel_requested=False,
        input_tokens=0,
        output_tokens=0,
        requests=0,
        tool_calls=0,
        cost_usd=Decimal(0),
        started_at=None,
        finished_at=None,
        output=None,
        error=None,
        status_reason=None,
        lease_owner=None,
        lease_expires_at=None,
    )


async def get_run(session: AsyncSession, actor: Actor, run_id: uuid.UUID, action: str = "read") -> Run:
    found = (await session.scalars(repo.run(run_id))).first()
    if found is None:
        raise NotFound("No such run")
    await authorize(session, actor, action, found)
    return found


async def cancel_run(session: AsyncSession, actor: Actor, *, run_id: uuid.UUID) -> Run:
    """A queued run is cancelled at once (it will never start); a running one is flagged and its
    worker stops it (signal over Redis, or its next heartbeat, within about a second)."""
    run = await get_run(session, actor, run_id, "cancel")
    box = outbox(session)
    events = await ledger.finish(
        session, run.id, states.CANCELLED, reason=states.REASON_CANCELLED, statuses=(states.QUEUED,)
    )
    if events is not None:
        box.publish(run.id, events)
    else:
        flagged = await session.execute(
            update(Run)
            .where(Run.id == run.id, Run.status.in_(states.EXECUTING))
            .values(cancel_requested=True, updated_at=func.now())
            .returning(Run.id)
        )
        if flagged.scalar_one_or_none() is not None:
            box.cancels.append(run.id)
        else:
            current = await session.scalar(select(Run.status).where(Run.id == run.id))
            if current != states.CANCELLED:
                raise Conflict(f"The run already ended ({states.public(current or '')})")
    await record(
        session,
        actor,
        action="run.cancel",
        resource_type="run",
        resource_id=str(run.id),
        organization_id=run.organization_id,
    )
    refreshed = (await session.scalars(repo.run(run.id).execution_options(populate_existing=True))).one()
    return refreshed


@dataclass(frozen=True)
class RunFilter:
    organization_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    status: str | None = None
    trigger: str | None = None
    user_id: uuid.UUID | None = None
    include_tests: bool = True


async def list_runs(
    session: AsyncSession,
    actor: Actor,
    *,
    filters: RunFilter,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[Run], bool]:
    """Runs the actor may read (own runs; all runs of agents it manages), newest first."""
    stmt = await authorized_select(session, actor, "read", Run)
    if filters.organization_id is not None:
        stmt = stmt.where(Run.organization_id == filters.organization_id)
    if filters.agent_id is not None:
        stmt = stmt.where(Run.agent_id == filters.agent_id)
    if filters.status is not None:
        stmt = stmt.where(Run.status == filters.status)
    if filters.trigger is not None:
        stmt = stmt.where(Run.trigger == filters.trigger)
    if filters.user_id is not None:
        stmt = stmt.where(Run.user_id == filters.user_id)
    if not filters.include_tests:
        stmt = stmt.where(Run.is_test.is_(False))
    stmt = repo.keyset(stmt, Run.created_at, Run.id, after).limit(first + 1)
    rows = list((await session.scalars(stmt)).all())
    return rows[:first], len(rows) > first
