"""Fault tests with real processes: SIGKILLed worker, Redis restarted and flushed, PostgreSQL restarted."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.embedded import ensure_postgres, ensure_redis, stop_postgres, stop_redis
from backend.models import Run
from backend.resources import Resources
from backend.runs import states
from tests.conftest import Servers
from tests.runtime.harness import World, events_of, use_fake_model, wait_run
from tests.runtime.helpers import new_thread, send
from tests.runtime.processes import kill, workers

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_REDIS_URL")),
    reason="restarts the embedded PostgreSQL/Redis of the test session",
)


async def _until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_sigkilled_worker_run_completes_once_elsewhere(
    resources: Resources, world: World, tmp_path: Path, fake_openai: tuple[Any, str]
) -> None:
    fake, url = fake_openai
    await use_fake_model(resources, world, url)
    fake.script(("ok", None), ("hang", 8), ("ok", None))  # tool call; the 2nd request hangs until the kill
    with workers(resources.settings, 2, tmp_path) as procs:
        thread = await new_thread(resources, world)
        run = await send(resources, world, thread, "remember-and-answer")

        async def hanging_owner() -> str | None:
            async with resources.sessions() as s:
                owner = await s.scalar(select(Run.lease_owner).where(Run.id == run.id))
            return owner if len(fake.requests) >= 2 and owner else None

        owner = await _until(hanging_owner, 40, "the run to reach its hanging model request")
        victim = next(p for p in procs if f":{p.pid}:" in owner)
        kill(victim)
        done = await wait_run(resources, run.id, timeout=40)
    assert done.status == states.SUCCEEDED, done.error
    assert done.output == "done: no matching memories" and done.attempt == 1
    events = await events_of(resources, run.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [e.kind for e in events if e.type == "step"]
    assert (kinds.count("tool_call"), kinds.count("tool_result"), kinds.count("model_response")) == (1, 1, 2)
    assert [e.data["status"] for e in events if e.type == "status"] == [
        "QUEUED",
        "RUNNING",
        "QUEUED",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert [e.type for e in events].count("done") == 1


async def test_redis_restarted_and_flushed_with_runs_queued(
    resources: Resources, world: World, servers: Servers, tmp_path: Path
) -> None:
    thread = await new_thread(resources, world)
    runs = [await send(resources, world, thread, f"queued {i}") for i in range(6)]
    directory = servers.data_dir / "redis"
    stop_redis(directory)
    for leftover in [*directory.glob("*.aof"), *directory.glob("appendonlydir/*"), *directory.glob("*.rdb")]:
        leftover.unlink()
    ensure_redis(servers.data_dir)
    assert await resources.redis.dbsize() == 0  # every queued job is gone
    with workers(resources.settings, 2, tmp_path):
        for run in runs:
            done = await wait_run(resources, run.id, timeout=45)
            assert done.status == states.SUCCEEDED, done.error


async def test_postgres_restart_mid_run(
    resources: Resources,
    world: World,
    servers: Servers,
    tmp_path: Path,
    gql: Any,
    fake_openai: tuple[Any, str],
) -> None:
    fake, url = fake_openai
    await use_fake_model(resources, world, url)
    fake.script(("ok", None), ("hang", 3), ("ok", None))
    query = "query($id: ID!) { run(id: $id) { id status } }"
    with workers(resources.settings, 1, tmp_path):
        thread = await new_thread(resources, world)
        run = await send(resources, world, thread, "survive the restart")
        await _until(lambda: asyncio.sleep(0, len(fake.requests) >= 2), 40, "the hanging model request")
        stop_postgres(servers.data_dir / "postgres")
        started = time.monotonic()
        try:
            response = await gql(query, {"id": str(run.id)}, token=world.tokens["member"])
        except Exception as exc:  # an HTTP-level failure is an error answer too
            response = {"errors": [str(exc)]}
        assert response.get("errors"), response
        assert time.monotonic() - started < 3.0, "the API must fail fast while PostgreSQL is down"
        ensure_postgres(servers.data_dir)

        async def recovered() -> bool:
            body = await gql(query, {"id": str(run.id)}, token=world.tokens["member"])
            return not body.get("errors")

        await _until(recovered, 20, "the API to recover")
        done = await wait_run(resources, run.id, timeout=45)
    assert done.status == states.SUCCEEDED, done.error
    async with resources.sessions() as s:
        stuck = await s.scalar(select(func.count()).select_from(Run).where(Run.status.in_(states.EXECUTING)))
    assert stuck == 0
    assert uuid.UUID(str(run.id))
