"""Helpers to drive chat runs at the service level (no GraphQL) in runtime tests."""

from __future__ import annotations

import uuid

from backend.models import Run, Thread
from backend.resources import Resources
from backend.runs import dispatch
from backend.runs.threads import send_message, start_playground_thread, start_thread
from tests.runtime.harness import World, wait_run


async def new_thread(
    resources: Resources, world: World, who: str = "member", deployment_id: uuid.UUID | None = None
) -> Thread:
    async with dispatch.unit_of_work(resources) as s:
        return await start_thread(s, world.actor(who), deployment_id=deployment_id or world.deployment.id)


async def new_playground(resources: Resources, world: World, who: str = "owner") -> Thread:
    async with dispatch.unit_of_work(resources) as s:
        return await start_playground_thread(s, world.actor(who), agent_id=world.agent.id)


async def send(resources: Resources, world: World, thread: Thread, text: str, who: str = "member") -> Run:
    async with dispatch.unit_of_work(resources) as s:
        return await send_message(s, world.actor(who), thread_id=thread.id, content=text)


async def chat(
    resources: Resources, world: World, thread: Thread, text: str, who: str = "member", timeout: float = 10.0
) -> Run:
    run = await send(resources, world, thread, text, who)
    return await wait_run(resources, run.id, timeout=timeout)
