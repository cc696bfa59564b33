"""GraphQL latency with 10,000 agents: the marketplace page (20 listings) and the agent detail query.

In-process (httpx ASGITransport against the real Starlette app, real embedded PostgreSQL and Redis,
real session-token authentication and policy). Prints p50/p99 latency, sequential and concurrent
requests per second, and the SQL statements each request executes.

Run: `uv run python -m benchmarks.graphql [--requests 400] [--agents 10000]` (or the file path).
Goal: marketplace page p50 < 15 ms and <= 5 SQL statements per request.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a file, this module's directory comes first on sys.path and "graphql.py" would shadow the
# graphql-core package that Strawberry imports.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, text

from backend.db import create_engine, create_sessionmaker, transaction
from backend.db.migrate import upgrade
from backend.embedded import ensure_postgres, ensure_redis
from backend.identity.tokens import open_session
from backend.models import Membership, Organization, User
from backend.resources import ServiceUrls
from backend.settings import Settings
from graph.app import create_app

ORGS = 20
MARKETPLACE = """query($search: String, $sort: MarketplaceSort, $after: String) {
  marketplace(search: $search, sort: $sort, first: 20, after: $after) {
    totalCount facets { category count } pageInfo { hasNextPage endCursor }
    edges { cursor node { id deploymentId name description category tags icon examplePrompts
      organizationName organizationSlug usageCount deployedAt relevance } } } }"""
# Broad on purpose: "help" is in every seeded description, so all 10,000 agents are ranked.
SEARCH = "help with my travel budget"
DETAIL = """query($id: ID!) { agent(id: $id) { id slug name description category tags icon examplePrompts
  instructions model toolNames limits { maxSteps maxTokens maxRunSeconds } modelSettings { temperature }
  versions { id number changelog createdAt }
  deployment { id visibility isLive version { number } history { action at toVersion { number } } } } }"""

SEED = [
    """INSERT INTO agents (id, organization_id, slug, name, description, category, tags, tags_text,
                          example_prompts, config, created_at, updated_at)
       SELECT gen_random_uuid(), o.id, 'agent-' || i,
              (ARRAY['Trip', 'Budget', 'Support', 'Code', 'Essay'])[1 + i % 5] || ' helper ' || i,
              'Helps with ' || (ARRAY['trips and travel plans', 'budgets and invoices', 'support tickets',
                                      'code review and bugs', 'essays and blog posts'])[1 + i % 5]
                || ', variant ' || i,
              (ARRAY['travel', 'finance', 'support', 'code', 'writing'])[1 + i % 5],
              ARRAY['tag' || (i % 10), 'bench'], 'tag' || (i % 10) || ' bench', ARRAY['Try me'],
              '{"model": "offline", "instructions": "Be helpful."}'::jsonb, now(), now()
       FROM generate_series(1, :n) AS i
       JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS k FROM organizations) o
         ON o.k = i % :orgs""",
    """INSERT INTO agent_versions (id, agent_id, number, config, config_hash, changelog, created_at)
       SELECT gen_random_uuid(), a.id, v, a.config, md5(a.id::text || v), 'v' || v, now()
       FROM agents a CROSS JOIN generate_series(1, 2) AS v""",
    """INSERT INTO deployments (id, agent_id, organization_id, version_id, visibility, deployed_at,
                               usage_count, category, created_at, updated_at)
       SELECT gen_random_uuid(), a.id, a.organization_id, v.id,
              CASE WHEN hashtext(a.slug) % 10 = 0 THEN 'organization' ELSE 'public' END,
              now() - (abs(hashtext(a.slug)) % 100000) * interval '1 second', abs(hashtext(a.slug)) % 500,
              a.category, now(), now()
       FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.number = 2""",
    """INSERT INTO deployment_events (id, deployment_id, action, from_version_id, to_version_id,
                                     visibility, at)
       SELECT gen_random_uuid(), d.id, 'deploy', NULL, d.version_id, d.visibility, d.deployed_at
       FROM deployments d""",
    "ANALYZE",
]


async def seed(database_url: str, agents: int, settings: Settings) -> tuple[str, uuid.UUID]:
    """Organisations, a member viewer (session token) and ``agents`` deployed agents."""
    engine = create_engine(database_url, pool_size=2)
    try:
        async with transaction(create_sessionmaker(engine)) as s:
            orgs = [Organization(slug=f"org-{i:02d}", name=f"Org {i}") for i in range(ORGS)]
            s.add_all(orgs)
            viewer = User(email="viewer@example.com", display_name="Viewer")
            s.add(viewer)
            await s.flush()
            s.add(Membership(organization_id=orgs[0].id, user_id=viewer.id, role="owner"))
            for statement in SEED:
                await s.execute(text(statement), {"n": agents, "orgs": ORGS})
            _, token = await open_session(s, settings, viewer, client_addr=None, user_agent=None)
            agent_id = await s.scalar(
                text("SELECT id FROM agents WHERE organization_id = :o LIMIT 1"), {"o": orgs[0].id}
            )
        assert agent_id is not None
        return token, agent_id
    finally:
        await engine.dispose()


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = app.state.resources.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def measure(
    client: httpx.AsyncClient,
    app: Any,
    name: str,
    query: str,
    variables: dict[str, Any],
    requests: int,
    *,
    concurrency: int = 8,
    show_sql: bool = False,
) -> None:
    async def one() -> float:
        start = time.perf_counter()
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        elapsed = time.perf_counter() - start
        body = response.json()
        if body.get("errors"):
            raise SystemExit(f"{name}: {body['errors']}")
        return elapsed

    for _ in range(30):  # warm-up: caches, prepared statements, pool
        await one()
    with statements(app) as seen:
        await one()
    started, cpu = time.perf_counter(), time.process_time()
    latencies = [await one() for _ in range(requests)]
    sequential_rps = requests / (time.perf_counter() - started)
    cpu_ms = (time.process_time() - cpu) / requests * 1000

    async def worker(n: int) -> None:
        for _ in range(n):
            await one()

    started = time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    concurrent_rps = (requests // concurrency * concurrency) / (time.perf_counter() - started)
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{name:<31} p50 {statistics.median(ms):6.2f} ms  p99 {p99:6.2f} ms  "
        f"{sequential_rps:5.0f} req/s (1 client)  {concurrent_rps:5.0f} req/s ({concurrency} clients)  "
        f"{len(seen)} SQL statements/request  {cpu_ms:5.2f} ms API CPU/request"
    )
    if show_sql:
        for statement in seen:
            print("    SQL:", " ".join(statement.split())[:140])


async def main(agents: int, requests: int, show_sql: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="agentry-bench-") as tmp:
        data_dir = Path(tmp)
        pg, rd = ensure_postgres(data_dir), ensure_redis(data_dir)
        try:
            database_url = pg.url()
            await asyncio.to_thread(upgrade, database_url)
            settings = Settings(
                env="production",
                data_dir=data_dir / "data",
                database_url=database_url,
                redis_url=rd.url(),
                secret_key="bench-" + uuid.uuid4().hex,  # type: ignore[arg-type]
                log_level="WARNING",
            )
            started = time.perf_counter()
            token, agent_id = await seed(database_url, agents, settings)
            print(
                f"seeded {agents} agents ({ORGS} organisations, 2 versions each) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            app = create_app(settings, ServiceUrls(database_url, rd.url()))
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", headers=headers
                ) as c:
                    cases = [
                        ("marketplace page (NEWEST)", MARKETPLACE, {"sort": "NEWEST"}),
                        ("marketplace page (MOST_USED)", MARKETPLACE, {"sort": "MOST_USED"}),
                        ("search, broad (RELEVANCE)", MARKETPLACE, {"search": SEARCH}),
                        ("search, selective (RELEVANCE)", MARKETPLACE, {"search": "overdue invoices"}),
                        ("agent detail", DETAIL, {"id": str(agent_id)}),
                    ]
                    for name, query, variables in cases:
                        await measure(c, app, name, query, variables, requests, show_sql=show_sql)
        finally:
            rd.stop()
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one request")
    args = parser.parse_args()
    asyncio.run(main(args.agents, args.requests, args.show_sql))
