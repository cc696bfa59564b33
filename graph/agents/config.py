"""GraphQL value types of an agent's configuration (draft or version) and the shared enums."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from backend.agents.schemas import AgentConfig


@strawberry.enum(description="Who may find and use a deployment.")
class Visibility(Enum):
    ORGANIZATION = strawberry.enum_value("organization", description="Members of the agent's organization.")
    PUBLIC = strawberry.enum_value("public", description="Every signed-in user of this Agentry instance.")


@strawberry.enum(description="What a deployment event did.")
class DeploymentAction(Enum):
    DEPLOY = strawberry.enum_value(
        "deploy", description="Deployed a version (first deploy, move or rollback)."
    )
    UNDEPLOY = strawberry.enum_value("undeploy", description="Removed the deployment from the marketplace.")


@strawberry.type(description="Sampling settings passed to the model provider.")
class ModelSettings:
    temperature: float = strawberry.field(description="0 (deterministic) to 2 (most random).")
    max_tokens: int | None = strawberry.field(
        description="Cap on tokens per model response; null: provider default."
    )
    top_p: float | None = strawberry.field(description="Nucleus sampling (0, 1]; null: provider default.")


@strawberry.type(description="Tools of one organization integration that the agent may call.")
class ToolBinding:
    integration_id: strawberry.ID = strawberry.field(description="The bound integration.")
    tools: list[str] | None = strawberry.field(
        description="Tool names; null means all of the integration's tools."
    )


@strawberry.type(description="Conversation history and long-term memory settings.")
class MemorySettings:
    enabled: bool = strawberry.field(description="Whether remember/recall memory tools are offered.")
    history_token_budget: int = strawberry.field(description="Tokens of thread history sent to the model.")


@strawberry.type(description="Per-run usage limits enforced by the runtime.")
class Limits:
    max_steps: int = strawberry.field(description="Model requests per run (1-100).")
    max_tokens: int = strawberry.field(description="Total tokens per run.")
    max_run_seconds: int = strawberry.field(description="Wall-clock seconds per run (1-3600).")


@strawberry.type(description="A runnable agent configuration: a draft or a frozen version.")
class AgentConfiguration:
    instructions: str = strawberry.field(description="System instructions (at most 32,000 characters).")
    model: str = strawberry.field(description="Model reference, e.g. `offline` or `openai:gpt-4o-mini`.")
    model_settings: ModelSettings = strawberry.field(description="Sampling settings.")
    tools: list[ToolBinding] = strawberry.field(description="Tool bindings.")
    memory: MemorySettings = strawberry.field(description="Memory settings.")
    handoffs: list[strawberry.ID] = strawberry.field(
        description="Deployment ids this agent may hand tasks to."
    )
    limits: Limits = strawberry.field(description="Per-run limits.")

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> AgentConfiguration:
        c = AgentConfig.model_validate(stored)
        return cls(
            instructions=c.instructions,
            model=c.model,
            model_settings=ModelSettings(**c.model_settings.model_dump()),
            tools=[
                ToolBinding(integration_id=strawberry.ID(str(b.integration_id)), tools=b.tools)
                for b in c.tools
            ],
            memory=MemorySettings(**c.memory.model_dump()),
            handoffs=[strawberry.ID(str(h)) for h in c.handoffs],
            limits=Limits(**c.limits.model_dump()),
        )
