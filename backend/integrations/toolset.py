"""The pydantic-ai toolset of a run: the agent's bound integration tools, as the model sees them.

Names come from :func:`backend.agents.tool_catalog.resolve_tools` (the same resolution that gives
``Agent.toolNames``). A handoff child run is narrowed to the tools every ancestor run had bound:
an agent cannot reach an integration through another agent that has it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import CombinedToolset
from pydantic_ai.toolsets.abstract import AbstractToolset, ToolsetTool
from pydantic_core import SchemaValidator, core_schema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.agents.schemas import ToolBinding
from backend.agents.tool_catalog import resolve_tools
from backend.authz import Actor
from backend.integrations import registry, repository, service
from backend.integrations.context import sessions_of
from backend.integrations.execution import DEFAULT_TIMEOUT, MAX_RESULT_BYTES, BoundTool, ToolExecutor
from backend.integrations.keys import key_ring
from backend.integrations.sdk import IntegrationType
from backend.logging import log
from backend.models import Integration, Run
from backend.runtime.readonly import READ_ONLY
from backend.settings import Settings, get_settings

_ARGS = SchemaValidator(core_schema.dict_schema(keys_schema=core_schema.str_schema()))
TOOLSET_ID = "agentry-integrations"


class IntegrationToolset(AbstractToolset[Any]):
    """Lists the bound tools and routes every call through :class:`ToolExecutor`."""

    def __init__(self, executor: ToolExecutor) -> None:
        self.executor = executor
        self._entered = 0
        self._stack: contextlib.AsyncExitStack | None = None

    @property
    def id(self) -> str:
        return TOOLSET_ID

    @property
    def tool_names(self) -> list[str]:
        return sorted(self.executor.tools)

    async def __aenter__(self) -> IntegrationToolset:
        """Opens per-run sessions (e.g. MCP) in the task that will also close them."""
        self._entered += 1
        if self._entered == 1:
            self._stack = contextlib.AsyncExitStack()
            for bound in self.executor.integrations().values():
                await self._open_session(bound)
        return self

    async def _open_session(self, bound: BoundTool) -> None:
        if type(bound.kind).session is IntegrationType.session:  # the type keeps no session
            return
        try:
            prepared = await self.executor.prepare(bound)
            manager = bound.kind.session(prepared.context)
            if manager is not None and self._stack is not None:
                prepared.state["session"] = await self._stack.enter_async_context(manager)
        except Exception as exc:  # calls fall back to one connection each
            log.warning(
                "integration.session_unavailable",
                integration_id=str(bound.integration.id),
                error=type(exc).__name__,
            )

    async def __aexit__(self, *args: Any) -> bool | None:
        self._entered -= 1
        if self._entered == 0 and self._stack is not None:
            stack, self._stack = self._stack, None
            for prepared in self.executor._prepared.values():
                prepared.state.pop("session", None)
            try:
                await stack.aclose()
                await self.executor.aclose()
            except Exception as exc:
                log.warning("integration.session_close_failed", error=type(exc).__name__)
        return None

    async def get_tools(self, ctx: Any) -> dict[str, ToolsetTool[Any]]:
        return {
            name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=name,
                    description=bound.spec.description,
                    parameters_json_schema=bound.spec.parameters,
                    metadata=READ_ONLY if bound.spec.read_only else None,
                ),
                max_retries=1,
                args_validator=_ARGS,
            )
            for name, bound in self.executor.tools.items()
        }

    async def call_tool(self, name: str, tool_args: dict[str, Any], ctx: Any, tool: ToolsetTool[Any]) -> Any:
        return await self.executor.call(name, tool_args, tool_call_id=getattr(ctx, "tool_call_id", None))


def bindings_of(config: dict[str, Any] | None) -> list[ToolBinding]:
    """The tool bindings of a stored (frozen) agent configuration; malformed entries are skipped."""
    found: list[ToolBinding] = []
    for raw in (config or {}).get("tools") or []:
        try:
            found.append(ToolBinding.model_validate(raw))
        except ValueError:
            log.warning("integration.bad_binding")
    return found


async def _pairs(
    session: AsyncSession, organization_id: uuid.UUID, bindings: Iterable[ToolBinding]
) -> set[tuple[uuid.UUID, str]]:
    resolved = await resolve_tools(session, organization_id, list(bindings))
    return {(t.integration_id, t.tool) for t in resolved}


async def _existing(
    session: AsyncSession, organization_id: uuid.UUID, bindings: list[ToolBinding]
) -> list[ToolBinding]:
    """Drops bindings whose integration was deleted (or never was in this organisation)."""
    ids = [b.integration_id for b in bindings]
    present = {row.id for row in await session.scalars(repository.in_organization(organization_id, ids))}
    missing = [str(i) for i in ids if i not in present]
    if missing:
        log.warning("integration.binding_missing", integration_ids=missing)
    return [b for b in bindings if b.integration_id in present]


async def allowed_pairs(session: AsyncSession, run: Run) -> set[tuple[uuid.UUID, str]] | None:
    """For a handoff child: the (integration, tool) pairs bound in EVERY ancestor run; else ``None``."""
    if run.parent_run_id is None:
        return None
    rows = (await session.execute(repository.run_ancestors(run.parent_run_id))).all()
    allowed: set[tuple[uuid.UUID, str]] | None = None
    for row in rows:
        if row.organization_id != run.organization_id:
            return set()
        bindings = await _existing(session, row.organization_id, bindings_of(row.config))
        pairs = await _pairs(session, row.organization_id, bindings)
        allowed = pairs if allowed is None else allowed & pairs
    return allowed or set()


async def bound_tools(session: AsyncSession, run: Run) -> dict[str, BoundTool]:
    bindings = await _existing(session, run.organization_id, bindings_of(run.config))
    resolved = await resolve_tools(session, run.organization_id, bindings)
    allowed = await allowed_pairs(session, run)
    rows = {
        row.id: row
        for row in await session.scalars(
            repository.in_organization(run.organization_id, [t.integration_id for t in resolved])
        )
    }
    tools: dict[str, BoundTool] = {}
    for item in resolved:
        integration: Integration = rows[item.integration_id]
        if allowed is not None and (item.integration_id, item.tool) not in allowed:
            continue
        kind = registry.find_type(integration.type)
        specs = {s.name: s for s in (kind.tools(integration.cache) if kind else [])}
        if kind is None or item.tool not in specs:
            log.warning("integration.tool_unavailable", tool=item.tool, integration_id=str(integration.id))
            continue
        tools[item.name] = BoundTool(item.name, specs[item.tool], kind, integration.detached())
    return tools


async def build_integration_toolset(
    session: AsyncSession,
    run: Run,
    actor: Actor,
    *,
    settings: Settings | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 (a per-call limit, not this function's)
    max_result_bytes: int = MAX_RESULT_BYTES,
) -> IntegrationToolset:
    """The integration tools of ``run``.

    ``actor`` is the run's actor (``Actor.for_run``): every call is authorised for it (``use`` on
    the integration). ``session`` is only used while building; calls open short sessions of their own.
    """
    settings = settings or get_settings()
    sessions = sessions or sessions_of(session)
    bound_ids = [b.integration_id for b in bindings_of(run.config)]
    await service.refresh_stale(sessions, actor, settings, run.organization_id, bound_ids)
    tools = await bound_tools(session, run)
    ring = await key_ring(session, settings)
    executor = ToolExecutor(
        sessions=sessions,
        settings=settings,
        actor=actor,
        ring=ring,
        tools=tools,
        run_id=run.id,
        timeout=timeout,
        max_result_bytes=max_result_bytes,
    )
    return IntegrationToolset(executor)


async def build_toolset(
    session: AsyncSession,
    run: Run,
    actor: Actor,
    *,
    settings: Settings | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> AbstractToolset[Any]:
    """Everything the run's model may call besides memory: bound integration tools and handoffs.

    ``actor`` is the run's actor (``Actor.for_run``): every integration call is authorised for it
    (``invoke`` on the integration). ``session`` is only used while building.
    """
    from backend.handoff.toolset import build_handoff_toolset

    integrations = await build_integration_toolset(session, run, actor, settings=settings, sessions=sessions)
    handoffs = await build_handoff_toolset(session, run)
    if handoffs is None:
        return integrations
    return CombinedToolset([integrations, handoffs])
