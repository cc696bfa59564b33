"""The ``mcp`` built-in against an MCP server built with the ``mcp`` package (streamable HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic_ai.exceptions import ToolFailed
from sqlalchemy import select, update

from backend.db import transaction
from backend.integrations import registry, service
from backend.models import AuditEvent, Integration
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, run_tools, toolset_for
from tests.integrations.peers import serve

API_KEY = "mcp-key-0123456789"


def mcp_app() -> tuple[Any, MCPServer]:
    server = MCPServer("crm")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def lookup_customer(customer_id: str) -> dict[str, Any]:
        """Find a customer by id."""
        return {"id": customer_id, "name": "Ada", "plan": "pro"}

    @server.tool()
    def explode() -> str:
        """Always fails."""
        raise ToolError("the CRM is on fire")

    inner = server.streamable_http_app()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"x-api-key") != API_KEY.encode():
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await inner(scope, receive, send)

    return app, server


async def test_mcp_tools_discovered_cached_and_called(
    resources: Resources, loopback: Settings, world: World
) -> None:
    app, server = mcp_app()
    async with serve(app, lifespan="on") as url:
        mcp = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "mcp",
            "crm",
            {"url": url + "/mcp"},
            {"headers": {"X-Api-Key": API_KEY}},
        )
        assert sorted(registry.tool_names(mcp) or []) == ["add", "explode", "lookup_customer"]
        assert mcp.cache["tools"][0]["parameters"]["type"] == "object" and "fetchedAt" in mcp.cache
        run = await bound_run(resources, world, [mcp], tools=["add", "lookup_customer", "explode"])
        toolset = await toolset_for(resources, loopback, run)
        async with toolset:  # one MCP session for the whole run
            outcome = await run_tools(
                toolset, [("add", {"a": 40, "b": 2}), ("lookup_customer", {"customer_id": "c-7"})]
            )
            assert outcome.contents == [42, {"id": "c-7", "name": "Ada", "plan": "pro"}]
            with pytest.raises(ToolFailed, match="on fire"):
                await toolset.executor.call("explode", {})
        # Without an open session each call connects on its own.
        assert await toolset.executor.call("add", {"a": 1, "b": 1}) == 2

        @server.tool()
        def shout(text: str) -> str:
            """Upper-case a text."""
            return text.upper()

        async with transaction(resources.sessions) as s:
            refreshed = await service.refresh_tools(s, world.owner, loopback, mcp.id)
        assert "shout" in (registry.tool_names(refreshed) or [])
        async with transaction(resources.sessions) as s:
            check = await service.check_integration(s, world.owner, loopback, mcp.id)
        assert check.ok and sorted(check.tools or []) == ["add", "explode", "lookup_customer", "shout"]
        # A stale cached list is refreshed when a run starts.
        stale = {
            "tools": [{"name": "add", "description": "old", "parameters": {"type": "object"}}],
            "fetchedAt": "2020-01-01T00:00:00+00:00",
        }
        async with transaction(resources.sessions) as s:
            await s.execute(update(Integration).where(Integration.id == mcp.id).values(cache=stale))
        fresh_run = await bound_run(resources, world, [mcp])
        fresh = await toolset_for(resources, loopback, fresh_run)
        assert fresh.tool_names == ["add", "explode", "lookup_customer", "shout"]


async def test_mcp_bad_credentials_and_egress(
    resources: Resources, settings: Settings, loopback: Settings, world: World
) -> None:
    app, _ = mcp_app()
    async with serve(app, lifespan="on") as url:
        wrong = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "mcp",
            "wrong",
            {"url": url + "/mcp"},
            {"headers": {"X-Api-Key": "nope"}},
        )
        assert "tools" not in wrong.cache and "error" in wrong.cache
        assert registry.tool_names(wrong) is None  # not knowable yet
        async with transaction(resources.sessions) as s:
            check = await service.check_integration(s, world.owner, loopback, wrong.id)
        assert not check.ok
        # Without the allow list the loopback server is refused (and audited) before any byte is sent.
        guarded = await create(
            resources.sessions,
            settings,
            world.owner,
            world.a,
            "mcp",
            "guarded",
            {"url": url + "/mcp"},
            {"headers": {"X-Api-Key": API_KEY}},
        )
        assert "egress refused" in guarded.cache["error"]
    async with resources.sessions() as s:
        denied = (await s.scalars(select(AuditEvent).where(AuditEvent.action == "integration.egress"))).all()
    assert [e.resource_id for e in denied] == [str(guarded.id)]
