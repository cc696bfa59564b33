"""Cost of authorisation: one protected field, one filtered list page, and its share of a page query.

Starts embedded PostgreSQL and Redis in a temporary directory, seeds an organisation with
agents deployed to the marketplace (through the GraphQL API), then measures:

* authorising one field: ``allowed_fields`` on an agent (warm: plan compiled; cold: first use
  by a new principal, which partially evaluates the Polar policy once);
* filtering one list page: ``authorized_select`` + executing a 20-row page;
* a marketplace page query end to end, and the share of it spent in ``backend.authz``.

Run: `uv run python benchmarks/authz.py` (or `uv run python -m benchmarks.authz`)
"""

from __future__ import annotations

import os
import sys

# benchmarks/graphql.py would shadow the graphql package when run as a script.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path[0] = os.path.dirname(sys.path[0])

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend.authz import Actor, allowed_fields, authorized_select
from backend.authz import api as authz_api
from backend.authz import principal as authz_principal
from backend.authz.plan import Plan
from backend.db.migrate import upgrade
from backend.embedded import ensure_postgres, ensure_redis
from backend.identity import tokens as identity_tokens
from backend.models import Agent, Deployment
from backend.resources import ServiceUrls
from backend.settings import Settings

AGENTS = 60
SAMPLES = 400
PAGE_QUERY = """{ marketplace(first: 20) { edges { node { id name description category tags
  organizationName usageCount } } pageInfo { hasNextPage endCursor } } }"""
AGENT_QUERY = "query($id: ID!) { agent(id: $id) { id name description instructions model } }"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def show(name: str, samples_ms: list[float]) -> None:
    print(
        f"{name:<58} p50 {pct(samples_ms, 0.5) * 1000:8.1f} µs   p99 {pct(samples_ms, 0.99) * 1000:8.1f} µs"
    )


