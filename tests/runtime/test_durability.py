"""Sweeper and reconciler, in-process: expired leases resume from persisted steps; lost jobs come back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update

from backend.db import transaction
from backend.models import Run
from backend.resources import Resources
from backend.runs import dispatch, ledger, states
from backend.runtime.maintenance import MAX_ATTEMPTS, reconcile, sweep
from tests.runtime.harness import World, events_of, running_worker, wait_run
from tests.runtime.helpers import new_thread, send


async def _steal(resources: Resources, run_id: Any, owner: str = "dead-worker") -> None:
    """Claim the run for a worker that then dies, with an already expired lease."""
    async with transaction(resources.sessions) as s:
        claimed = await ledger.claim(s, run_id, owner, 0.0)
        assert claimed is not None
        await s.execute(update(Run).where(Run.id == run_id).values(lease_expires_at=func.now()))


async def test_expired_lease_is_requeued_and_resumed(resources: Resources, world: World) -> None:
    thread = await new_thread(resources, world)
    run = await send(resources, world, thread, "/remember resumable")
    await _steal(resources, run.id)
    result = await sweep(resources)
    assert result.requeued == [run.id]
    async with running_worker(resources):
        done = await wait_run(resources, run.id)
    assert done.status == states.SUCCEEDED and done.attempt == 1
    assert done.output == "remembered: resumable"
    events = await events_of(resources, run.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    statuses = [e.data["status"] for e in events if e.type == "status"]
    assert statuses == ["QUEUED", "RUNNING", "QUEUED", "RUNNING", "SUCCEEDED"]


async def test_resume_after_tool_result_does_not_repeat_the_tool(resources: Resources, world: World) -> None:
    """Crash after the tool result was persisted: the resumed run re-sends the next request only."""
    thread = await new_thread(resources, world)
    async with running_worker(resources):
        first = await wait_run(resources, (await send(resources, world, thread, "/remember once")).id)
    # Replay the finished run's persisted steps as if the worker had died right after the tool result.
    async with transaction(resources.sessions) as s:
        from sqlalchemy import delete

        from backend.models import MemoryItem, RunEvent

        events = await events_of(resources, first.id)
        cut = next(e.seq for e in events if e.kind == "tool_result")
        await s.execute(delete(RunEvent).where(RunEvent.run_id == first.id, RunEvent.seq > cut))
        await s.execute(
            update(Run)
            .where(Run.id == first.id)
            .values(
                status=states.RUNNING,
                lease_owner="dead",
                lease_expires_at=func.now(),
                next_seq=cut + 1,
                output=None,
                finished_at=None,
                requests=1,
                tool_calls=1,
            )
        )
        memories_before = await s.scalar(func.count(MemoryItem.id).select())
    await sweep(resources)
    async with running_worker(resources):
        done = await wait_run(resources, first.id)
    assert done.status == states.SUCCEEDED and done.output == "remembered: once"
    async with resources.sessions() as s:
        assert await s.scalar(func.count(MemoryItem.id).select()) == memories_before  # tool not re-run
    kinds = [e.kind for e in await events_of(resources, first.id) if e.type == "step"]
    assert (
        kinds.count("tool_result") == 1
        and kinds.count("tool_call") == 1
        and kinds.count("model_response") == 2
    )


async def test_repeatedly_lost_run_fails_and_cancelled_run_ends(resources: Resources, world: World) -> None:
    thread = await new_thread(resources, world)
    lost = await send(resources, world, thread, "lost")
    await _steal(resources, lost.id)
    async with transaction(resources.sessions) as s:
        await s.execute(update(Run).where(Run.id == lost.id).values(attempt=MAX_ATTEMPTS - 1))
    cancelled = await send(resources, world, thread, "cancel me")
    await _steal(resources, cancelled.id)
    async with transaction(resources.sessions) as s:
        await s.execute(update(Run).where(Run.id == cancelled.id).values(cancel_requested=True))
    result = await sweep(resources)
    assert sorted(result.ended) == sorted([lost.id, cancelled.id])
    assert (await wait_run(resources, lost.id)).status_reason == states.REASON_WORKER_LOST
    assert (await wait_run(resources, cancelled.id)).status == states.CANCELLED


async def test_reconciler_enqueues_queued_runs_without_a_job(resources: Resources, world: World) -> None:
    thread = await new_thread(resources, world)
    async with transaction(resources.sessions) as s:  # committed but never enqueued
        from backend.runs.threads import send_message

        run = await send_message(s, world.actor("member"), thread_id=thread.id, content="orphan")
        s.info.pop("agentry.runs.outbox", None)
    await resources.redis.flushdb()
    async with transaction(resources.sessions) as s:
        await s.execute(
            update(Run)
            .where(Run.id == run.id)
            .values(updated_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    assert await reconcile(resources) == [run.id]
    assert await reconcile(resources) == []  # the job is waiting now: nothing to do
    async with running_worker(resources):
        done = await wait_run(resources, run.id)
    assert done.status == states.SUCCEEDED
    assert dispatch.RUN_JOB == "runs.execute"
