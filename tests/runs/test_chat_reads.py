"""``sendMessage`` reads a thread's deployment once per process, and never writes on a stale read.

Later messages are one statement, which writes only if the deployment row is still the one read
(its ``xmin``): a redeploy is used at the next message, an undeploy refuses it, a deleted thread
is not found, and nothing is written in either refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, update

from backend.db import transaction, uuid7
from backend.errors import NotFound
from backend.models import AgentVersion, Deployment, Message, Run, Thread
from backend.resources import Resources
from tests.runtime.harness import World, agent_config
from tests.runtime.helpers import new_thread, send


@contextmanager
def statements(resources: Resources) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(resources.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(resources.engine.sync_engine, "before_cursor_execute", record)


def _reads(seen: list[str]) -> int:
    return sum("FROM threads AS t" in s for s in seen)


async def _messages(resources: Resources, thread: Thread) -> int:
    async with resources.sessions() as s:
        return int(await s.scalar(select(func.count()).where(Message.thread_id == thread.id)) or 0)


async def test_later_messages_skip_the_read_and_follow_a_redeploy(resources: Resources, world: World) -> None:
    thread = await new_thread(resources, world)
    with statements(resources) as seen:
        await send(resources, world, thread, "one")
    assert _reads(seen) == 1
    with statements(resources) as seen:
        second = await send(resources, world, thread, "two")
    assert _reads(seen) == 0, "the thread's deployment was not read again"
    assert second.version_id == world.deployment.version_id
    # Redeploy: a new version goes live on the same deployment (its row changes).
    async with transaction(resources.sessions) as s:
        version = AgentVersion(
            id=uuid7(),
            agent_id=world.agent.id,
            number=2,
            config=agent_config(instructions="Be brief."),
            config_hash="1" * 64,
            created_at=datetime.now(UTC),
            changelog="v2",
        )
        s.add(version)
        await s.flush()
        await s.execute(
            update(Deployment).where(Deployment.id == world.deployment.id).values(version_id=version.id)
        )
    with statements(resources) as seen:
        third = await send(resources, world, thread, "three")
    assert _reads(seen) == 1, "the stale read was refused by the write and made again"
    assert third.version_id == version.id and third.config["instructions"] == "Be brief."
    assert await _thread_seqs(resources, thread) == [1, 2, 3]  # nothing written twice


async def _thread_seqs(resources: Resources, thread: Thread) -> list[int]:
    async with resources.sessions() as s:
        return list(
            await s.scalars(select(Message.seq).where(Message.thread_id == thread.id).order_by(Message.seq))
        )


async def test_an_undeployed_agent_refuses_the_next_message_and_writes_nothing(
    resources: Resources, world: World
) -> None:
    thread = await new_thread(resources, world)
    await send(resources, world, thread, "hello")
    async with transaction(resources.sessions) as s:
        await s.execute(
            update(Deployment)
            .where(Deployment.id == world.deployment.id)
            .values(undeployed_at=datetime.now(UTC))
        )
    with pytest.raises(NotFound, match="No such deployment"):  # as for any undeployed agent
        await send(resources, world, thread, "still there?")
    assert await _messages(resources, thread) == 1
    async with resources.sessions() as s:
        runs = await s.scalar(select(func.count()).where(Run.thread_id == thread.id))
    assert runs == 1


async def test_a_deleted_thread_is_not_found_and_stays_so(resources: Resources, world: World) -> None:
    thread = await new_thread(resources, world)
    await send(resources, world, thread, "hello")
    async with transaction(resources.sessions) as s:
        await s.execute(update(Thread).where(Thread.id == thread.id).values(deleted_at=datetime.now(UTC)))
    for _ in range(2):
        with pytest.raises(NotFound):
            await send(resources, world, thread, "anyone?")
    assert await _messages(resources, thread) == 1


async def test_another_users_thread_stays_forbidden_after_its_owner_wrote(
    resources: Resources, world: World
) -> None:
    thread = await new_thread(resources, world)
    await send(resources, world, thread, "mine")  # the owner's message: the read is now reused
    with pytest.raises(NotFound):  # another user's thread does not exist for them
        await send(resources, world, thread, "not yours", who="member2")
    assert await _messages(resources, thread) == 1