class AuthzClock:
    """Accumulates wall time spent inside backend.authz (outermost calls only)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.depth = 0

    def wrap(self, owner: Any, name: str) -> None:
        original = getattr(owner, name)
        clock = self

        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                clock.depth += 1
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    clock.depth -= 1
                    if clock.depth == 0:
                        clock.total += time.perf_counter() - start

            setattr(owner, name, timed_async)
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:
                clock.depth += 1
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    clock.depth -= 1
                    if clock.depth == 0:
                        clock.total += time.perf_counter() - start

            setattr(owner, name, timed)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = (
        await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    ).json()
    if body.get("errors") and not body.get("data"):
        raise RuntimeError(body["errors"])
    return body


async def seed(client: httpx.AsyncClient) -> tuple[str, str, str]:
    signup = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }"
    owner = (
        await gql(
            client,
            signup,
            {"i": {"email": "owner@bench.test", "password": "benchmark password", "displayName": "Owner"}},
        )
    )["data"]["signUp"]["token"]
    member = (
        await gql(
            client,
            signup,
            {"i": {"email": "member@bench.test", "password": "benchmark password", "displayName": "Member"}},
        )
    )["data"]["signUp"]["token"]
    org = (
        await gql(
            client,
            'mutation { createOrganization(input: {name: "Bench", slug: "bench"}) { id } }',
            token=owner,
        )
    )["data"]["createOrganization"]["id"]
    await gql(
        client,
        'mutation($o: ID!) { addMember(input: {organizationId: $o, email: "member@bench.test", '
        "role: MEMBER}) { id } }",
        {"o": org},
        token=owner,
    )
    agent_id = ""
    for i in range(AGENTS):
        agent_id = (
            await gql(
                client,
                "mutation($i: CreateAgentInput!) { createAgent(input: $i) { id } }",
                {
                    "i": {
                        "organizationId": org,
                        "name": f"Agent {i}",
                        "description": "Helps with tasks",
                        "instructions": "secret",
                        "category": "Support",
                    }
                },
                token=owner,
            )
        )["data"]["createAgent"]["id"]
        version = (
            await gql(
                client,
                "mutation($a: ID!) { publishAgentVersion(input: {agentId: $a}) { id } }",
                {"a": agent_id},
                token=owner,
            )
        )["data"]["publishAgentVersion"]["id"]
        await gql(
            client,
            "mutation($v: ID!) { deployAgent(input: {versionId: $v}) { id } }",
            {"v": version},
            token=owner,
        )
    return owner, member, agent_id


async def timed_loop(samples: int, fn: Callable[[], Any]) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def run(settings: Settings, urls: ServiceUrls) -> None:
    from graph.app import create_app

    app = create_app(settings, urls)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            _owner, member, agent_id = await seed(client)
            resources = app.state.resources
            me = (await gql(client, "{ viewer { id } }", token=member))["data"]["viewer"]["id"]
            actor = Actor(kind="user", user_id=me)  # type: ignore[arg-type]
            async with resources.sessions() as s:
                agent = await s.get(Agent, agent_id)
                await allowed_fields(s, actor, agent)  # warm: principal loaded, plans compiled
                show(
                    "authorise one field (allowed_fields, warm)",
                    await timed_loop(SAMPLES, lambda: allowed_fields(s, actor, agent)),
                )

                async def cold() -> None:
                    fresh = Actor(kind="user", user_id=me)  # type: ignore[arg-type]
                    authz_api.compiler()._cache.clear()
                    await allowed_fields(s, fresh, agent)

                show("authorise one field (cold: new principal, policy compiled)", await timed_loop(40, cold))

                async def build() -> None:
                    await authorized_select(s, actor, "use", Deployment)

                show("filter one list page: build the SQL filter (warm)", await timed_loop(SAMPLES, build))

                async def page() -> None:
                    stmt = (
                        (await authorized_select(s, actor, "use", Deployment))
                        .order_by(Deployment.id)
                        .limit(20)
                    )
                    (await s.scalars(stmt)).all()

                show("filter one list page: build + execute 20 rows", await timed_loop(SAMPLES, page))
                plain = select(Deployment).order_by(Deployment.id).limit(20)
                show(
                    "  (same page without authorisation)", await timed_loop(SAMPLES, lambda: s.scalars(plain))
                )

            clock = AuthzClock()
            clock.wrap(authz_api, "plan_for")
            clock.wrap(authz_api, "load_principal")
            clock.wrap(authz_principal, "load_principal")
            clock.wrap(identity_tokens, "load_principal")  # roles loaded while resolving the token
            clock.wrap(Plan, "matches")
            clock.wrap(Plan, "select")
            for query, variables, label in (
                (PAGE_QUERY, None, "marketplace page (20 listings)"),
                (AGENT_QUERY, {"id": agent_id}, "agent(id) with 2 protected fields (member: denied)"),
            ):
                totals, shares = [], []
                for _ in range(60):
                    clock.total = 0.0
                    start = time.perf_counter()
                    await gql(client, query, variables, token=member)
                    elapsed = time.perf_counter() - start
                    totals.append(elapsed * 1000)
                    shares.append(clock.total / elapsed)
                print(
                    f"{label:<58} total p50 {pct(totals, 0.5):6.2f} ms   p99 {pct(totals, 0.99):6.2f} ms   "
                    f"authorisation share median {statistics.median(shares) * 100:5.1f}%  "
                    f"max {max(shares) * 100:5.1f}%"
                )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agentry-bench-authz-") as tmp:
        data_dir = Path(tmp)
        pg, rd = ensure_postgres(data_dir), ensure_redis(data_dir)
        try:
            upgrade(pg.url())
            settings = Settings(
                env="test",
                data_dir=data_dir,
                database_url=pg.url(),
                redis_url=rd.url(),
                log_level="WARNING",
                secret_key="bench-secret-key-0123456789",
            )  # type: ignore[arg-type]
            asyncio.run(run(settings, ServiceUrls(pg.url(), rd.url())))
        finally:
            rd.stop()
            pg.stop()


if __name__ == "__main__":
    main()
