"""Pydantic schemas for agents: listing fields and the (draft or versioned) configuration.

Everything a builder can type is validated here, so a service can reject bad input
before touching the database. Database-dependent checks (integration and tool
existence, handoff targets) live in :mod:`backend.agents.validation`.

Configurations are stored as ``AgentConfig.model_dump(mode="json")`` (snake_case keys);
the runtime reads them back with :meth:`AgentConfig.model_validate`.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from backend.errors import Invalid

MAX_INSTRUCTIONS = 32_000
SLUG_RE = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
PROVIDERS = ("openai", "anthropic")
_PROVIDER_MODEL = re.compile(r"^(?P<provider>[a-z][a-z0-9_-]*):(?P<model>[A-Za-z0-9][A-Za-z0-9._:/-]{0,99})$")
_INTEGRATION_MODEL = re.compile(
    r"^integration:(?P<id>[0-9a-fA-F-]{36})(?:/(?P<model>[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}))?$"
)

Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ToolName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(_Strict):
    """Sampling settings passed to the model provider; ``None`` means the provider's default."""

    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=200_000)
    top_p: float | None = Field(None, gt=0, le=1)


class ToolBinding(_Strict):
    """Tools of one organisation integration the agent may call (``tools=None``: all of them)."""

    integration_id: uuid.UUID
    tools: list[ToolName] | None = Field(None, min_length=1, max_length=50)

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, tools: list[str] | None) -> list[str] | None:
        if tools is not None and len(set(tools)) != len(tools):
            raise ValueError("tool names must be unique within a binding")
        return tools


class MemorySettings(_Strict):
    """Thread history window and long-term memory tools."""

    enabled: bool = True
    history_token_budget: int = Field(8_000, ge=0, le=200_000)


class Limits(_Strict):
    """Per-run usage limits enforced by the runtime."""

    max_steps: int = Field(10, ge=1, le=100)
    max_tokens: int = Field(50_000, ge=100, le=2_000_000)
    max_run_seconds: int = Field(120, ge=1, le=3_600)


class ModelRef(BaseModel):
    """A parsed ``model`` string."""

    provider: str  # offline | openai | anthropic | integration
    name: str | None = None
    integration_id: uuid.UUID | None = None


def parse_model(value: str) -> ModelRef:
    """Parses and checks a model name; raises ``ValueError`` for unknown providers or bad format."""
    if value == "offline":
        return ModelRef(provider="offline")
    if match := _INTEGRATION_MODEL.match(value):
        try:
            integration_id = uuid.UUID(match["id"])
        except ValueError:
            raise ValueError("integration model refs look like integration:<uuid>[/<model>]") from None
        return ModelRef(provider="integration", integration_id=integration_id, name=match["model"])
    match = _PROVIDER_MODEL.match(value)
    if match is None:
        raise ValueError(
            "unknown model: use 'offline', 'openai:<model>', 'anthropic:<model>' "
            "or 'integration:<id>[/<model>]'"
        )
    if match["provider"] not in PROVIDERS:
        raise ValueError(
            f"unknown model provider {match['provider']!r} (known: offline, "
            f"{', '.join(PROVIDERS)}, integration)"
        )
    return ModelRef(provider=match["provider"], name=match["model"])


class AgentConfig(_Strict):
    """An agent's runnable configuration: the draft, or a frozen version."""

    instructions: str = Field("", max_length=MAX_INSTRUCTIONS)
    model: str = "offline"
    model_settings: ModelSettings = ModelSettings()
    tools: list[ToolBinding] = Field(default_factory=list, max_length=20)
    memory: MemorySettings = MemorySettings()
    handoffs: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    limits: Limits = Limits()

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        value = value.strip()
        parse_model(value)
        return value

    @field_validator("tools")
    @classmethod
    def _one_binding_per_integration(cls, tools: list[ToolBinding]) -> list[ToolBinding]:
        ids = [t.integration_id for t in tools]
        if len(set(ids)) != len(ids):
            raise ValueError("each integration may be bound once")
        return tools

    @field_validator("handoffs")
    @classmethod
    def _unique_handoffs(cls, handoffs: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(handoffs)) != len(handoffs):
            raise ValueError("handoff targets must be unique")
        return handoffs

    @property
    def model_ref(self) -> ModelRef:
        return parse_model(self.model)

    def stored(self) -> dict[str, Any]:
        """The JSON stored in ``agents.config`` / ``agent_versions.config``."""
        return self.model_dump(mode="json")


def _non_blank(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


class AgentListing(_Strict):
    """What the marketplace shows about an agent (editable any time, not versioned)."""

    name: str = Field(max_length=120)
    slug: str = Field(pattern=SLUG_RE)
    description: str = Field("", max_length=2_000)
    category: str | None = Field(None, max_length=60)
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    icon: str | None = Field(None, max_length=60)
    example_prompts: list[Prompt] = Field(default_factory=list, max_length=6)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _non_blank(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return value.strip()

    @field_validator("category", "icon")
    @classmethod
    def _optional_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        return value or None

    @field_validator("tags")
    @classmethod
    def _dedupe_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


LISTING_FIELDS = frozenset(AgentListing.model_fields)
CONFIG_FIELDS = frozenset(AgentConfig.model_fields)


def slugify(name: str) -> str:
    """A slug derived from a name (used when the builder gives none)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "agent"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(_camel(p) if isinstance(p, str) else str(p) for p in loc)


def invalid_from(error: ValidationError) -> Invalid:
    """Turns a pydantic error into ``BAD_USER_INPUT`` naming the (camelCase) field."""
    first = error.errors()[0]
    field = _location(first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    problems = [
        {"field": _location(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
        for e in error.errors()
    ]
    return Invalid(
        f"{field}: {message}" if field else message,
        field=field,
        details={"problems": problems} if len(problems) > 1 else None,
    )


def validate_listing(data: dict[str, Any]) -> AgentListing:
    try:
        return AgentListing.model_validate(data)
    except ValidationError as err:
        raise invalid_from(err) from None


def validate_config(data: dict[str, Any]) -> AgentConfig:
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as err:
        raise invalid_from(err) from None
