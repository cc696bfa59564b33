"""Agent lifecycle mutations: one transaction and one service call each."""

from __future__ import annotations

import strawberry

from backend.agents import service
from backend.db import transaction
from graph.agents import loaders
from graph.agents.inputs import (
    CreateAgentInput,
    DeployAgentInput,
    PublishAgentVersionInput,
    UpdateAgentInput,
    agent_changes,
    parse_id,
)
from graph.agents.types import Agent, AgentVersion, Deployment
from graph.context import Info


def _agent(info: Info, row: object) -> Agent:
    loaders.prime_agents(info, [row])  # type: ignore[list-item]
    return Agent.from_row(row)  # type: ignore[arg-type]


@strawberry.type
class AgentMutations:
    @strawberry.mutation(
        description="Create an agent (listing + draft) in an organization. Needs `create_agent`."
    )
    async def create_agent(self, info: Info, input: CreateAgentInput) -> Agent:
        data = agent_changes(input, skip=("organization_id",))
        async with transaction(info.context.resources.sessions) as session:
            row = await service.create(
                session,
                info.context.actor,
                organization_id=parse_id(input.organization_id, "organizationId"),
                data=data,
            )
        return _agent(info, row)

    @strawberry.mutation(
        description="Edit an agent's listing and draft configuration. Published versions "
        "never change; publish again to freeze the edits."
    )
    async def update_agent(self, info: Info, input: UpdateAgentInput) -> Agent:
        changes = agent_changes(input, skip=("id",))
        async with transaction(info.context.resources.sessions) as session:
            row = await service.update(
                session, info.context.actor, agent_id=parse_id(input.id, "id"), changes=changes
            )
        return _agent(info, row)

    @strawberry.mutation(
        description="Archive an agent: it leaves the marketplace (its deployment is "
        "undeployed) and can no longer be edited until restored."
    )
    async def archive_agent(self, info: Info, id: strawberry.ID) -> Agent:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.archive(session, info.context.actor, agent_id=parse_id(id, "id"))
        return _agent(info, row)

    @strawberry.mutation(description="Restore an archived agent (it is not redeployed automatically).")
    async def restore_agent(self, info: Info, id: strawberry.ID) -> Agent:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.restore(session, info.context.actor, agent_id=parse_id(id, "id"))
        return _agent(info, row)

    @strawberry.mutation(
        description="Freeze the draft as a new numbered version. Refused with CONFLICT when "
        "the draft equals the latest version."
    )
    async def publish_agent_version(self, info: Info, input: PublishAgentVersionInput) -> AgentVersion:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.publish(
                session,
                info.context.actor,
                agent_id=parse_id(input.agent_id, "agentId"),
                changelog=input.changelog,
            )
        return AgentVersion.from_row(row)

    @strawberry.mutation(
        description="Deploy a version. The agent's one deployment moves to it (keeping its id); "
        "deploying an earlier version is a rollback."
    )
    async def deploy_agent(self, info: Info, input: DeployAgentInput) -> Deployment:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.deploy(
                session,
                info.context.actor,
                version_id=parse_id(input.version_id, "versionId"),
                visibility=str(input.visibility.value),
            )
        return Deployment.from_row(row)

    @strawberry.mutation(
        description="Remove a deployment from the marketplace; its id and history are kept "
        "and deployAgent brings it back."
    )
    async def undeploy_agent(self, info: Info, deployment_id: strawberry.ID) -> Deployment:
        async with transaction(info.context.resources.sessions) as session:
            row = await service.undeploy(
                session, info.context.actor, deployment_id=parse_id(deployment_id, "deploymentId")
            )
        return Deployment.from_row(row)
