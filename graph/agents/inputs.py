"""Input objects of the agent mutations, and their conversion to service arguments.

Only fields the client sent reach the service (``UNSET`` is dropped), so ``updateAgent``
edits exactly what was given; an explicit ``null`` clears a nullable field.
"""

from __future__ import annotations

import uuid
from dataclasses import fields, is_dataclass
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from backend.errors import Invalid
from graph.agents.config import Visibility


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{field}: not a valid id", field=field) from None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def provided(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields the client sent, snake_case, nested inputs converted recursively."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is UNSET or f.name in skip:
            continue
        out[_snake(f.name)] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return provided(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@strawberry.input(description="Sampling settings; omitted fields keep their current value.")
class ModelSettingsInput:
    temperature: float | None = strawberry.field(default=UNSET, description="0 to 2.")
    max_tokens: int | None = strawberry.field(
        default=UNSET, description="Per response; null: provider default."
    )
    top_p: float | None = strawberry.field(default=UNSET, description="(0, 1]; null: provider default.")


@strawberry.input(description="Bind tools of one integration of the agent's organization.")
class ToolBindingInput:
    integration_id: strawberry.ID = strawberry.field(description="An integration of the same organization.")
    tools: list[str] | None = strawberry.field(default=None, description="Tool names; null: all its tools.")


@strawberry.input(description="Memory settings; omitted fields keep their current value.")
class MemorySettingsInput:
    enabled: bool | None = strawberry.field(default=UNSET, description="Offer remember/recall tools.")
    history_token_budget: int | None = strawberry.field(default=UNSET, description="Thread history tokens.")


@strawberry.input(description="Per-run limits; omitted fields keep their current value.")
class LimitsInput:
    max_steps: int | None = strawberry.field(default=UNSET, description="1 to 100.")
    max_tokens: int | None = strawberry.field(default=UNSET, description="100 to 2,000,000.")
    max_run_seconds: int | None = strawberry.field(default=UNSET, description="1 to 3600.")


@strawberry.input(description="Listing and draft fields shared by createAgent and updateAgent.")
class AgentFieldsInput:
    slug: str | None = strawberry.field(
        default=UNSET, description="Unique in the organization; derived from the name when omitted on create."
    )
    description: str | None = strawberry.field(default=UNSET, description="At most 2,000 characters.")
    category: str | None = strawberry.field(default=UNSET, description="Marketplace category.")
    tags: list[str] | None = strawberry.field(
        default=UNSET, description="Up to 10 tags of up to 40 characters."
    )
    icon: str | None = strawberry.field(default=UNSET, description="An emoji or icon name.")
    example_prompts: list[str] | None = strawberry.field(default=UNSET, description="Up to 6 prompts.")
    instructions: str | None = strawberry.field(
        default=UNSET, description="System instructions (<= 32,000 chars)."
    )
    model: str | None = strawberry.field(
        default=UNSET,
        description="`offline`, `openai:<model>`, `anthropic:<model>` or `integration:<id>[/<model>]`.",
    )
    model_settings: ModelSettingsInput | None = strawberry.field(
        default=UNSET, description="Sampling settings."
    )
    tools: list[ToolBindingInput] | None = strawberry.field(
        default=UNSET, description="Replaces all bindings."
    )
    memory: MemorySettingsInput | None = strawberry.field(default=UNSET, description="Memory settings.")
    handoffs: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Live deployment ids of the same organization; replaces the list."
    )
    limits: LimitsInput | None = strawberry.field(default=UNSET, description="Per-run limits.")


@strawberry.input(description="A new agent with its listing and first draft.")
class CreateAgentInput(AgentFieldsInput):
    organization_id: strawberry.ID = strawberry.field(description="The owning organization.")
    name: str = strawberry.field(description="Display name (1-120 characters).")


@strawberry.input(description="Edits to an agent's listing and draft; omitted fields are unchanged.")
class UpdateAgentInput(AgentFieldsInput):
    id: strawberry.ID = strawberry.field(description="The agent to edit.")
    name: str | None = strawberry.field(default=UNSET, description="Display name (1-120 characters).")


@strawberry.input(description="Freeze the current draft as a new version.")
class PublishAgentVersionInput:
    agent_id: strawberry.ID = strawberry.field(description="The agent whose draft is published.")
    changelog: str = strawberry.field(default="", description="What changed (at most 5,000 characters).")


@strawberry.input(description="Put a version in the marketplace (or move the deployment to it).")
class DeployAgentInput:
    version_id: strawberry.ID = strawberry.field(
        description="The version to deploy; an earlier one rolls back."
    )
    visibility: Visibility = strawberry.field(default=Visibility.ORGANIZATION, description="Who may use it.")


def agent_changes(data: AgentFieldsInput, *, skip: tuple[str, ...]) -> dict[str, Any]:
    """Service-ready changes; ids stay strings (pydantic validates them, naming the field)."""
    return provided(data, skip=skip)
