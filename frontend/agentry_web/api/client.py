"""HTTP client for the API: health probe and GraphQL queries/mutations.

The API location comes from ``AGENTRY_API_URL``, set by ``agentry web`` from the main project's settings; the
web tier deliberately has no settings object of its own.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
# Short, because a page handler waits on it; slow operations should run as background events.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
HEALTH_TIMEOUT = httpx.Timeout(3.0)


class ApiError(Exception):
    """A GraphQL error, or the API being unreachable (code ``UNAVAILABLE``)."""

    def __init__(self, message: str, code: str = "INTERNAL", path: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path or []


def api_url() -> str:
    return os.environ.get("AGENTRY_API_URL", DEFAULT_API_URL).rstrip("/")


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def health() -> bool:
    """True when ``GET /healthz`` answers ``{"status": "ok"}``; never raises."""
    try:
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT) as client:
            response = await client.get(f"{api_url()}/healthz")
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


async def graphql(
    query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """Run one query or mutation and return its ``data``.

    Raises :class:`ApiError` with the first error's ``extensions.code`` (API.md "Errors") when the response
    carries errors, so callers handle one exception type.
    """
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(
                f"{api_url()}/graphql",
                json={"query": query, "variables": variables or {}},
                headers=_headers(token),
            )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ApiError(f"API unreachable: {exc}", code="UNAVAILABLE") from exc
    raise_for_errors(body)
    return body.get("data") or {}


def raise_for_errors(body: dict[str, Any]) -> None:
    """Raise the first GraphQL error of a response or subscription payload, if any."""
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "INTERNAL")
        raise ApiError(first.get("message", "error"), code=code, path=first.get("path"))
