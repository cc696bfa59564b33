"""The toolsets a run offers its model: long-term memory and the agent's integrations (and
handoffs, which the integrations domain contributes). A resumed run answers calls whose result was
already persisted from that result (:mod:`backend.runtime.loop`), so no tool runs twice.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.toolsets import AbstractToolset
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
