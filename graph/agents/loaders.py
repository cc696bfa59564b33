"""Per-request DataLoaders for every relation of agents, versions and deployments.

Each batch opens its own short read session (sibling resolvers run concurrently and
must not share one AsyncSession). Loaders return ORM rows; authorisation happened on
the parent object, relations inherit it (and protected fields check again).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from strawberry.dataloader import DataLoader

from backend.agents import repository as repo
from backend.models import Agent, AgentVersion, Deployment, DeploymentEvent, Integration, Organization, User
from graph.context import Context, Info
from graph.identity import loaders as identity_loaders

T = TypeVar("T")


def _by_key(
    ctx: Context, stmt_for: Callable[[list[uuid.UUID]], Select[Any]], key: Callable[[Any], uuid.UUID]
) -> DataLoader[uuid.UUID, Any]:
    async def load(keys: list[uuid.UUID]) -> Sequence[Any]:
        async with ctx.resources.sessions() as session:
            rows = {key(row): row for row in await session.scalars(stmt_for(keys))}
        return [rows.get(k) for k in keys]

    return DataLoader(load)


def _grouped(
    ctx: Context, stmt_for: Callable[[list[uuid.UUID]], Select[Any]], key: Callable[[Any], uuid.UUID]
) -> DataLoader[uuid.UUID, list[Any]]:
    async def load(keys: list[uuid.UUID]) -> Sequence[list[Any]]:
        groups: dict[uuid.UUID, list[Any]] = defaultdict(list)
        async with ctx.resources.sessions() as session:
            for row in await session.scalars(stmt_for(keys)):
                groups[key(row)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load)


def agent_by_id(info: Info) -> DataLoader[uuid.UUID, Agent | None]:
    return info.context.loader("agents.agent_by_id", lambda c: _by_key(c, repo.agents, lambda r: r.id))


def version_by_id(info: Info) -> DataLoader[uuid.UUID, AgentVersion | None]:
    return info.context.loader("agents.version_by_id", lambda c: _by_key(c, repo.versions, lambda r: r.id))


def versions_by_agent(info: Info) -> DataLoader[uuid.UUID, list[AgentVersion]]:
    """Newest first."""
    return info.context.loader(
        "agents.versions_by_agent", lambda c: _grouped(c, repo.versions_of_agents, lambda r: r.agent_id)
    )


def deployment_by_id(info: Info) -> DataLoader[uuid.UUID, Deployment | None]:
    return info.context.loader(
        "agents.deployment_by_id", lambda c: _by_key(c, repo.deployments, lambda r: r.id)
    )


def deployment_by_agent(info: Info) -> DataLoader[uuid.UUID, Deployment | None]:
    return info.context.loader(
        "agents.deployment_by_agent", lambda c: _by_key(c, repo.deployments_of_agents, lambda r: r.agent_id)
    )


def events_by_deployment(info: Info) -> DataLoader[uuid.UUID, list[DeploymentEvent]]:
    """Newest first."""
    return info.context.loader(
        "agents.events_by_deployment",
        lambda c: _grouped(c, repo.events_of_deployments, lambda r: r.deployment_id),
    )


def integration_by_id(info: Info) -> DataLoader[uuid.UUID, Integration | None]:
    return info.context.loader(
        "agents.integration_by_id",
        lambda c: _by_key(c, lambda ids: select(Integration).where(Integration.id.in_(ids)), lambda r: r.id),
    )


def organization_by_id(info: Info) -> DataLoader[uuid.UUID, Organization | None]:
    """Shared with the orgs domain's loader (same request cache)."""
    return identity_loaders.organization_by_id(info)


def user_by_id(info: Info) -> DataLoader[uuid.UUID, User | None]:
    """Version authors and deployment actors (shared with the identity domain's loader)."""
    return identity_loaders.user_by_id(info)


def prime_agents(info: Info, agents: Sequence[Agent]) -> None:
    """Agents fetched by a query or mutation seed the loader, so relations don't refetch them."""
    loader = agent_by_id(info)
    for agent in agents:
        loader.prime(agent.id, agent, force=True)


async def version(
    info: Info, version_id: uuid.UUID, agent_id: uuid.UUID | None = None
) -> AgentVersion | None:
    """A version by id, taken from the agent's version list when this request already asked for it
    (``Agent.versions`` next to ``deployment { version }`` then costs one query, not two)."""
    if agent_id is not None:
        pending = versions_by_agent(info).cache_map.get(agent_id)
        if pending is not None:
            for row in await pending:
                if row.id == version_id:
                    return row  # type: ignore[no-any-return]
    return await version_by_id(info).load(version_id)
