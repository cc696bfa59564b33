"""The plugin API: what an integration type (built-in or third-party) is made of.

A type declares a key, a human name and description, a pydantic config schema (readable by
managers), a pydantic secrets schema (write-only, encrypted at rest) and its tools. A tool is a
method decorated with :func:`tool`; its argument model (a pydantic model) becomes the JSON schema
the model sees, its docstring the description. Types whose tools are only known at run time (MCP,
an imported OpenAPI document) override :meth:`IntegrationType.discover_tools` /
:meth:`IntegrationType.call_dynamic`.

Types register through the ``agentry.integrations`` entry point group; see docs/integrations.md.
Nothing here touches the database: the platform hands each call a :class:`ToolContext`.
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_type_hints

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel

from backend.integrations.egress import EgressGuard, guarded_client

ConfigT = TypeVar("ConfigT", bound=BaseModel)
SecretsT = TypeVar("SecretsT", bound=BaseModel)


class Schema(BaseModel):
    """Base for config, secrets and tool-argument models: camelCase in JSON, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class NoConfig(Schema):
    """For types without configuration."""


class NoSecrets(Schema):
    """For types without secrets."""


class ToolError(Exception):
    """A failure the model may see and adapt to. The message must not contain secrets."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool as the model sees it (``name`` is the integration's own tool name)."""

    name: str
    description: str
    parameters: dict[str, Any]
    args_model: type[BaseModel] | None = None
    result_schema: dict[str, Any] | None = None
    timeout: float | None = None
    method: str | None = None  # attribute name of a static tool's handler
    # No side effects (reads only): the runtime need not persist the call before it runs, since
    # running it again after a crash changes nothing (backend/runtime/loop.py).
    read_only: bool = False

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass
class ToolContext(Generic[ConfigT, SecretsT]):
    """Everything a tool call may use. ``http()`` is the only sanctioned way out to the network."""

    config: ConfigT
    secrets: SecretsT
    integration_id: uuid.UUID
    organization_id: uuid.UUID
    egress: EgressGuard
    cache: dict[str, Any] = field(default_factory=dict)
    run_id: uuid.UUID | None = None
    tool_call_id: str | None = None
    timeout: float = 30.0
    max_response_bytes: int = 64_000
    # Per-run scratch space of this integration (e.g. the open MCP session under "session").
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        """``run_id:tool_call_id``: a side effect retried after a crash carries the same key."""
        return f"{self.run_id or 'test'}:{self.tool_call_id or uuid.uuid4().hex}"

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client whose every connection passes the egress guard (pinned, hop by hop).

        Inside a run it borrows the run's connection pool for this integration (warm connections).
        """
        kwargs.setdefault("timeout", self.timeout)
        return guarded_client(self.egress, transport=self.state.get("transport"), **kwargs)


_TOOL_ATTR = "__agentry_tool__"


@dataclass(frozen=True)
class _ToolMeta:
    name: str | None
    description: str | None
    timeout: float | None
    read_only: bool = False


def tool(
    fn: Callable[..., Awaitable[Any]] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
    read_only: bool = False,
) -> Any:
    """Marks ``async def name(self, ctx: ToolContext[C, S], args: ArgsModel) -> Result`` as a tool.

    ``read_only=True`` declares a tool without side effects (see :attr:`ToolSpec.read_only`)."""

    def mark(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        setattr(func, _TOOL_ATTR, _ToolMeta(name, description, timeout, read_only))
        return func

    return mark(fn) if fn is not None else mark


def _spec_for(method_name: str, func: Callable[..., Any], meta: _ToolMeta) -> ToolSpec:
    hints = get_type_hints(func)
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "ctx")]
    if len(params) != 1 or not (
        isinstance(hints.get(params[0]), type) and issubclass(hints[params[0]], BaseModel)
    ):
        raise TypeError(f"tool {method_name}: signature must be (self, ctx, args: <pydantic model>)")
    args_model: type[BaseModel] = hints[params[0]]
    result = hints.get("return")
    result_schema = None
    if result is not None and result is not Any:
        result_schema = TypeAdapter(result).json_schema(by_alias=True)
    description = meta.description or inspect.cleandoc(func.__doc__ or "") or method_name
    return ToolSpec(
        name=meta.name or method_name,
        description=description,
        parameters=args_model.model_json_schema(by_alias=True),
        args_model=args_model,
        result_schema=result_schema,
        timeout=meta.timeout,
        method=method_name,
        read_only=meta.read_only,
    )


class IntegrationType:
    """Subclass this; set the class attributes and decorate tool methods with :func:`tool`."""

    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str] = ""
    kind: ClassVar[Literal["tools", "model"]] = "tools"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    secrets_model: ClassVar[type[BaseModel]] = NoSecrets
    # True when tools come from discovery (cached in the integration's ``cache["tools"]``).
    dynamic_tools: ClassVar[bool] = False

    def __init__(self) -> None:
        self._static: list[ToolSpec] = []
        for attr in dir(type(self)):
            func = getattr(type(self), attr, None)
            meta = getattr(func, _TOOL_ATTR, None)
            if isinstance(meta, _ToolMeta) and func is not None:
                self._static.append(_spec_for(attr, func, meta))
        self._static.sort(key=lambda spec: spec.name)

    def static_tools(self) -> list[ToolSpec]:
        return list(self._static)

    def tools(self, cache: dict[str, Any] | None = None) -> list[ToolSpec]:
        """Static tools plus discovered ones from the integration's cache."""
        specs = self.static_tools()
        for item in (cache or {}).get("tools") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                specs.append(
                    ToolSpec(
                        name=item["name"],
                        description=item.get("description") or "",
                        parameters=item.get("parameters") or {"type": "object"},
                    )
                )
        return specs

    async def call(self, ctx: ToolContext[Any, Any], spec: ToolSpec, args: dict[str, Any]) -> Any:
        """Dispatches to the decorated method (static tools) or :meth:`call_dynamic`."""
        if spec.method is None or spec.args_model is None:
            return await self.call_dynamic(ctx, spec.name, args)
        parsed = spec.args_model.model_validate(args)
        return await getattr(self, spec.method)(ctx, parsed)

    def session(self, ctx: ToolContext[Any, Any]) -> contextlib.AbstractAsyncContextManager[Any] | None:
        """Override to keep a connection open for a whole run; the result is ``ctx.state["session"]``."""
        return None

    async def discover_tools(self, ctx: ToolContext[Any, Any]) -> list[dict[str, Any]] | None:
        """Override for dynamic tools: ``[{name, description, parameters}]``; ``None`` = no discovery."""
        return None

    async def call_dynamic(self, ctx: ToolContext[Any, Any], name: str, args: dict[str, Any]) -> Any:
        raise ToolError(f"unknown tool {name!r}")

    async def test(self, ctx: ToolContext[Any, Any]) -> str:
        """Checks the credentials; returns a short message, raises :class:`ToolError` on failure."""
        return "configuration is valid (this type has no live check)"

    def describe(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "tools": [spec.public() for spec in self.static_tools()],
            "config_schema": self.config_model.model_json_schema(by_alias=True),
            "secrets_schema": self.secrets_model.model_json_schema(by_alias=True),
            "dynamic_tools": self.dynamic_tools,
            "has_test": type(self).test is not IntegrationType.test,
        }


__all__ = [
    "IntegrationType",
    "NoConfig",
    "NoSecrets",
    "Schema",
    "ToolContext",
    "ToolError",
    "ToolSpec",
    "tool",
]
