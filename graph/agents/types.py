"""GraphQL types of agents, versions and deployments (thin views over ORM rows)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from backend import models
from backend.agents.schemas import ToolBinding as ToolBindingModel
from backend.agents.tool_catalog import resolve_loaded
from backend.errors import Forbidden, NotFound
from graph.agents import loaders
from graph.agents.config import (
    AgentConfiguration,
    DeploymentAction,
    Limits,
    MemorySettings,
    ModelSettings,
    ToolBinding,
    Visibility,
)
from graph.context import Info
from graph.pagination import PageInfo
from graph.permissions import fields_for, protect

if TYPE_CHECKING:
    from graph.identity.types import User
    from graph.orgs.types import Organization

T = TypeVar("T")
OrganizationRef = Annotated["Organization", strawberry.lazy("graph.orgs.types")]
UserRef = Annotated["User", strawberry.lazy("graph.identity.types")]


def _present(row: T | None) -> T:
    """Relations guaranteed by foreign keys (a version's agent, a deployment's version)."""
    if row is None:
        raise NotFound("The related object no longer exists")
    return row


async def _readable_agent(info: Info, agent_id: uuid.UUID) -> models.Agent:
    """The agent behind a version or deployment, for those the policy lets read it. Users of a
    PUBLIC deployment from other organisations may use it, not look into its organisation."""
    agent = _present(await loaders.agent_by_id(info).load(agent_id))
    if "name" not in await fields_for(info, agent):
        raise Forbidden("You may not read this agent")
    return agent


async def _user(info: Info, user_id: uuid.UUID | None) -> User | None:
    from graph.identity.types import User

    row = await loaders.user_by_id(info).load(user_id) if user_id else None
    return User.from_row(row) if row else None


def protected(name: str) -> Any:
    """A configuration field: managers only; others get null and a FORBIDDEN error at its path."""
    # resource= explicitly: the type has a `model` field, which the default row lookup would pick up.
    extension = protect(POLICY_FIELDS.get(name, name), resource=lambda source: source._row)
    return strawberry.field(description=FIELD_DOCS[name], extensions=[extension])


# GraphQL field -> the policy's field name where they differ (policies/agents.polar).
POLICY_FIELDS = {"modelSettings": "settings"}

FIELD_DOCS = {
    "instructions": "The draft's system instructions. Managers only.",
    "model": "The draft's model: `offline`, `openai:<model>`, `anthropic:<model>` or "
    "`integration:<id>[/<model>]`. Managers only.",
    "modelSettings": "The draft's sampling settings. Managers only.",
    "tools": "The draft's tool bindings. Managers only.",
    "toolNames": "The tool names the model sees with the draft configuration. Managers only.",
    "memory": "The draft's memory settings. Managers only.",
    "handoffs": "Deployment ids the draft may hand tasks to. Managers only.",
    "limits": "The draft's per-run limits. Managers only.",
    "config": "The whole draft configuration. Managers only.",
}


async def tool_names(info: Info, organization_id: uuid.UUID, stored: dict[str, Any]) -> list[str]:
    bindings = [ToolBindingModel.model_validate(b) for b in stored.get("tools", [])]
    loader = loaders.integration_by_id(info)
    rows = await loader.load_many([b.integration_id for b in bindings])
    found = {r.id: r for r in rows if r is not None and r.organization_id == organization_id}
    return [t.name for t in resolve_loaded(bindings, found, strict=False)]


@strawberry.type(description="An agent: its marketplace listing and its editable draft configuration.")
class Agent:
    _row: strawberry.Private[models.Agent]

    id: strawberry.ID = strawberry.field(description="The agent's id.")
    organization_id: strawberry.ID = strawberry.field(description="The organization that owns the agent.")
    slug: str = strawberry.field(
        description="Unique within the organization: lowercase letters, digits, dashes."
    )
    name: str = strawberry.field(description="Display name (1-120 characters).")
    description: str = strawberry.field(description="What the agent does (at most 2,000 characters).")
    category: str | None = strawberry.field(description="Marketplace category.")
    tags: list[str] = strawberry.field(description="Up to 10 lowercase tags.")
    icon: str | None = strawberry.field(description="An emoji or icon name.")
    example_prompts: list[str] = strawberry.field(description="Prompts suggested to end users.")
    created_at: datetime = strawberry.field(description="When the agent was created.")
    updated_at: datetime = strawberry.field(description="When the listing or draft last changed.")
    archived_at: datetime | None = strawberry.field(description="When archived; null for active agents.")

    @classmethod
    def from_row(cls, row: models.Agent) -> Agent:
        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            organization_id=strawberry.ID(str(row.organization_id)),
            slug=row.slug,
            name=row.name,
            description=row.description,
            category=row.category,
            tags=list(row.tags or []),
            icon=row.icon,
            example_prompts=list(row.example_prompts or []),
            created_at=row.created_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
        )

    def _config(self) -> AgentConfiguration:
        return AgentConfiguration.from_stored(self._row.config)

    @protected("instructions")
    def instructions(self) -> str | None:
        return self._config().instructions

    @protected("model")
    def model(self) -> str | None:
        return self._config().model

    @protected("modelSettings")
    def model_settings(self) -> ModelSettings | None:
        return self._config().model_settings

    @protected("tools")
    def tools(self) -> list[ToolBinding] | None:
        return self._config().tools

    @protected("toolNames")
    async def tool_names(self, info: Info) -> list[str] | None:
        return await tool_names(info, self._row.organization_id, self._row.config)

    @protected("memory")
    def memory(self) -> MemorySettings | None:
        return self._config().memory

    @protected("handoffs")
    def handoffs(self) -> list[strawberry.ID] | None:
        return self._config().handoffs

    @protected("limits")
    def limits(self) -> Limits | None:
        return self._config().limits

    @protected("config")
    def config(self) -> AgentConfiguration | None:
        return self._config()

    @strawberry.field(description="The organization that owns the agent.")
    async def organization(self, info: Info) -> OrganizationRef | None:
        from graph.orgs.types import Organization

        row = await loaders.organization_by_id(info).load(self._row.organization_id)
        return Organization.from_row(row) if row else None

    @strawberry.field(description="Published versions, newest first.")
    async def versions(self, info: Info) -> list[AgentVersion]:
        rows = await loaders.versions_by_agent(info).load(self._row.id)
        return [AgentVersion.from_row(r) for r in rows]

    @strawberry.field(description="The newest published version, if any.")
    async def latest_version(self, info: Info) -> AgentVersion | None:
        rows = await loaders.versions_by_agent(info).load(self._row.id)
        return AgentVersion.from_row(rows[0]) if rows else None

    @strawberry.field(description="The agent's deployment (live or undeployed), if it was ever deployed.")
    async def deployment(self, info: Info) -> Deployment | None:
        row = await loaders.deployment_by_agent(info).load(self._row.id)
        return Deployment.from_row(row) if row else None

    @strawberry.field(description="The agent's deployments as a list (an agent has at most one).")
    async def deployments(self, info: Info) -> list[Deployment]:
        row = await loaders.deployment_by_agent(info).load(self._row.id)
        return [Deployment.from_row(row)] if row else []


@strawberry.type(description="A frozen, numbered snapshot of an agent's configuration; it never changes.")
class AgentVersion:
    _row: strawberry.Private[models.AgentVersion]

    id: strawberry.ID = strawberry.field(description="The version's id (deploy it with deployAgent).")
    number: int = strawberry.field(description="1, 2, 3... per agent.")
    changelog: str = strawberry.field(description="What changed, as written by the publisher.")
    config_hash: str = strawberry.field(description="SHA-256 of the canonical configuration JSON.")
    author_id: strawberry.ID | None = strawberry.field(description="The user who published it.")
    created_at: datetime = strawberry.field(description="When it was published.")

    @classmethod
    def from_row(cls, row: models.AgentVersion) -> AgentVersion:
        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            number=row.number,
            changelog=row.changelog,
            config_hash=row.config_hash,
            author_id=strawberry.ID(str(row.author_id)) if row.author_id else None,
            created_at=row.created_at,
        )

    @strawberry.field(description="The user who published it (null if deleted). Readers of the agent only.")
    async def author(self, info: Info) -> UserRef | None:
        await _readable_agent(info, self._row.agent_id)
        return await _user(info, self._row.author_id)

    @strawberry.field(description="The agent this version belongs to (readers of the agent only).")
    async def agent(self, info: Info) -> Agent | None:
        return Agent.from_row(await _readable_agent(info, self._row.agent_id))

    @strawberry.field(description="The frozen configuration. Managers only (null with FORBIDDEN otherwise).")
    async def config(self, info: Info) -> AgentConfiguration | None:
        # The policy's "versionConfig" field rule is about the version's agent; the agent comes from the
        # batched loader, so a list of versions of many agents costs one query, not one per version.
        agent = await loaders.agent_by_id(info).load(self._row.agent_id)
        if agent is None or "versionConfig" not in await fields_for(info, agent):
            raise Forbidden("You may not read this field")
        return AgentConfiguration.from_stored(self._row.config)


@strawberry.type(description="One move of a deployment: who moved it, when, from which version to which.")
class DeploymentEvent:
    _row: strawberry.Private[models.DeploymentEvent]
    _agent_id: strawberry.Private[uuid.UUID | None]

    id: strawberry.ID = strawberry.field(description="The event's id.")
    action: DeploymentAction = strawberry.field(description="Deploy (incl. moves and rollbacks) or undeploy.")
    visibility: Visibility | None = strawberry.field(description="The visibility after (or at) the move.")
    actor_id: strawberry.ID | None = strawberry.field(description="The user who made the move.")
    at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_row(cls, row: models.DeploymentEvent, agent_id: uuid.UUID | None = None) -> DeploymentEvent:
        return cls(
            _row=row,
            _agent_id=agent_id,
            id=strawberry.ID(str(row.id)),
            action=DeploymentAction(row.action),
            visibility=Visibility(row.visibility) if row.visibility else None,
            actor_id=strawberry.ID(str(row.actor_id)) if row.actor_id else None,
            at=row.at,
        )

    @strawberry.field(description="The user who made the move (null if the account was deleted).")
    async def actor(self, info: Info) -> UserRef | None:
        return await _user(info, self._row.actor_id)

    @strawberry.field(
        description="The version deployed before; null for a first deploy or a redeploy after undeploy."
    )
    async def from_version(self, info: Info) -> AgentVersion | None:
        return await _version(info, self._row.from_version_id, self._agent_id)

    @strawberry.field(description="The version deployed by this event; null for an undeploy.")
    async def to_version(self, info: Info) -> AgentVersion | None:
        return await _version(info, self._row.to_version_id, self._agent_id)


async def _version(
    info: Info, version_id: uuid.UUID | None, agent_id: uuid.UUID | None
) -> AgentVersion | None:
    if version_id is None:
        return None
    row = await loaders.version(info, version_id, agent_id)
    return AgentVersion.from_row(row) if row else None


@strawberry.type(
    description="An agent's one place in the marketplace. Deploying another version moves it "
    "and keeps its id, so rolling back is deploying an earlier version."
)
class Deployment:
    _row: strawberry.Private[models.Deployment]

    id: strawberry.ID = strawberry.field(
        description="The deployment's id (threads, schedules, handoffs use it)."
    )
    visibility: Visibility = strawberry.field(description="Who may find and use it.")
    deployed_at: datetime = strawberry.field(description="When the current version was deployed.")
    undeployed_at: datetime | None = strawberry.field(description="When it was undeployed; null while live.")
    is_live: bool = strawberry.field(description="Whether it is in the marketplace now.")
    usage_count: int = strawberry.field(description="Conversations started with it.")

    @classmethod
    def from_row(cls, row: models.Deployment) -> Deployment:
        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            visibility=Visibility(row.visibility),
            deployed_at=row.deployed_at,
            undeployed_at=row.undeployed_at,
            is_live=row.undeployed_at is None,
            usage_count=row.usage_count,
        )

    @strawberry.field(description="The deployed version (the last one, when undeployed).")
    async def version(self, info: Info) -> AgentVersion:
        return AgentVersion.from_row(
            _present(await loaders.version(info, self._row.version_id, self._row.agent_id))
        )

    @strawberry.field(
        description="The deployed agent (readers of the agent only; use the marketplace listing otherwise)."
    )
    async def agent(self, info: Info) -> Agent | None:
        return Agent.from_row(await _readable_agent(info, self._row.agent_id))

    @strawberry.field(description="Every move of this deployment, newest first.")
    async def history(self, info: Info) -> list[DeploymentEvent]:
        rows = await loaders.events_by_deployment(info).load(self._row.id)
        return [DeploymentEvent.from_row(r, self._row.agent_id) for r in rows]


@strawberry.type(description="One field-level difference between two configurations.")
class ConfigChange:
    path: str = strawberry.field(
        description="camelCase path, e.g. `modelSettings.temperature`, `handoffs`, "
        "`tools[<integrationId>].tools`."
    )
    kind: str = strawberry.field(description="`added`, `removed` or `changed`.")
    before: JSON | None = strawberry.field(description="The old value (removed or changed).")
    after: JSON | None = strawberry.field(description="The new value (added or changed).")


@strawberry.type(description="The structured difference between two versions of one agent.")
class AgentVersionDiff:
    from_version: AgentVersion = strawberry.field(description="The older side.")
    to_version: AgentVersion = strawberry.field(description="The newer side.")
    changes: list[ConfigChange] = strawberry.field(description="Field-level changes; empty when identical.")


@strawberry.type(description="An agent in a connection.")
class AgentEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this agent.")
    node: Agent = strawberry.field(description="The agent.")


@strawberry.type(description="A page of agents.")
class AgentConnection:
    edges: list[AgentEdge] = strawberry.field(description="The agents of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")
    total_count: int = strawberry.field(description="Agents matching, over all pages.")
