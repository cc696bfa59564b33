"""The ``remember`` and ``recall`` tools a run offers its model (offline and real models alike).

Bound to the run's (agent, user) through ``ctx.deps`` (the runtime's ``RunDeps``: ``resources``
and the ``run`` row): the model cannot name another user, so one user's memory is never visible
to another. One toolset serves every run of the process (building tool schemas is costly); each
call is its own short transaction.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.toolsets import FunctionToolset

from backend.db import autocommit, transaction
from backend.errors import DomainError
from backend.memory import service
from backend.runtime.readonly import READ_ONLY


async def remember(ctx: RunContext[Any], text: str) -> str:
    """Store a fact about the user to remember in later conversations."""
    run = ctx.deps.run
    try:
        async with transaction(ctx.deps.resources.sessions) as session:
            item = await service.remember(
                session,
                organization_id=run.organization_id,
                agent_id=run.agent_id,
                user_id=run.user_id,
                run_id=run.id,
                text=text,
            )
    except DomainError as err:
        raise ModelRetry(err.message) from None
    return f"remembered: {item.content}"


async def recall(ctx: RunContext[Any], query: str) -> str:
    """Search what you remember about the user (full-text; any word may match)."""
    run = ctx.deps.run
    async with autocommit(ctx.deps.resources.engine) as session:  # one read: no BEGIN/ROLLBACK
        items = await service.recall(session, agent_id=run.agent_id, user_id=run.user_id, query=query)
    if not items:
        return "no matching memories"
    return "memories:\n" + "\n".join(f"- {item}" for item in items)


MEMORY_TOOLSET: FunctionToolset[Any] = FunctionToolset([remember], max_retries=1)
MEMORY_TOOLSET.add_function(recall, metadata=READ_ONLY)  # a search: running it again changes nothing
