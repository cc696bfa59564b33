"""Threads and messages: a conversation of one user with one deployment (or a draft, in the playground).

``send_message`` stores the user message and creates a ``queued`` run in one transaction and
returns at once; the run's job is enqueued after commit. Each message takes the next ``seq`` of its
thread (``UPDATE threads ... RETURNING message_count``), which also serialises concurrent sends to
the same thread: a run sees exactly the messages numbered before its own.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.deployments import count_use
from backend.audit import record
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow, uuid7
from backend.db.raw import RawSQL, build, fetchrow, select_columns
from backend.errors import Invalid, NotFound, Unauthenticated
from backend.models import Agent, AgentVersion, Deployment, Message, Run, Thread
from backend.resources import Resources
from backend.runs import repository as repo
from backend.runs.dispatch import unit_of_work
from backend.runs.service import StaleDeployment, check_input, create_run


def _user(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise Unauthenticated("Sign in to continue")
    return actor.user_id


async def start_thread(session: AsyncSession, actor: Actor, *, deployment_id: uuid.UUID) -> Thread:
    deployment = await session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFound("No such deployment")
    await authorize(session, actor, "use", deployment)
    thread = Thread(
        id=uuid7(),
        organization_id=deployment.organization_id,
        user_id=_user(actor),
        agent_id=deployment.agent_id,
        deployment_id=deployment.id,
        is_playground=False,
        title="",
    )
    session.add(thread)
    # "Most used" in the marketplace counts production conversations (never playground ones).
    await count_use(session, deployment.id)
    await session.flush()
    await record(
        session,
        actor,
        action="thread.start",
        resource_type="thread",
        resource_id=str(thread.id),
        organization_id=thread.organization_id,
        summary={"deployment_id": str(deployment.id)},
    )
    return thread


async def start_playground_thread(session: AsyncSession, actor: Actor, *, agent_id: uuid.UUID) -> Thread:
    """A test conversation with the agent's current draft (builders; needs ``playground``)."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("No such agent")
    await authorize(session, actor, "playground", agent)
    thread = Thread(
        id=uuid7(),
        organization_id=agent.organization_id,
        user_id=_user(actor),
        agent_id=agent.id,
        deployment_id=None,
        is_playground=True,
        title="",
    )
    session.add(thread)
    await session.flush()
    await record(
        session,
        actor,
        action="thread.start_playground",
        resource_type="thread",
        resource_id=str(thread.id),
        organization_id=thread.organization_id,
        summary={"agent_id": str(agent.id)},
    )
    return thread


async def get_thread(
    session: AsyncSession, actor: Actor, thread_id: uuid.UUID, action: str = "read"
) -> Thread:
    thread = (await session.scalars(repo.thread(thread_id))).first()
    if thread is None:
        raise NotFound("No such thread")
    await authorize(session, actor, action, thread)
    return thread


_THREAD_FOR_MESSAGE = RawSQL(f"""
SELECT {select_columns(Thread, "t")}, {select_columns(Deployment, "d")}, {select_columns(AgentVersion, "v")},
       d.xmin::text AS deployment_xmin
  FROM threads AS t
  LEFT JOIN deployments AS d ON d.id = t.deployment_id
  LEFT JOIN agent_versions AS v ON v.id = d.version_id
 WHERE t.id = :thread_id AND t.deleted_at IS NULL
""")


@dataclass(frozen=True)
class _Chat:
    """What a message to a (non-playground) thread is built from, as read once.

    Reused by later messages without reading it again, and safely: a thread's owner, agent and
    deployment never change (its deletion is checked by the write itself), a published version is
    immutable, and the write proceeds only if the deployment row is still this one (its ``xmin``).
    """

    thread: Thread
    deployment: Deployment | None
    version: AgentVersion | None
    deployment_xmin: str | None


_CHATS: OrderedDict[uuid.UUID, _Chat] = OrderedDict()
CHATS_MAX = 10_000


async def _read_chat(session: AsyncSession, thread_id: uuid.UUID) -> _Chat:
    row = await fetchrow(session, _THREAD_FOR_MESSAGE, {"thread_id": thread_id})
    thread = build(Thread, row, "t") if row is not None else None
    if row is None or thread is None:
        _CHATS.pop(thread_id, None)
        raise NotFound("No such thread")
    deployment, version = build(Deployment, row, "d"), build(AgentVersion, row, "v")  # outer joins
    chat = _Chat(thread, deployment, version, row["deployment_xmin"])
    if not thread.is_playground:  # a draft changes under the playground: read it every time
        _CHATS[thread_id] = chat
        _CHATS.move_to_end(thread_id)
        while len(_CHATS) > CHATS_MAX:
            _CHATS.popitem(last=False)
    return chat


