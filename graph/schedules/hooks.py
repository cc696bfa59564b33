"""``POST /hooks/{token}``: an inbound webhook starts a run and answers ``202 {"runId": ...}``.

Order of checks (cheapest and least revealing first): body size (413, BodyLimitMiddleware in
graph/app.py) -> token (404 for unknown and revoked alike) -> per-trigger rate limit (429) -> JSON (400)
-> creator still allowed (403) / deployment live (409) -> run input acceptable (400). The run row is
committed before it is enqueued.
"""

from __future__ import annotations

import json
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from backend.authz import Actor
from backend.errors import Conflict, Invalid
from backend.logging import log
from backend.resources import Resources
from backend.runs.dispatch import unit_of_work
from backend.webhooks import ratelimit
from backend.webhooks import service as webhooks
from backend.webhooks.schemas import DEFAULT_RATE_PER_MINUTE
from graph.request_id import current_request_id


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _parse(body: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False, None


async def hook(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    body = await request.body()  # size-limited by BodyLimitMiddleware (413)
    async with resources.sessions() as session:
        trigger = await webhooks.find_active(session, request.path_params["token"])
    if trigger is None:
        return _error(404, "not found")
    limit = int((trigger.settings or {}).get("rate_limit_per_minute", DEFAULT_RATE_PER_MINUTE))
    try:
        retry_after = await ratelimit.hit(resources.redis, trigger.id, limit)
    except RedisError:  # without its limiter (and queue) the endpoint refuses rather than runs unbounded
        return _error(503, "temporarily unavailable", **{"Retry-After": "5"})
    if retry_after:
        return _error(429, "rate limit exceeded", **{"Retry-After": str(retry_after)})
    ok, payload = _parse(body)
    if not ok:
        return _error(400, "body must be JSON")
    caller = Actor.anonymous(
        client_addr=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=current_request_id(),
    )
    try:
        async with unit_of_work(resources) as session:  # commit, then enqueue the run
            fired = await webhooks.fire(session, caller, trigger_id=trigger.id, payload=payload)
    except (Invalid, Conflict) as exc:  # e.g. an empty message, or a configuration that cannot run
        return _error(400 if isinstance(exc, Invalid) else 409, exc.message)
    if fired.run_id is None:
        if fired.refused == "revoked":
            return _error(404, "not found")
        log.info("webhook.refused", trigger_id=str(trigger.id), reason=fired.refused)
        return _error(
            403 if (fired.refused or "").startswith("creator") else 409, f"refused: {fired.refused}"
        )
    return JSONResponse({"runId": str(fired.run_id)}, status_code=202)


ROUTES = [Route("/hooks/{token}", hook, methods=["POST"])]
