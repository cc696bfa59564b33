"""Child runs (handoffs): created by a parent's tool call and executed inline in the parent's task.

Inline execution means no queue round trip and no pool starvation (a parent waiting for a child
holds no extra worker slot). The parent is ``WAITING`` meanwhile; its lease (and the child's) is
renewed by the same keeper. The child is keyed by ``(parent_run_id, parent_tool_call_id)``, so a
parent resumed after a crash finds its child instead of creating another one: a finished child
returns its result, a queued one runs inline, one running elsewhere is awaited.

Policy checks (handoff targets listed on the agent, cycles, permission intersection) belong to the
handoff tool (integrations domain); this module enforces the depth limit through ``create_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from sqlalchemy import select

from backend.db import transaction
from backend.errors import NotFound
from backend.events import channel, hub_for
from backend.models import Deployment, Run
from backend.runs import states
from backend.runs.service import create_run
from backend.runtime.context import RunDeps

POLL_S = 1.0


async def handoff(
    deps: RunDeps,
    *,
    deployment_id: uuid.UUID,
    input: str,
    tool_call_id: str,
    wait_seconds: float | None = None,
) -> Run:
    """Create (or find) the child run for this tool call, run it to its end, and return its final row.

    Raises NotFound/Forbidden/Conflict/Invalid from ``create_run`` (the model should see them as a
    tool error). The child's usage stays on the child run.
    """
    child = await _find_or_create(deps, deployment_id, input, tool_call_id)
    if child.status in states.TERMINAL:
        return child
    parent = deps.execution
    await parent.set_status(states.WAITING)
    try:
        return await execute_child(deps, child.id, wait_seconds=wait_seconds)
    finally:
        await parent.set_status(states.RUNNING)


async def _find_or_create(deps: RunDeps, deployment_id: uuid.UUID, input: str, tool_call_id: str) -> Run:
    resources = deps.resources
    async with transaction(resources.sessions) as session:
        found = (
            await session.scalars(
                select(Run).where(Run.parent_run_id == deps.run.id, Run.parent_tool_call_id == tool_call_id)
            )
        ).first()
        if found is not None:
            return found
        deployment = await session.get(Deployment, deployment_id)
        if deployment is None:
            raise NotFound("No such deployment")
        created = await create_run(
            session,
            deps.actor,
            deployment=deployment,
            trigger="handoff",
            input=input,
            parent_run=deps.run,
            parent_tool_call_id=tool_call_id,
        )
        assert created is not None
        # Not enqueued on purpose: it runs inline below. Should this worker die first, the reconciler
        # enqueues it (it is queued in PostgreSQL) and the resumed parent waits for it.
        session.info.pop("agentry.runs.outbox", None)
        return created


async def execute_child(deps: RunDeps, child_id: uuid.UUID, *, wait_seconds: float | None = None) -> Run:
    """Run a queued child inline (or wait for it when another worker has it); returns its final row."""
    from backend.runtime.executor import RunExecution

    parent = deps.execution
    child = RunExecution(parent.runtime, child_id)
    task = asyncio.get_running_loop().create_task(child.execute())
    try:
        outcome = await asyncio.shield(task)
    except asyncio.CancelledError:
        # The parent is being cancelled (or its worker stops): the child follows it.
        child.cancel("user" if parent.cancel_reason == "user" else "shutdown")
        with contextlib.suppress(BaseException):
            await task
        raise
    if outcome == "skipped":
        return await wait_for_end(deps, child_id, wait_seconds=wait_seconds)
    return await _load(deps, child_id)


async def wait_for_end(deps: RunDeps, run_id: uuid.UUID, *, wait_seconds: float | None = None) -> Run:
    """Wait until a run is terminal (live ``done`` event, or polling PostgreSQL every second)."""
    sub = await hub_for(deps.resources.redis).subscribe(channel(run_id))
    try:
        async with asyncio.timeout(wait_seconds):
            while True:
                run = await _load(deps, run_id)
                if run.status in states.TERMINAL:
                    return run
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(sub.queue.get(), POLL_S)
                    while event.get("type") != "done" and not sub.queue.empty():
                        event = sub.queue.get_nowait()
    finally:
        await sub.close()


async def _load(deps: RunDeps, run_id: uuid.UUID) -> Run:
    async with deps.resources.sessions() as session:
        return (await session.scalars(select(Run).where(Run.id == run_id))).one()
