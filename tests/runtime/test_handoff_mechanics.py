"""Child runs executed inline: the parent waits (WAITING), the child has its own run, events and usage."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_ai import RunContext
from pydantic_ai.toolsets import FunctionToolset

from backend.db import transaction
from backend.resources import Resources
from backend.runs import states
from backend.runtime import children, toolsets
from backend.runtime.context import RunDeps
from tests.runtime.harness import World, add_agent, events_of
from tests.runtime.helpers import chat, new_thread


@pytest.fixture
async def helper_deployment(resources: Resources, world: World) -> Any:
    async with transaction(resources.sessions) as s:
        _, deployment = await add_agent(s, world.org, world.owner, slug="helper")
    return deployment


async def test_handoff_child_runs_inline(
    resources: Resources, world: World, worker: Any, helper_deployment: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = toolsets.build_toolsets

    async def with_handoff(session: Any, res: Any, run: Any, config: Any, actor: Any) -> list[Any]:
        async def handoff_helper(ctx: RunContext[RunDeps], text: str) -> str:
            """Hand the task to the helper agent."""
            child = await children.handoff(
                ctx.deps, deployment_id=helper_deployment.id, input=text, tool_call_id=ctx.tool_call_id or ""
            )
            return child.output or f"child {child.status}: {child.error}"

        return [*await original(session, res, run, config, actor), FunctionToolset([handoff_helper])]

    monkeypatch.setattr("backend.runtime.executor.build_toolsets", with_handoff)
    thread = await new_thread(resources, world)
    parent = await chat(resources, world, thread, "/handoff helper please echo this")
    assert parent.status == states.SUCCEEDED, parent.error
    assert parent.output == "echo: please echo this (0 earlier messages)"
    async with resources.sessions() as s:
        from sqlalchemy import select

        from backend.models import Run

        kids = list(await s.scalars(select(Run).where(Run.parent_run_id == parent.id)))
    assert len(kids) == 1 and kids[0].trigger == "handoff" and kids[0].depth == 1
    assert kids[0].status == states.SUCCEEDED and kids[0].requests == 1
    statuses = [e.data.get("status") for e in await events_of(resources, parent.id) if e.type == "status"]
    assert statuses == ["QUEUED", "RUNNING", "WAITING", "RUNNING", "SUCCEEDED"]
