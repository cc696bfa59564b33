"""ASGI composition root: Starlette with GraphQL, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.authz.changes import ChangeListener
from backend.events.codec import RUN_CHANNEL_PREFIX
from backend.events.hub import follow_prefix
from backend.identity.authcache import AuthCache
from backend.logging import configure_logging, log
from backend.resources import Resources, ServiceUrls, open_resources
from backend.schema_version import head_revision
from backend.settings import Settings, get_settings
from backend.webhooks.schemas import MAX_BODY_BYTES as WEBHOOK_MAX_BODY_BYTES
from graph.request_id import RequestIdMiddleware
from graph.schema import build_schema
from graph.view import AgentryGraphQL

MAX_BODY_BYTES = 1_000_000

HTTP_REQUESTS = Counter("agentry_http_requests_total", "HTTP requests", ["route", "status"])
HTTP_LATENCY = Histogram("agentry_http_request_seconds", "HTTP request latency", ["route"])


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, declared or streamed, before they are parsed.

    ``path_limits`` sets smaller limits under path prefixes (inbound webhooks take 64 KiB).
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, path_limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.path_limits = path_limits or {}

    def _limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.path_limits.items() if path.startswith(prefix)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope.get("path", ""))
        too_large = JSONResponse(
            {"errors": [{"message": "Request body too large", "extensions": {"code": "BAD_USER_INPUT"}}]},
            status_code=413,
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except _BodyTooLarge:
            if not started:
                await too_large(scope, receive, send)


class MetricsMiddleware:
    """Counts requests and observes latency per route (path templates, not raw paths)."""

    KNOWN = {"/graphql", "/healthz", "/readyz", "/metrics"}

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in self.KNOWN else ("/hooks" if path.startswith("/hooks/") else "other")
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with HTTP_LATENCY.labels(route).time():
            try:
                await self.app(scope, receive, record)
            finally:
                HTTP_REQUESTS.labels(route, str(status)).inc()


def create_app(settings: Settings | None = None, urls: ServiceUrls | None = None) -> Starlette:
    settings = settings or get_settings()
    state: dict[str, Resources] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.log_renderer, settings.log_level)
        resources = await open_resources(settings, urls)
        listener = ChangeListener(resources.urls.database_url)
        await listener.start()
        resources.auth_cache = AuthCache(listener, settings.auth_cache_seconds)
        # Every chat message opens a runEvents stream: one pattern subscription serves them all.
        follow_prefix(resources.redis, RUN_CHANNEL_PREFIX)
        # Start-up objects (schema, policies, models) live forever: keep them out of every GC pass.
        gc.collect()
        gc.freeze()
        state["resources"] = resources
        app.state.resources = resources
        log.info("api.started", url=settings.api_url)
        try:
            yield
        finally:
            await listener.stop()
            await resources.close()

    def resources() -> Resources:
        return state["resources"]

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        res = resources()
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(2), res.engine.connect() as conn:
                current = await conn.scalar(text("SELECT max(version_num) FROM alembic_version"))
            checks["postgres"] = "ok"
            checks["schema"] = "ok" if current == head_revision() else f"pending: at {current}"
        except Exception as exc:  # readiness reports, never raises
            checks["postgres"] = f"error: {type(exc).__name__}"
        try:
            async with asyncio.timeout(2):
                await res.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()] + [settings.web_url]
    graphql = AgentryGraphQL(
        build_schema(development=settings.dev), resources, development=settings.dev, origins=origins
    )
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    routes.extend(_extra_routes(resources))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(MetricsMiddleware),
            Middleware(BodyLimitMiddleware, path_limits={"/hooks/": WEBHOOK_MAX_BODY_BYTES}),
        ],
    )


def _extra_routes(resources: object) -> list[Route]:
    """Non-GraphQL HTTP endpoints contributed by domains (e.g. inbound webhooks)."""
    from graph.audit.export import ROUTES as AUDIT_ROUTES
    from graph.schedules.hooks import ROUTES as HOOK_ROUTES

    return [*HOOK_ROUTES, *AUDIT_ROUTES]
