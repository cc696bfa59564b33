"""``mcp``: an MCP server over streamable HTTP, as a toolset (pydantic-ai's ``MCPToolset``).

The server's tool list is discovered and cached in the integration's ``cache["tools"]``
(refreshed on create/update, on test, on demand and when stale at run start). Every HTTP request
of the MCP client goes through the egress guard (an ``httpx2`` client with the pinned transport).
Within a run one MCP session is kept open (see :meth:`McpIntegration.session`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field, field_validator

from backend.integrations.egress import guarded_client_httpx2
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError


class McpConfig(Schema):
    url: str = Field(description="The MCP server's streamable HTTP endpoint, e.g. https://host/mcp")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        return value


class McpSecrets(Schema):
    headers: dict[str, str] = Field(default_factory=dict, description="Headers sent to the server")


def _mapped(value: Any) -> Any:
    """MCP results may hold binary parts; the model gets a description of them instead."""
    from pydantic_ai.messages import BinaryContent

    if isinstance(value, BinaryContent):
        return f"[binary content: {value.media_type}, {len(value.data)} bytes]"
    if isinstance(value, list):
        return [_mapped(v) for v in value]
    return value


class McpIntegration(IntegrationType):
    key = "mcp"
    name = "MCP server"
    description = "Use the tools of a Model Context Protocol server (streamable HTTP)."
    config_model = McpConfig
    secrets_model = McpSecrets
    dynamic_tools = True

    @contextlib.asynccontextmanager
    async def _connected(self, ctx: ToolContext[McpConfig, McpSecrets]) -> AsyncIterator[Any]:
        import httpx2
        from pydantic_ai.mcp import MCPToolset

        client = guarded_client_httpx2(
            ctx.egress, headers=ctx.secrets.headers, timeout=httpx2.Timeout(ctx.timeout, read=300.0)
        )
        try:
            toolset = MCPToolset(
                ctx.config.url,
                http_client=client,
                tool_error_behavior="failed",
                init_timeout=ctx.timeout,
                cache_tools=False,
            )
            async with toolset:
                yield toolset
        finally:
            await client.aclose()

    def session(self, ctx: ToolContext[McpConfig, McpSecrets]) -> contextlib.AbstractAsyncContextManager[Any]:
        """One MCP session for the whole run (entered and left by the run's toolset)."""
        return self._connected(ctx)

    async def discover_tools(self, ctx: ToolContext[McpConfig, McpSecrets]) -> list[dict[str, Any]]:
        try:
            async with self._connected(ctx) as toolset:
                tools = await toolset.list_tools()
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"cannot list the MCP server's tools ({_reason(exc)})") from None
        return [
            {"name": t.name, "description": t.description or "", "parameters": t.input_schema} for t in tools
        ]

    async def call_dynamic(
        self, ctx: ToolContext[McpConfig, McpSecrets], name: str, args: dict[str, Any]
    ) -> Any:
        from pydantic_ai.exceptions import ModelRetry, ToolFailed

        try:
            toolset = ctx.state.get("session")
            if toolset is not None:
                return _mapped(await toolset.direct_call_tool(name, args))
            async with self._connected(ctx) as toolset:
                return _mapped(await toolset.direct_call_tool(name, args))
        except (ToolFailed, ModelRetry) as exc:
            raise ToolError(str(exc.message)) from None
        except ToolError:
            raise
        except Exception as exc:
            raise ToolError(f"MCP call failed ({_reason(exc)})") from None

    async def test(self, ctx: ToolContext[McpConfig, McpSecrets]) -> str:
        tools = await self.discover_tools(ctx)
        return f"connected; the server offers {len(tools)} tools"


def _reason(exc: BaseException) -> str:
    """The innermost meaningful error of an (exception-group wrapped) MCP failure."""
    from backend.integrations.egress import EgressRefused

    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, EgressRefused):
        return str(exc)
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, EgressRefused):
        return str(cause)
    return type(exc).__name__
