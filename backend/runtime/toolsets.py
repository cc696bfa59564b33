"""The toolsets a run offers its model: long-term memory, the agent's integrations (and handoffs,
which the integrations domain contributes), wrapped so a resumed run never re-executes a tool
whose result was already persisted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import ModelRetry
from pydantic_ai.messages import ModelRequestPart, RetryPromptPart
from pydantic_ai.tools import RunContext
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.schemas import AgentConfig
from backend.authz import Actor
from backend.logging import log
from backend.memory.tools import MEMORY_TOOLSET
from backend.models import Run
from backend.resources import Resources

try:  # imported with the worker, never inside a run (a slow import would stall the event loop)
    from backend.integrations.toolset import build_toolset
except ImportError:  # pragma: no cover
    build_toolset = None  # type: ignore[assignment]


@dataclass
class ReplayToolset(WrapperToolset[Any]):
    """Answers tool calls that already have a persisted result with that result (resumed runs)."""

    results: dict[str, ModelRequestPart] = field(default_factory=dict)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        done = self.results.get(ctx.tool_call_id or "")
        if done is None:
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        if isinstance(done, RetryPromptPart):
            raise ModelRetry(done.model_response())
        return getattr(done, "content", None)


async def build_toolsets(
    session: AsyncSession, resources: Resources, run: Run, config: AgentConfig, actor: Actor
) -> list[AbstractToolset[Any]]:
    toolsets: list[AbstractToolset[Any]] = []
    if config.memory.enabled and run.user_id is not None:
        toolsets.append(MEMORY_TOOLSET)
    if config.tools or config.handoffs:
        integrations = await _integration_toolset(session, resources, run, actor)
        if integrations is not None:
            toolsets.append(integrations)
    return toolsets


async def _integration_toolset(
    session: AsyncSession, resources: Resources, run: Run, actor: Actor
) -> AbstractToolset[Any] | None:
    if build_toolset is None:  # integrations domain not installed: the agent runs without its tools
        log.warning("runtime.integrations_unavailable", run_id=str(run.id))
        return None
    toolset: AbstractToolset[Any] = await build_toolset(
        session, run, actor, settings=resources.settings, sessions=resources.sessions
    )
    return toolset