async def send_message(session: AsyncSession, actor: Actor, *, thread_id: uuid.UUID, content: str) -> Run:
    """Store the user's message and create its run (``QUEUED``); the job is enqueued after commit.

    The chat hot path: the thread, its deployment and the deployed version come in one query, made
    once per thread and process (:class:`_Chat`); later messages are one write statement.
    """
    chat = _CHATS.get(thread_id) or await _read_chat(session, thread_id)
    try:
        return await _send(session, actor, chat, content)
    except StaleDeployment:  # redeployed, undeployed or renamed since: read it again
        return await _send(session, actor, await _read_chat(session, thread_id), content)
    except NotFound:
        _CHATS.pop(thread_id, None)  # deleted meanwhile
        raise


async def _send(session: AsyncSession, actor: Actor, chat: _Chat, content: str) -> Run:
    thread, deployment, version = chat.thread, chat.deployment, chat.version
    await authorize(session, actor, "write", thread)
    check_input(content)
    if thread.is_playground:
        agent = await session.get(Agent, thread.agent_id)
        if agent is None:
            raise NotFound("No such agent")
        run = await create_run(
            session,
            actor,
            agent=agent,
            trigger="playground",
            input=content,
            thread=thread,
            user_message=content,
        )
    else:
        if deployment is None or version is None:
            raise NotFound("No such deployment")
        trigger = "api" if actor.kind == "api_key" else "chat"
        run = await create_run(
            session,
            actor,
            deployment=deployment,
            version=version,
            trigger=trigger,
            input=content,
            thread=thread,
            user_message=content,
            deployment_xmin=chat.deployment_xmin,
        )
    assert run is not None
    return run


async def post_message(resources: Resources, actor: Actor, *, thread_id: uuid.UUID, content: str) -> Run:
    """:func:`send_message` as its own unit of work: its one write is a single statement, so it
    runs without BEGIN/COMMIT; the job is enqueued once the statement has committed."""
    async with unit_of_work(resources, one_write=True) as session:
        return await send_message(session, actor, thread_id=thread_id, content=content)


async def rename_thread(session: AsyncSession, actor: Actor, *, thread_id: uuid.UUID, title: str) -> Thread:
    thread = await get_thread(session, actor, thread_id, "write")
    title = " ".join(title.split())
    if not title or len(title) > 200:
        raise Invalid("title: 1 to 200 characters", field="title")
    thread.title = title
    await session.flush()
    await record(
        session,
        actor,
        action="thread.rename",
        resource_type="thread",
        resource_id=str(thread.id),
        organization_id=thread.organization_id,
    )
    return thread


async def delete_thread(session: AsyncSession, actor: Actor, *, thread_id: uuid.UUID) -> Thread:
    """Soft delete: the thread disappears from every listing; its runs stay for audit and usage."""
    thread = await get_thread(session, actor, thread_id, "delete")
    thread.deleted_at = utcnow()
    await session.flush()
    await record(
        session,
        actor,
        action="thread.delete",
        resource_type="thread",
        resource_id=str(thread.id),
        organization_id=thread.organization_id,
    )
    return thread


async def list_threads(
    session: AsyncSession,
    actor: Actor,
    *,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
    deployment_id: uuid.UUID | None = None,
    include_playground: bool = False,
) -> tuple[list[Thread], bool]:
    """The viewer's own threads, most recently active first."""
    stmt = await authorized_select(session, actor, "read", Thread)
    stmt = stmt.where(Thread.user_id == _user(actor), Thread.deleted_at.is_(None))
    if deployment_id is not None:
        stmt = stmt.where(Thread.deployment_id == deployment_id)
    if not include_playground:
        stmt = stmt.where(Thread.is_playground.is_(False))
    stmt = repo.keyset(stmt, Thread.updated_at, Thread.id, after).limit(first + 1)
    rows = list((await session.scalars(stmt)).all())
    return rows[:first], len(rows) > first


async def thread_messages(
    session: AsyncSession, thread_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Message]]:
    out: dict[uuid.UUID, list[Message]] = {t: [] for t in thread_ids}
    for message in await session.scalars(repo.messages(thread_ids)):
        out[message.thread_id].append(message)
    return out


async def user_message_of(session: AsyncSession, run_id: uuid.UUID) -> Message | None:
    return (
        await session.scalars(select(Message).where(Message.run_id == run_id, Message.role == "user"))
    ).first()
