"""Helpers shared by the HTTP-speaking built-ins: capped reads and response shaping."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
from pydantic import BaseModel, Field

from backend.integrations.sdk import ToolContext, ToolError

TRUNCATION_MARKER = "…[truncated]"


class HttpResult(BaseModel):
    """What an HTTP tool returns to the model."""

    status: int
    content_type: str | None = Field(None, serialization_alias="contentType")
    body: Any = None
    truncated: bool = False


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Reads at most ``limit`` bytes, so a huge body never lands in memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    data = b"".join(chunks)
    return data[:limit], size > limit


def shape(response: httpx.Response, data: bytes, truncated: bool) -> HttpResult:
    content_type = response.headers.get("content-type")
    body: Any = data.decode(errors="replace")
    if not truncated and content_type and "json" in content_type:
        with contextlib.suppress(ValueError):
            body = json.loads(data)
    elif truncated:
        body = f"{body}{TRUNCATION_MARKER}"
    return HttpResult(status=response.status_code, content_type=content_type, body=body, truncated=truncated)


async def send(ctx: ToolContext[Any, Any], method: str, url: str, **kwargs: Any) -> HttpResult:
    """One guarded request (redirects re-checked hop by hop), body capped at the context's limit."""
    from backend.integrations.egress import REDIRECTS

    headers = httpx.Headers(kwargs.pop("headers", None))
    async with ctx.http() as client:
        for _ in range(6):
            request = client.build_request(method, url, headers=headers, **kwargs)
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    next_url = response.url.join(location)
                    if (next_url.scheme, next_url.host, next_url.port) != (
                        response.url.scheme,
                        response.url.host,
                        response.url.port,
                    ):
                        headers = _without_credentials(headers)
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method != "GET"
                    ):
                        method = "GET"
                        kwargs = {k: v for k, v in kwargs.items() if k not in ("json", "content", "data")}
                    url = str(next_url)
                    continue
                data, truncated = await read_capped(response, ctx.max_response_bytes)
                return shape(response, data, truncated)
            finally:
                await response.aclose()
    raise ToolError("too many redirects")


def _without_credentials(headers: httpx.Headers) -> httpx.Headers:
    kept = httpx.Headers(headers)
    for name in ("authorization", "cookie", "proxy-authorization", "x-api-key"):
        kept.pop(name, None)
    return kept
