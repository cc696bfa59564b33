"""Platform overhead per tool call: what the integrations layer adds on top of the peer's own time.

Starts an embedded PostgreSQL (migrated), a loopback HTTP peer answering ``GET /ping``, one org with
an ``http`` integration bound to an agent, and a run. Then, alternately and on warm connections:

- raw: the same request through a plain ``httpx.AsyncClient`` (peer time + loopback HTTP);
- tool: ``ToolExecutor.call("request", ...)``, i.e. binding check, authorisation (``invoke``),
  secrets (decrypted once per run), egress check + pinned connection, argument validation,
  timeout, result shaping, redaction and size cap.

Overhead per call = tool - raw of the same pair; p50/p99 are reported (goal: p50 < 2 ms).
Run: ``uv run python benchmarks/tools.py [calls]``
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.authz import Actor
from backend.db import create_engine, create_sessionmaker, transaction, uuid7
from backend.db.migrate import upgrade
from backend.embedded import ensure_postgres
from backend.integrations import service
from backend.integrations.schemas import CreateIntegrationInput
from backend.integrations.toolset import build_integration_toolset
from backend.models import Agent, Membership, Organization, Run, User
from backend.settings import Settings

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WARMUP = 50


async def ping(request: Request) -> Response:
    return JSONResponse({"pong": True, "q": request.query_params.get("i")})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def setup(settings: Settings, sessions: object, base_url: str) -> tuple[Run, Actor]:
    async with transaction(sessions) as s:  # type: ignore[arg-type]
        org = Organization(id=uuid7(), slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench")
        user = User(id=uuid7(), email=f"bench-{uuid.uuid4().hex[:6]}@example.com", display_name="bench")
        s.add_all([org, user])
        await s.flush()
        s.add(Membership(organization_id=org.id, user_id=user.id, role="owner"))
        await s.flush()
        owner = Actor(kind="user", user_id=user.id)
        integration = await service.create_integration(
            s,
            owner,
            settings,
            CreateIntegrationInput(
                organization_id=org.id,
                type="http",
                name="peer",
                config={"baseUrl": base_url},
                secrets={"authorization": "Bearer bench-secret-token"},
            ),
        )
        config = {
            "instructions": "",
            "model": "offline",
            "tools": [{"integration_id": str(integration.id), "tools": None}],
        }
        agent = Agent(
            id=uuid7(),
            organization_id=org.id,
            slug="bench",
            name="Bench",
            description="",
            config=config,
            created_by_id=user.id,
            tags=[],
        )
        s.add(agent)
        await s.flush()
        run = Run(
            id=uuid7(),
            organization_id=org.id,
            agent_id=agent.id,
            user_id=user.id,
            trigger="api",
            status="running",
            config=config,
            started_at=datetime.now(UTC),
        )
        s.add(run)
    actor = Actor.for_run(user_id=user.id, organization_id=org.id, agent_id=agent.id, run_id=run.id)
    return run, actor


async def measure(database_url: str) -> tuple[list[float], list[float], list[float]]:
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key="bench-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        egress_allow="127.0.0.1",
        log_level="WARNING",
    )
    engine = create_engine(database_url, pool_size=5)
    sessions = create_sessionmaker(engine)
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/ping", ping)]),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn exposes no event)
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    raw, tool, overhead = [], [], []
    try:
        run, actor = await setup(settings, sessions, base_url)
        async with sessions() as s:
            toolset = await build_integration_toolset(s, run, actor, settings=settings, sessions=sessions)
        async with toolset, httpx.AsyncClient(base_url=base_url) as plain:
            for i in range(WARMUP + CALLS):
                t0 = time.perf_counter()
                response = await plain.get(
                    "/ping", params={"i": str(i)}, headers={"Authorization": "Bearer bench-secret-token"}
                )
                t1 = time.perf_counter()
                result = await toolset.executor.call(
                    "request", {"path": "/ping", "query": {"i": i}}, tool_call_id=f"c{i}"
                )
                t2 = time.perf_counter()
                assert response.status_code == 200 and result["body"]["pong"] is True
                if i >= WARMUP:
                    raw.append((t1 - t0) * 1000)
                    tool.append((t2 - t1) * 1000)
                    overhead.append(((t2 - t1) - (t1 - t0)) * 1000)
    finally:
        server.should_exit = True
        await task
        await engine.dispose()
    return raw, tool, overhead


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agentry-bench-") as tmp:
        pg = ensure_postgres(Path(tmp))
        try:
            upgrade(pg.url())
            started = time.monotonic()
            raw, tool, overhead = asyncio.run(measure(pg.url()))
        finally:
            pg.stop()
    print(f"tool calls: {len(tool)} (wall {time.monotonic() - started:.1f} s)")
    print(
        f"  raw HTTP request (peer + loopback): p50 {statistics.median(raw):.2f} ms, "
        f"p99 {percentile(raw, 0.99):.2f} ms"
    )
    print(
        f"  http.request tool call:             p50 {statistics.median(tool):.2f} ms, "
        f"p99 {percentile(tool, 0.99):.2f} ms"
    )
    print(
        f"  platform overhead per call:         p50 {statistics.median(overhead):.2f} ms, "
        f"p99 {percentile(overhead, 0.99):.2f} ms (goal p50 < 2 ms)"
    )


if __name__ == "__main__":
    main()
