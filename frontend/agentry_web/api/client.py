"""HTTP client for the API: health probe and GraphQL queries/mutations.

The API location comes from ``AGENTRY_API_URL``, set by ``agentry web`` from the main project's settings; the
web tier deliberately has no settings object of its own.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
# Short, because a page handler waits on it; slow operations should run as background events.
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
HEALTH_TIMEOUT = httpx.Timeout(3.0)


class ApiError(Exception):
    """A GraphQL error, or the API being unreachable (code ``UNAVAILABLE``)."""

    def __init__(
        self, message: str, code: str = "INTERNAL", path: list[Any] | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.path = path or []
        # Technical cause (logs only): pages show ``str(error)``, which stays a sentence for people.
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)


def api_url() -> str:
    return os.environ.get("AGENTRY_API_URL", DEFAULT_API_URL).rstrip("/")


# One pooled client per event loop (the Reflex backend has one): creating an httpx client builds an SSL
# context, which costs tens of milliseconds, and a pool keeps connections to the API alive between calls.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(timeout=TIMEOUT)
    return client


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def health() -> bool:
    """True when ``GET /healthz`` answers ``{"status": "ok"}``; never raises."""
    try:
        response = await _client().get(f"{api_url()}/healthz", timeout=HEALTH_TIMEOUT)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


async def graphql(
    query: str, variables: dict[str, Any] | None = None, token: str | None = None, *, partial: bool = False
) -> dict[str, Any]:
    """Run one query or mutation and return its ``data``.

    Raises :class:`ApiError` with the first error's ``extensions.code`` (API.md "Errors") when the response
    carries errors, so callers handle one exception type. With ``partial``, field errors are tolerated when
    there is data (the failed fields are null), e.g. for optional decorations fetched in one request.
    """
    try:
        response = await _client().post(
            f"{api_url()}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=_headers(token),
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise unreachable(exc) from exc
    if not (partial and body.get("data")):
        raise_for_errors(body)
    return body.get("data") or {}


UNREACHABLE = "The Agentry API is unreachable right now. Please try again in a moment."


def unreachable(exc: BaseException) -> ApiError:
    return ApiError(UNREACHABLE, code="UNAVAILABLE", detail=f"{type(exc).__name__}: {exc}")


def raise_for_errors(body: dict[str, Any]) -> None:
    """Raise the first GraphQL error of a response or subscription payload, if any."""
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "INTERNAL")
        raise ApiError(first.get("message", "error"), code=code, path=first.get("path"))
