"""``GET /audit/export?organizationId=``: the organisation's audit chain as JSON Lines.

Authenticated with the same bearer token as GraphQL; needs ``read_audit`` (audit:read for keys).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from backend.audit import export_jsonl
from backend.authz import Actor, authorize
from backend.errors import DomainError, Invalid, Unauthenticated
from backend.orgs.service import get_organization
from graph.auth import authenticate
from graph.request_id import current_request_id

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "BAD_USER_INPUT": 400}


async def _actor(request: Request) -> Actor:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("Expected 'Authorization: Bearer <token>'")
    addr = request.client.host if request.client else None
    return await authenticate(
        request.app.state.resources,
        header,
        client_addr=addr,
        user_agent=request.headers.get("user-agent"),
        request_id=current_request_id(),
    )


async def export(request: Request) -> Response:
    try:
        actor = await _actor(request)
        try:
            org_id = uuid.UUID(request.query_params.get("organizationId", ""))
        except ValueError:
            raise Invalid("organizationId: not a valid id", field="organizationId") from None
        async with request.app.state.resources.sessions() as session:
            await authorize(session, actor, "read_audit", await get_organization(session, org_id))
    except DomainError as err:
        return JSONResponse(
            {"error": {"code": err.code, "message": err.message}}, status_code=STATUS.get(err.code, 400)
        )

    async def lines() -> AsyncIterator[str]:
        async with request.app.state.resources.sessions() as session:
            async for line in export_jsonl(session, org_id):
                yield line

    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="audit-{org_id}.jsonl"'},
    )


ROUTES = [Route("/audit/export", export, methods=["GET"])]
