"""The API process: health, readiness, metrics, request ids, error codes and masking."""

from __future__ import annotations

from typing import Any

import httpx
import strawberry

from backend.errors import NotFound
from tests.conftest import error_codes


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "schema": "ok", "redis": "ok"}


async def test_readyz_reports_unavailable_redis(app: Any, client: httpx.AsyncClient) -> None:
    from redis.asyncio import Redis

    resources = app.state.resources
    real = resources.redis
    resources.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        ready = await client.get("/readyz")
    finally:
        await resources.redis.aclose()
        resources.redis = real
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("error")
    assert ready.json()["checks"]["postgres"] == "ok"


async def test_metrics_exposes_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'agentry_http_requests_total{route="/healthz",status="200"}' in response.text


async def test_request_id_is_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) >= 16
    echoed = await client.get("/healthz", headers={"X-Request-Id": "trace-abc-12345"})
    assert echoed.headers["x-request-id"] == "trace-abc-12345"
    unsafe = await client.get("/healthz", headers={"X-Request-Id": "bad id\nwith newline"})
    assert unsafe.headers["x-request-id"] != "bad id\nwith newline"


async def test_invalid_query_is_bad_user_input(gql: Any) -> None:
    body = await gql("{ noSuchField }")
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_oversized_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{" + b" " * 1_100_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_batched_operations_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": "{ apiVersion }"}, {"query": "{ apiVersion }"}])
    assert response.status_code == 400


def _schema_with_failures() -> strawberry.Schema:
    from graph.errors import CodedErrors

    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> str:
            raise RuntimeError("database password is hunter2")

        @strawberry.field
        def missing(self) -> str:
            raise NotFound("No such agent")

    return strawberry.Schema(query=Query, extensions=[CodedErrors(lambda: "req-123")])


async def test_unexpected_errors_are_masked_with_request_id() -> None:
    result = await _schema_with_failures().execute("{ boom }")
    assert result.errors is not None
    error = result.errors[0]
    assert error.message == "Internal error"
    assert "hunter2" not in str(error.formatted)
    assert error.extensions == {"code": "INTERNAL", "requestId": "req-123"}


async def test_domain_errors_keep_message_and_code() -> None:
    result = await _schema_with_failures().execute("{ missing }")
    assert result.errors is not None
    assert result.errors[0].message == "No such agent"
    assert result.errors[0].extensions == {"code": "NOT_FOUND"}


async def test_readyz_waits_for_migrations(servers: Any, settings: Any, redis_url: str) -> None:
    import asyncio

    from backend.db.migrate import upgrade
    from backend.resources import ServiceUrls
    from graph.app import create_app
    from tests.conftest import create_database, drop_database

    name = await create_database(servers, template=None)
    url = servers.database_url_for(name)
    try:
        await asyncio.to_thread(upgrade, url, "0001")
        behind = create_app(settings, ServiceUrls(url, redis_url))
        async with behind.router.lifespan_context(behind):
            transport = httpx.ASGITransport(app=behind)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                ready = await c.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["schema"] == "pending: at 0001"
                await asyncio.to_thread(upgrade, url)
                assert (await c.get("/readyz")).status_code == 200
    finally:
        await drop_database(servers, name)
