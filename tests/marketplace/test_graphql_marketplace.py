"""The marketplace through GraphQL: listings only (never configuration), facets, paging, and a
statement budget that does not grow with the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from backend.db import transaction
from tests.agents.factories import World, make_world
from tests.conftest import error_codes
from tests.marketplace.seeding import seed_listings

PAGE = """query($search: String, $category: String, $sort: MarketplaceSort, $first: Int, $after: String) {
  marketplace(search: $search, category: $category, sort: $sort, first: $first, after: $after) {
    totalCount facets { category count }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id deploymentId agentId name description category tags icon examplePrompts
      organizationName organizationSlug visibility usageCount deployedAt relevance } } } }"""


@pytest.fixture
async def world(app: Any) -> World:
    return await make_world(app.state.resources)


@contextmanager
def count_statements(app: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = app.state.resources.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_marketplace_page_statement_budget_is_independent_of_page_size(
    gql: Any, app: Any, world: World
) -> None:
    async with transaction(app.state.resources.sessions) as s:
        await seed_listings(s, world.a.id, 120)
    await app.state.resources.auth_cache.listener.barrier()  # the seed's authz notifications are in
    counts = {}
    for first in (1, 20, 100):
        await gql(PAGE, {"first": first}, world.tokens["member"])  # warm the token's last-seen touch
        with count_statements(app) as statements:
            body = await gql(PAGE, {"first": first, "sort": "NEWEST"}, world.tokens["member"])
        assert not body.get("errors"), body
        assert len(body["data"]["marketplace"]["edges"]) == first
        counts[first] = len(statements)
    assert counts[1] == counts[20] == counts[100], counts
    assert counts[100] <= 5, counts


async def test_agent_relations_use_loaders(gql: Any, app: Any, world: World) -> None:
    """Agents with versions (+ config, author), deployment (+ history, version) and organisation:
    1 or 25 agents cost the same number of statements."""
    async with transaction(app.state.resources.sessions) as s:
        await seed_listings(s, world.a.id, 30)
    query = """query($slug: String!) { organization(slug: $slug) { agents(first: FIRST) {
      totalCount edges { node { name instructions toolNames organization { slug }
        versions { number author { id } config { model } }
        deployment { id version { number } agent { name }
          history { action actor { id } toVersion { number } } }
      } } } } }"""
    await app.state.resources.auth_cache.listener.barrier()  # the seed's authz notifications are in
    counts = {}
    for first in (1, 25):
        sized = query.replace("FIRST", str(first))
        await gql(sized, {"slug": world.a.slug}, world.tokens["owner"])
        with count_statements(app) as statements:
            body = await gql(sized, {"slug": world.a.slug}, world.tokens["owner"])
        assert not body.get("errors"), body["errors"]
        assert len(body["data"]["organization"]["agents"]["edges"]) == first
        counts[first] = len(statements)
    assert counts[1] == counts[25], counts


async def test_listings_never_expose_configuration(gql: Any, world: World) -> None:
    body = await gql("{ marketplace { edges { node { instructions } } } }", None, world.tokens["member"])
    assert error_codes(body) == ["BAD_USER_INPUT"]  # the field does not exist on Listing


async def test_pages_and_facets_through_graphql(gql: Any, app: Any, world: World) -> None:
    async with transaction(app.state.resources.sessions) as s:
        await seed_listings(s, world.a.id, 45)
    seen: list[str] = []
    after = None
    while True:
        body = await gql(
            PAGE,
            {"first": 10, "after": after, "category": "travel", "sort": "MOST_USED"},
            world.tokens["member"],
        )
        conn = body["data"]["marketplace"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 9 == conn["totalCount"]
    assert sum(f["count"] for f in conn["facets"]) == 45
    bad = await gql(PAGE, {"after": "nonsense"}, world.tokens["member"])
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_search_pages_with_facets_and_category(gql: Any, app: Any, world: World) -> None:
    """The search path computes page and facets from one ranked set; paging stays exact."""
    async with transaction(app.state.resources.sessions) as s:
        await seed_listings(s, world.a.id, 60)
    seen: list[str] = []
    relevance: list[float] = []
    after = None
    while True:
        variables = {"search": "trips budgets", "category": "travel", "first": 4, "after": after}
        conn = (await gql(PAGE, variables, world.tokens["member"]))["data"]["marketplace"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        relevance += [e["node"]["relevance"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 12 == conn["totalCount"]
    assert relevance == sorted(relevance, reverse=True)
    assert {(f["category"], f["count"]) for f in conn["facets"]} == {("travel", 12), ("finance", 12)}
    empty = (await gql(PAGE, {"search": "trips", "category": "nothing-here"}, world.tokens["member"]))["data"]
    assert empty["marketplace"]["edges"] == [] and empty["marketplace"]["totalCount"] == 0
    assert {f["category"] for f in empty["marketplace"]["facets"]} == {"travel"}
