"""Turns an ``Authorization`` header into an :class:`Actor` via the identity service."""

from __future__ import annotations

from backend.authz import Actor
from backend.errors import Unauthenticated
from backend.resources import Resources


async def authenticate(
    resources: Resources,
    header: str,
    *,
    client_addr: str | None,
    user_agent: str | None,
    request_id: str | None,
) -> Actor:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Expected 'Authorization: Bearer <token>'")
    from backend.identity.tokens import resolve_token

    return await resolve_token(
        resources, token.strip(), client_addr=client_addr, user_agent=user_agent, request_id=request_id
    )
