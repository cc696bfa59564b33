"""Test infrastructure: real PostgreSQL and Redis, one fresh database per test.

By default an embedded PostgreSQL and Redis run under a temporary data dir for the
session; ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` point the suite at existing servers.
Each test gets its own database cloned from a migrated template (fast, fully isolated)
and an empty Redis database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from backend.db.migrate import upgrade
from backend.embedded import ensure_postgres, ensure_redis
from backend.resources import Resources, ServiceUrls, open_resources
from backend.settings import Settings
from graph.ws_protocol import CoalescingWebSocketProtocol

TEMPLATE_DB = "agentry_test_template"


@dataclass
class Servers:
    admin_dsn: str  # asyncpg DSN of a maintenance database
    database_url_for: Callable[[str], str]
    redis_url: str
    data_dir: Path


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("agentry-data")
    started: list[Any] = []
    db_env, redis_env = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if db_env:
        base = make_url(db_env).set(drivername="postgresql+asyncpg")

        def url_for(name: str) -> str:
            return base.set(database=name).render_as_string(hide_password=False)

        admin = _asyncpg_dsn(base.render_as_string(hide_password=False))
    else:
        pg = ensure_postgres(data_dir)
        started.append(pg)
        url_for = pg.url
        admin = _asyncpg_dsn(pg.url("postgres"))
    if redis_env:
        redis_url = redis_env
    else:
        rd = ensure_redis(data_dir)
        started.append(rd)
        redis_url = rd.url()
    yield Servers(admin, url_for, redis_url, data_dir)
    for service in reversed(started):
        service.stop()


@pytest.fixture(scope="session")
async def template_db(servers: Servers) -> str:
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, servers.database_url_for(TEMPLATE_DB))
    return TEMPLATE_DB


async def create_database(servers: Servers, template: str | None) -> str:
    name = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return name


async def drop_database(servers: Servers, name: str) -> None:
    conn = await asyncpg.connect(servers.admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def database_url(servers: Servers, template_db: str) -> AsyncIterator[str]:
    name = await create_database(servers, template_db)
    yield servers.database_url_for(name)
    await drop_database(servers, name)


@pytest.fixture
async def redis_url(servers: Servers) -> AsyncIterator[str]:
    client = Redis.from_url(servers.redis_url)
    await client.flushdb()
    yield servers.redis_url
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-" + secrets.token_hex(16),  # type: ignore[arg-type]
        log_format="console",
        log_level="WARNING",
    )


@pytest.fixture
def service_urls(settings: Settings) -> ServiceUrls:
    assert settings.database_url and settings.redis_url
    return ServiceUrls(settings.database_url, settings.redis_url)


@pytest.fixture
async def resources(settings: Settings, service_urls: ServiceUrls) -> AsyncIterator[Resources]:
    res = await open_resources(settings, service_urls)
    yield res
    await res.close()


@pytest.fixture
async def app(settings: Settings, service_urls: ServiceUrls) -> AsyncIterator[Any]:
    """The ASGI app with its lifespan running (resources open)."""
    from graph.app import create_app

    application = create_app(settings, service_urls)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


GqlCall = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GqlCall:
    """POST a GraphQL operation; returns the whole response body (data and errors)."""

    async def call(
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=hdrs
        )
        body: dict[str, Any] = response.json()
        return body

    return call


@pytest.fixture
async def live_server(app: Any) -> AsyncIterator[str]:
    """The app served by uvicorn on a free loopback port (for websockets and real sockets)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws=CoalescingWebSocketProtocol
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
