"""Executes one tool call of a run: binding check, authorisation, secrets, timeout, size cap, errors.

Everything the model may see passes :meth:`ToolExecutor.call`: results are redacted (no secret
value survives), capped (truncated with a marker) and every failure becomes a ``ToolFailed`` the
model reads as a tool error; a tool can never crash the run or leak a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from pydantic_ai.exceptions import ToolFailed
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import transaction
from backend.errors import DomainError
from backend.integrations.access import authorize
from backend.integrations.context import decrypt_audited, make_guard, redact, secret_values, tool_context
from backend.integrations.crypto import KeyRing
from backend.integrations.egress import EgressRefused, GuardedTransport
from backend.integrations.sdk import IntegrationType, ToolContext, ToolError, ToolSpec
from backend.logging import log
from backend.models import Integration
from backend.settings import Settings

DEFAULT_TIMEOUT = 30.0
MAX_RESULT_BYTES = 32_000


def truncation_marker(shown: int, total: int) -> str:
    return f"\n…[truncated: showing {shown} of {total} bytes]"


@dataclass
class BoundTool:
    """A tool the model sees under ``name``: the integration's ``spec`` on ``integration``."""

    name: str
    spec: ToolSpec
    kind: IntegrationType
    integration: Integration


@dataclass
class _Prepared:
    context: ToolContext[Any, Any]
    redactions: list[str]
    state: dict[str, Any] = field(default_factory=dict)


class ToolExecutor:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        actor: Actor,
        ring: KeyRing,
        tools: dict[str, BoundTool],
        run_id: uuid.UUID | None = None,
        max_result_bytes: int = MAX_RESULT_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.actor = actor
        self.ring = ring
        self.tools = tools
        self.run_id = run_id
        self.max_result_bytes = max_result_bytes
        self.timeout = timeout
        self._prepared: dict[uuid.UUID, _Prepared] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    def integrations(self) -> dict[uuid.UUID, BoundTool]:
        return {bound.integration.id: bound for bound in self.tools.values()}

    async def prepare(self, bound: BoundTool) -> _Prepared:
        """Decrypts (and audits) an integration's secrets once per run, on first use."""
        key = bound.integration.id
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._prepared:
                async with transaction(self.sessions) as session:
                    values = await decrypt_audited(
                        session, self.ring, self.actor, bound.integration, purpose="tool", run_id=self.run_id
                    )
                guard = make_guard(
                    self.settings, self.actor, bound.integration, sessions=self.sessions, run_id=self.run_id
                )
                try:
                    ctx = tool_context(
                        bound.kind, bound.integration, values, guard, run_id=self.run_id, timeout=self.timeout
                    )
                except ValidationError:
                    raise ToolError("the integration's stored settings no longer match its type") from None
                ctx.state["transport"] = GuardedTransport(guard)  # closed by aclose()
                self._prepared[key] = _Prepared(ctx, secret_values(values), ctx.state)
        return self._prepared[key]

    async def aclose(self) -> None:
        """Closes the run's pooled connections (the toolset calls it when the run leaves it)."""
        for prepared in self._prepared.values():
            transport = prepared.state.pop("transport", None)
            if transport is not None:
                await transport.aclose()

    async def _authorize(self, bound: BoundTool) -> None:
        async with self.sessions() as session:
            await authorize(session, self.actor, "invoke", bound.integration)

    async def call(self, name: str, args: dict[str, Any], *, tool_call_id: str | None = None) -> Any:
        bound = self.tools.get(name)
        if bound is None:
            raise ToolFailed(f"tool {name!r} is not available to this agent")
        redactions: list[str] = []
        try:
            await self._authorize(bound)
            prepared = await self.prepare(bound)
            redactions = prepared.redactions
            ctx = dataclasses.replace(prepared.context, tool_call_id=tool_call_id)
            ctx.state = prepared.state
            timeout = min(bound.spec.timeout or self.timeout, self.timeout)
            async with asyncio.timeout(timeout):
                result = await bound.kind.call(ctx, bound.spec, args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise ToolFailed(f"invalid arguments for {name}: {problems}") from None
        except (ToolError, EgressRefused) as exc:
            raise ToolFailed(redact(str(exc), redactions)) from None
        except DomainError as exc:  # NotFound/Forbidden from authorisation
            raise ToolFailed(f"not permitted to use {bound.integration.name!r}: {exc.message}") from None
        except TimeoutError:
            raise ToolFailed(
                f"{name} timed out after {min(bound.spec.timeout or self.timeout, self.timeout):g}s"
            ) from None
        except ToolFailed as exc:
            raise ToolFailed(redact(exc.message, redactions)) from None
        except httpx.HTTPError as exc:  # connection refused, TLS failure, read timeout...
            raise ToolFailed(f"{name}: the service could not be reached ({type(exc).__name__})") from None
        except Exception as exc:
            log.error(
                "integration.tool_crashed",
                tool=name,
                integration_id=str(bound.integration.id),
                error=type(exc).__name__,
            )
            raise ToolFailed(f"{name} failed unexpectedly ({type(exc).__name__})") from None
        return self.shape(result, redactions)

    def shape(self, result: Any, redactions: list[str]) -> Any:
        """JSON-able, redacted and capped: over the cap the model gets a truncated string."""
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json", by_alias=True)
        data = to_jsonable_python(result, fallback=str)
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        clean = redact(text, redactions)
        size = len(clean.encode())
        if size > self.max_result_bytes:
            cut = clean.encode()[: self.max_result_bytes].decode(errors="ignore")
            return cut + truncation_marker(len(cut.encode()), size)
        if clean is text:
            return data
        return clean if isinstance(data, str) else json.loads(clean)
