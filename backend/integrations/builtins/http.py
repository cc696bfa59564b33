"""``http``: any REST API under a base URL, plus tools generated from an OpenAPI document."""

from __future__ import annotations

import posixpath
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from backend.integrations.builtins._http import HttpResult, send
from backend.integrations.builtins.openapi import find_operation
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool

Scalar = str | int | float | bool


class HttpConfig(Schema):
    base_url: str = Field(description="Every request goes to a path under this URL.")
    headers: dict[str, str] = Field(default_factory=dict, description="Headers sent with every request.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("baseUrl must be an absolute http(s) URL")
        return value.rstrip("/")


class HttpSecrets(Schema):
    authorization: str | None = Field(None, description="Value of the Authorization header.")


class RequestArgs(Schema):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    path: str = Field("/", description="Path under the API's base URL, e.g. /v1/items/42")
    query: dict[str, Scalar | list[Scalar]] | None = Field(None, description="Query string parameters")
    body: Any = Field(None, alias="json", description="JSON request body")


def join_url(base_url: str, path: str) -> str:
    """Joins ``path`` under ``base_url``; refuses anything that would leave it."""
    if "://" in path or path.startswith("//") or "\\" in path:
        raise ToolError("path must be relative to the API's base URL")
    raw = path if path.startswith("/") else "/" + path
    route, _, query = raw.partition("?")
    if ".." in route.split("/"):
        raise ToolError("path may not contain '..' segments")
    normalized = posixpath.normpath(route) if route != "/" else "/"
    if route.endswith("/") and normalized != "/":
        normalized += "/"
    return base_url + normalized + (f"?{query}" if query else "")


def base_headers(ctx: ToolContext[HttpConfig, HttpSecrets]) -> dict[str, str]:
    headers = dict(ctx.config.headers)
    if ctx.secrets.authorization:
        headers["Authorization"] = ctx.secrets.authorization
    return headers


class HttpIntegration(IntegrationType):
    key = "http"
    name = "HTTP / REST API"
    description = (
        "Call any REST API under a base URL. Import an OpenAPI document to get one tool per operation."
    )
    config_model = HttpConfig
    secrets_model = HttpSecrets

    @tool
    async def request(self, ctx: ToolContext[HttpConfig, HttpSecrets], args: RequestArgs) -> HttpResult:
        """Send an HTTP request to the API and return its status and body."""
        return await send(
            ctx,
            args.method,
            join_url(ctx.config.base_url, args.path),
            params=args.query,
            json=args.body,
            headers=base_headers(ctx),
        )

    async def call_dynamic(self, ctx: ToolContext[Any, Any], name: str, args: dict[str, Any]) -> Any:
        operation = find_operation(ctx.cache, name)
        if operation is None:
            raise ToolError(f"unknown tool {name!r}")
        path = operation["path"]
        query: dict[str, Any] = {}
        headers = base_headers(ctx)
        for param in operation.get("params", []):
            value = args.get(param["name"])
            if value is None:
                continue
            if param["in"] == "path":
                path = path.replace("{" + param["name"] + "}", str(value).replace("/", "%2F"))
            elif param["in"] == "query":
                query[param["name"]] = value
            elif param["in"] == "header":
                headers[param["name"]] = str(value)
        body = args.get("body") if operation.get("body") else None
        return await send(
            ctx,
            operation["method"],
            join_url(ctx.config.base_url, path),
            params=query or None,
            json=body,
            headers=headers,
        )

    async def test(self, ctx: ToolContext[HttpConfig, HttpSecrets]) -> str:
        result = await send(ctx, "GET", ctx.config.base_url + "/", headers=base_headers(ctx))
        if result.status >= 500 or result.status in (401, 403):
            raise ToolError(f"the API answered HTTP {result.status}")
        return f"reachable (HTTP {result.status})"
