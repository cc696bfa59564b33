"""Shared test harness for the runtime: a small world of rows, an in-process Arq worker, waits.

Used by tests/runs and tests/runtime (their conftest.py re-export the fixtures).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import select

from backend.authz import Actor
from backend.db import transaction, uuid7
from backend.identity.tokens import open_session
from backend.models import Agent, AgentVersion, Deployment, Membership, Organization, Run, RunEvent, User
from backend.resources import Resources, redis_settings
from backend.runs import states
from jobs.runs import RUN_CRON_JOBS, RUN_FUNCTIONS
from jobs.waking import WakingWorker
from tests.factories import add_deployed_agent


@dataclass
class World:
    org: Organization
    other_org: Organization
    owner: User
    member: User
    member2: User
    outsider: User
    agent: Agent
    deployment: Deployment
    tokens: dict[str, str]

    def actor(self, who: str) -> Actor:
        user: User = getattr(self, who)
        return Actor(kind="user", user_id=user.id, request_id=f"test-{uuid.uuid4().hex[:8]}")


def agent_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "instructions": "Be helpful.",
        "model": "offline",
        "limits": {"max_steps": 10, "max_tokens": 50_000, "max_run_seconds": 60},
    }
    config.update(overrides)
    return config


async def add_user(session: Any, org: Organization | None, role: str | None, name: str) -> User:
    row = User(id=uuid7(), email=f"{name}-{uuid.uuid4().hex[:6]}@example.com", display_name=name)
    session.add(row)
    await session.flush()
    if org is not None and role is not None:
        session.add(Membership(organization_id=org.id, user_id=row.id, role=role))
        await session.flush()
    return row


async def add_agent(
    session: Any,
    org: Organization,
    owner: User,
    config: dict[str, Any] | None = None,
    slug: str | None = None,
) -> tuple[Agent, Deployment]:
    return await add_deployed_agent(
        session, org.id, owner.id, config or agent_config(), slug=slug, name="Echo", description="Echoes"
    )


async def make_world(resources: Resources, config: dict[str, Any] | None = None) -> World:
    async with transaction(resources.sessions) as s:
        org = Organization(id=uuid7(), slug=f"org-{uuid.uuid4().hex[:6]}", name="Acme")
        other = Organization(id=uuid7(), slug=f"org-{uuid.uuid4().hex[:6]}", name="Globex")
        s.add_all([org, other])
        await s.flush()
        owner = await add_user(s, org, "owner", "owner")
        member = await add_user(s, org, "member", "member")
        member2 = await add_user(s, org, "member", "member2")
        outsider = await add_user(s, other, "owner", "outsider")
        agent, deployment = await add_agent(s, org, owner, config)
        tokens = {}
        for name, user in (
            ("owner", owner),
            ("member", member),
            ("member2", member2),
            ("outsider", outsider),
        ):
            tokens[name] = (
                await open_session(s, resources.settings, user, client_addr=None, user_agent=None)
            )[1]
    return World(org, other, owner, member, member2, outsider, agent, deployment, tokens)


def make_worker(resources: Resources, *, cron: bool = True, max_jobs: int = 20) -> Worker:
    assert resources.settings.redis_url
    return WakingWorker(
        functions=list(RUN_FUNCTIONS),
        cron_jobs=list(RUN_CRON_JOBS) if cron else [],
        redis_settings=redis_settings(resources.settings.redis_url),
        ctx={"resources": resources},
        burst=False,
        handle_signals=False,
        max_jobs=max_jobs,
        keep_result=60,
    )


@contextlib.asynccontextmanager
async def started(worker: Worker) -> AsyncIterator[Worker]:
    """``worker`` running in this event loop; stopped and closed on exit."""
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        with contextlib.suppress(BaseException):
            await worker.close()


@contextlib.asynccontextmanager
async def running_worker(resources: Resources, **kwargs: Any) -> AsyncIterator[Worker]:
    async with started(make_worker(resources, **kwargs)) as worker:
        yield worker


async def wait_run(
    resources: Resources,
    run_id: uuid.UUID,
    statuses: tuple[str, ...] = states.TERMINAL,
    timeout: float = 10.0,
) -> Run:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with resources.sessions() as s:
            run = (await s.scalars(select(Run).where(Run.id == run_id))).one()
        if run.status in statuses:
            return run
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"run {run_id} still {run.status} after {timeout}s")
        await asyncio.sleep(0.02)


async def events_of(resources: Resources, run_id: uuid.UUID) -> list[RunEvent]:
    async with resources.sessions() as s:
        return list(await s.scalars(select(RunEvent).where(RunEvent.run_id == run_id).order_by(RunEvent.seq)))


@pytest.fixture
async def world(resources: Resources) -> World:
    return await make_world(resources)


@pytest.fixture
async def worker(resources: Resources) -> AsyncIterator[Worker]:
    async with running_worker(resources) as w:
        yield w


@contextlib.asynccontextmanager
async def serve_app(app: Any, **config: Any) -> AsyncIterator[str]:
    """``app`` on a free loopback port; ``config``: more ``uvicorn.Config`` settings."""
    import uvicorn

    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **config)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 5)


@pytest.fixture
async def fake_openai() -> AsyncIterator[tuple[Any, str]]:
    from tests.fakes.openai_server import FakeOpenAI

    fake = FakeOpenAI(tool_name="recall")
    async with serve_app(fake.app) as url:
        yield fake, url + "/v1"


async def use_fake_model(resources: Resources, world: World, base_url: str, **config: Any) -> None:
    """Point the world's deployed agent at the fake server through an openai_compatible integration."""
    from sqlalchemy import update

    from backend.models import Integration

    async with transaction(resources.sessions) as s:
        integration = Integration(
            id=uuid7(),
            organization_id=world.org.id,
            type="openai_compatible",
            name=f"fake-{uuid.uuid4().hex[:6]}",
            config={"base_url": base_url},
            cache={},
        )
        s.add(integration)
        await s.flush()
        new = agent_config(model=f"integration:{integration.id}/fake-model", **config)
        await s.execute(
            update(AgentVersion).where(AgentVersion.id == world.deployment.version_id).values(config=new)
        )
