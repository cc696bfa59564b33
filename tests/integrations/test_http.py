"""The ``http`` built-in against a real HTTP server on loopback (allowed via the egress allow list)."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic_ai.exceptions import ToolFailed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.db import transaction
from backend.integrations import service
from backend.integrations.schemas import ImportOpenApiInput
from backend.resources import Resources
from backend.settings import Settings
from tests.conftest import free_port
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, run_tools, toolset_for
from tests.integrations.peers import serve

TOKEN = "Bearer tok-very-secret-42"


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "json": json.loads(body) if body else None,
            "authorization": request.headers.get("authorization"),
            "x_team": request.headers.get("x-team"),
        }
    )


async def item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"], "verbose": request.query_params.get("verbose")})


async def big(request: Request) -> Response:
    return PlainTextResponse("x" * 300_000)


async def slow(request: Request) -> Response:
    await asyncio.sleep(3)
    return PlainTextResponse("late")


async def hop(request: Request) -> Response:
    return RedirectResponse("/echo/after-redirect", status_code=302)


API = Starlette(
    routes=[
        Route("/api/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/api/items/{id}", item),
        Route("/api/big", big),
        Route("/api/slow", slow),
        Route("/api/hop", hop),
        Route("/echo/after-redirect", echo),
    ]
)

OPENAPI = {
    "openapi": "3.0.0",
    "info": {"title": "Items", "version": "1"},
    "paths": {
        "/items/{id}": {
            "get": {
                "operationId": "getItem",
                "summary": "Fetch an item",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "verbose", "in": "query", "schema": {"type": "boolean"}},
                ],
            }
        },
        "/echo/new": {
            "post": {
                "operationId": "createItem",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                },
            }
        },
    },
    "components": {"schemas": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}}},
}


async def test_request_tool(resources: Resources, loopback: Settings, world: World) -> None:
    async with serve(API) as url:
        http = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "http",
            "api",
            {"baseUrl": url + "/api", "headers": {"X-Team": "red"}},
            {"authorization": TOKEN},
        )
        run = await bound_run(resources, world, [http])
        toolset = await toolset_for(resources, loopback, run)
        assert toolset.tool_names == ["request"]
        outcome = await run_tools(
            toolset,
            [
                (
                    "request",
                    {"method": "POST", "path": "/echo/x", "query": {"q": "1"}, "json": {"a": [1, 2]}},
                ),
                ("request", {"path": "items/7", "query": {"verbose": True}}),
            ],
        )
    posted, got = outcome.contents
    assert posted["status"] == 200
    assert posted["body"] == {
        "method": "POST",
        "path": "/api/echo/x",
        "query": {"q": "1"},
        "json": {"a": [1, 2]},
        "authorization": "[redacted]",
        "x_team": "red",
    }  # sent, but never shown
    assert got["body"] == {"id": "7", "verbose": "true"}


async def test_errors_timeouts_and_caps_are_tool_errors(
    resources: Resources, loopback: Settings, world: World
) -> None:
    async with serve(API) as url:
        http = await create(
            resources.sessions, loopback, world.owner, world.a, "http", "api", {"baseUrl": url + "/api"}
        )
        run = await bound_run(resources, world, [http])
        toolset = await toolset_for(resources, loopback, run, timeout=0.5, max_result_bytes=5_000)
        call = toolset.executor.call
        big_result = await call("request", {"path": "/big"})
        assert isinstance(big_result, str)
        assert len(big_result.encode()) < 5_200 and "…[truncated: showing 5000 of" in big_result
        with pytest.raises(ToolFailed, match=r"timed out after 0\.5s"):
            await call("request", {"path": "/slow"})
        with pytest.raises(ToolFailed, match="relative"):
            await call("request", {"path": "http://example.com/"})
        with pytest.raises(ToolFailed, match=r"'\.\.'"):
            await call("request", {"path": "/../secret"})
        with pytest.raises(ToolFailed, match="invalid arguments"):
            await call("request", {"method": "BREW"})
        with pytest.raises(ToolFailed, match="not available"):
            await call("send_email", {})
        closed = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "http",
            "closed",
            {"baseUrl": f"http://127.0.0.1:{free_port()}"},
        )
        closed_tools = await toolset_for(resources, loopback, await bound_run(resources, world, [closed]))
        with pytest.raises(ToolFailed, match="could not be reached"):
            await closed_tools.executor.call("request", {"path": "/"})
        redirected = await call("request", {"path": "/hop"})
        assert redirected["body"]["path"] == "/echo/after-redirect"
        # A model-driven run survives every failure: the errors come back as tool results.
        outcome = await run_tools(toolset, [("request", {"path": "/slow"}), ("request", {"path": "/../x"})])
        assert outcome.output == "done" and all(
            "timed out" in str(c) or ".." in str(c) for c in outcome.contents
        )


async def test_openapi_import_generates_tools(resources: Resources, loopback: Settings, world: World) -> None:
    async with serve(API) as url:
        http = await create(
            resources.sessions, loopback, world.owner, world.a, "http", "items", {"baseUrl": url + "/api"}
        )
        async with transaction(resources.sessions) as s:
            row = await service.import_openapi(
                s, world.owner, ImportOpenApiInput(id=http.id, document=json.dumps(OPENAPI))
            )
        names = [t["name"] for t in row.cache["tools"]]
        assert names == ["get_item", "create_item"]
        create_item = row.cache["tools"][1]
        assert create_item["parameters"]["properties"]["body"]["properties"] == {"name": {"type": "string"}}
        run = await bound_run(resources, world, [row])
        toolset = await toolset_for(resources, loopback, run)
        assert toolset.tool_names == ["create_item", "get_item", "request"]
        outcome = await run_tools(
            toolset,
            [("get_item", {"id": "42", "verbose": False}), ("create_item", {"body": {"name": "pen"}})],
        )
    got, made = outcome.contents
    assert got["body"] == {"id": "42", "verbose": "false"}
    assert made["body"]["json"] == {"name": "pen"} and made["body"]["path"] == "/api/echo/new"


async def test_check(resources: Resources, loopback: Settings, world: World) -> None:
    async with serve(API) as url:
        http = await create(
            resources.sessions, loopback, world.owner, world.a, "http", "api", {"baseUrl": url}
        )
        async with transaction(resources.sessions) as s:
            result = await service.check_integration(s, world.owner, loopback, http.id)
    assert result.ok and "HTTP 404" in result.message
