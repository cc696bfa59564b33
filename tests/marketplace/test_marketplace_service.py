"""Marketplace at the service level: ranking, keyset paging, facets and visibility."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.agents import service as agents
from backend.authz import Actor
from backend.db import transaction
from backend.errors import Invalid
from backend.marketplace import service
from backend.marketplace.schemas import Query, Sort
from backend.resources import Resources
from tests.agents.factories import World, make_world
from tests.marketplace.seeding import seed_listings


async def _call(resources: Resources, fn: Any, *args: Any, **kwargs: Any) -> Any:
    async with transaction(resources.sessions) as session:
        return await fn(session, *args, **kwargs)


async def _deployed(
    resources: Resources, actor: Actor, org: uuid.UUID, visibility: str = "public", **data: Any
) -> Any:
    agent = await _call(resources, agents.create, actor, organization_id=org, data=data)
    version = await _call(resources, agents.publish, actor, agent_id=agent.id)
    return await _call(resources, agents.deploy, actor, version_id=version.id, visibility=visibility)


@pytest.fixture
async def world(resources: Resources) -> World:
    return await make_world(resources)


async def _all(resources: Resources, actor: Actor, page_size: int, **kw: Any) -> list[Any]:
    seen: list[Any] = []
    after = None
    while True:
        async with resources.sessions() as s:
            page = await service.listings(s, actor, first=page_size, after=after, **kw)
        seen.extend(page.listings)
        if not page.has_next_page:
            return seen
        after = page.end_cursor


async def test_descriptive_query_ranks_best_match_first(resources: Resources, world: World) -> None:
    catalogue = [
        (
            "Japan Trip Planner",
            "Plans a trip to Japan: itineraries, rail passes, ryokan stays.",
            "travel",
            ["travel", "japan"],
        ),
        ("Travel Budget Tracker", "Tracks what a trip costs.", "finance", ["travel", "budget"]),
        ("Tax Helper", "Answers questions about income tax returns.", "finance", ["tax"]),
        ("Recipe Chef", "Suggests Japanese recipes for dinner.", "cooking", ["food"]),
        ("Code Reviewer", "Reviews pull requests.", "code", []),
    ]
    for name, description, category, tags in catalogue:
        await _deployed(
            resources,
            world.owner,
            world.a.id,
            name=name,
            description=description,
            category=category,
            tags=tags,
        )
    async with resources.sessions() as s:
        page = await service.listings(s, world.member, search="help me plan a trip to Japan")
    names = [listing.name for listing in page.listings]
    assert names[0] == "Japan Trip Planner"
    assert "Code Reviewer" not in names and "Tax Helper" not in names
    ranks = [listing.rank for listing in page.listings]
    assert ranks == sorted(ranks, reverse=True)
    async with resources.sessions() as s:
        strict = await service.listings(s, world.member, search='"trip planner"')
        facets = await service.facets(s, world.member, Query.build("travel", None, Sort.RELEVANCE, 20))
    assert [listing.name for listing in strict.listings] == ["Japan Trip Planner"]
    assert {(f.category, f.count) for f in facets} == {("travel", 1), ("finance", 1)}


@pytest.mark.parametrize("sort", [Sort.RELEVANCE, Sort.NEWEST, Sort.MOST_USED])
async def test_pages_through_1000_listings_without_duplicates_or_gaps(
    resources: Resources, world: World, sort: Sort
) -> None:
    async with transaction(resources.sessions) as s:
        await seed_listings(s, world.a.id, 1000)
    search = "bulk tag3" if sort is Sort.RELEVANCE else None  # two words: "every word" bonus + rank
    listings = await _all(resources, world.member, 37, sort=sort, search=search)
    ids = [listing.deployment_id for listing in listings]
    assert len(ids) == 1000 and len(set(ids)) == 1000
    keys = {
        Sort.RELEVANCE: lambda x: (x.rank, x.deployment_id),
        Sort.NEWEST: lambda x: (x.deployed_at, x.deployment_id),
        Sort.MOST_USED: lambda x: (x.usage_count, x.deployment_id),
    }[sort]
    assert [keys(x) for x in listings] == sorted((keys(x) for x in listings), reverse=True)


async def test_category_filter_facets_and_total(resources: Resources, world: World) -> None:
    async with transaction(resources.sessions) as s:
        await seed_listings(s, world.a.id, 100)
    listings = await _all(resources, world.member, 50, category="travel", sort=Sort.NEWEST)
    assert len(listings) == 20 and {x.category for x in listings} == {"travel"}
    async with resources.sessions() as s:
        facets = await service.facets(s, world.member, Query.build(None, "travel", Sort.NEWEST, 20))
    assert sorted((f.category, f.count) for f in facets) == [
        (c, 20) for c in ("code", "finance", "support", "travel", "writing")
    ]


async def test_never_shows_what_the_viewer_may_not_use(resources: Resources, world: World) -> None:
    org_only = await _deployed(resources, world.outsider, world.b.id, "organization", name="Globex internal")
    public = await _deployed(resources, world.outsider, world.b.id, "public", name="Globex public")
    undeployed = await _deployed(resources, world.owner, world.a.id, "organization", name="Acme gone")
    archived = await _deployed(resources, world.owner, world.a.id, "public", name="Acme archived")
    mine = await _deployed(resources, world.owner, world.a.id, "organization", name="Acme internal")
    await _call(resources, agents.undeploy, world.owner, deployment_id=undeployed.id)
    await _call(resources, agents.archive, world.owner, agent_id=archived.agent_id)

    member_view = {x.deployment_id for x in await _all(resources, world.member, 10)}
    outsider_view = {x.deployment_id for x in await _all(resources, world.outsider, 10)}
    anonymous_view = {x.deployment_id for x in await _all(resources, Actor.anonymous(), 10)}
    assert member_view == {public.id, mine.id}
    assert outsider_view == {public.id, org_only.id}
    assert anonymous_view == set()


async def test_bad_paging_arguments(resources: Resources, world: World) -> None:
    async with resources.sessions() as s:
        for kwargs in ({"first": 0}, {"first": 101}, {"after": "garbage"}, {"after": "eyJ4IjoxfQ"}):
            with pytest.raises(Invalid):
                await service.listings(s, world.member, **kwargs)
    await _deployed(resources, world.owner, world.a.id, name="One")
    await _deployed(resources, world.owner, world.a.id, name="Two")
    async with resources.sessions() as s:
        page = await service.listings(s, world.member, first=1, sort=Sort.NEWEST)
        assert page.has_next_page and page.end_cursor
        with pytest.raises(Invalid, match="different search"):
            await service.listings(s, world.member, first=1, sort=Sort.MOST_USED, after=page.end_cursor)


async def test_policy_filter_is_a_where_clause_on_deployments(resources: Resources, world: World) -> None:
    """The marketplace rebuilds its statement around the policy's WHERE clause (repository._visible)."""
    from backend.authz import authorized_select
    from backend.models import Deployment

    async with resources.sessions() as s:
        for actor in (world.member, world.outsider, Actor.anonymous()):
            base = await authorized_select(s, actor, "use", Deployment)
            assert base.get_final_froms() == [Deployment.__table__]


async def test_facets_follow_category_edits_and_archiving(resources: Resources, world: World) -> None:
    first = await _deployed(resources, world.owner, world.a.id, name="Alpha", category="travel")
    await _deployed(resources, world.owner, world.a.id, name="Beta", category="travel")
    query = Query.build(None, None, Sort.NEWEST, 20)

    async def counts() -> set[tuple[str | None, int]]:
        async with resources.sessions() as s:
            return {(f.category, f.count) for f in await service.facets(s, world.member, query)}

    assert await counts() == {("travel", 2)}
    await _call(
        resources, agents.update, world.owner, agent_id=first.agent_id, changes={"category": "finance"}
    )
    assert await counts() == {("travel", 1), ("finance", 1)}
    await _call(resources, agents.archive, world.owner, agent_id=first.agent_id)
    assert await counts() == {("travel", 1)}
    async with resources.sessions() as s:
        page = await service.listings(s, world.member, with_facets=True)
    assert page.facets is not None and {(f.category, f.count) for f in page.facets} == {("travel", 1)}
