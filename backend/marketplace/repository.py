"""Marketplace SQL: live listings narrowed by the policy's ``authorized_select`` filter.

Search uses the agents' generated, weighted ``search`` tsvector (name A, tags and category
B, description C). A plain descriptive query ("help me plan a trip to Japan") matches any
of its words, so partial matches are found; rows matching every word rank first, then by
cover density (``ts_rank_cd``). Queries that use web-search
syntax (quotes, ``or``, ``-word``) keep exactly those semantics.

This is the hottest read path of the API, so the statement is assembled from module-level
constants (joins, columns, filters): building SQLAlchemy expressions costs more Python time
than PostgreSQL needs to run the query.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import join

from backend.marketplace.schemas import Cursor, Query, Sort
from backend.models import Agent, Deployment, Organization

_OPERATORS = re.compile(r'"|(^|\s)-\w|\bor\b', re.IGNORECASE)
_WORD = re.compile(r"\w+")
_ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")

_LIVE_FROM = join(Deployment, Agent, Agent.id == Deployment.agent_id)
_PAGE_FROM = _LIVE_FROM.join(Organization, Organization.id == Deployment.organization_id)
_LIVE = and_(Deployment.undeployed_at.is_(None), Agent.archived_at.is_(None))
_COLUMNS = (
    Deployment.id,
    Deployment.agent_id,
    Deployment.visibility,
    Deployment.usage_count,
    Deployment.deployed_at,
    Agent.name,
    Agent.description,
    Agent.category,
    Agent.tags,
    Agent.icon,
    Agent.example_prompts,
    Organization.name.label("organization_name"),
    Organization.slug.label("organization_slug"),
)
_SORT_COLUMNS: dict[Sort, Any] = {Sort.NEWEST: Deployment.deployed_at, Sort.MOST_USED: Deployment.usage_count}
_COUNT = func.count().label("n")
_FACET_ORDER = (_COUNT.desc(), Agent.category.asc().nulls_last())
_DEPLOYMENT_FACET_ORDER = (_COUNT.desc(), Deployment.category.asc().nulls_last())
_OUTER_ORDER = text("listing.sort_key DESC, listing.id DESC")
_OUTER_COLUMNS = tuple(literal_column(f"listing.{c.key}", type_=c.type).label(c.key) for c in _COLUMNS)


def any_words(search: str) -> str:
    """``websearch_to_tsquery`` text matching any word, unless the user wrote operators."""
    if _OPERATORS.search(search):
        return search
    return " or ".join(_WORD.findall(search)) or search


def _tsquery(text_: str) -> Any:
    """The parsed query as an uncorrelated scalar subquery: evaluated once per execution. As a plain
    call on a bound parameter it would be re-parsed for every row under a generic prepared plan."""
    return select(func.websearch_to_tsquery(_ENGLISH, text_)).scalar_subquery()


def rank_and_match(search: str) -> tuple[Any, ColumnElement[bool]]:
    """(rank, match). The rank is ``ts_rank_cd`` normalised to [0, 1) (flag 32), plus 1 for rows
    matching every word of a widened query: those come first, each group by cover density. One
    ``ts_rank_cd`` per row: it dominates the cost of a broad search."""
    widened = any_words(search)
    some = _tsquery(widened)
    rank: Any = func.ts_rank_cd(Agent.search, some, 32, type_=Float())
    if widened != search:
        every = Agent.search.op("@@")(_tsquery(search))
        # Typed explicitly: the cursor's bound value must compare as a float, never an integer.
        rank = type_coerce(rank + case((every, 1), else_=0), Float())
    return rank, Agent.search.op("@@")(some)


def _visible(base: Select[Any]) -> ColumnElement[bool]:
    """The policy's filter. ``authorized_select`` is ``select(Deployment).where(<policy>)`` over the
    resource's own columns (plans have no joins: backend/authz/plan.py, pinned by a test here), so
    its WHERE clause is all of it and the statement can be rebuilt around it cheaply."""
    return base.whereclause if base.whereclause is not None else true()


def _conditions(base: Select[Any], query: Query) -> list[ColumnElement[bool]]:
    conditions = [_visible(base), _LIVE]
    if query.search:
        conditions.append(rank_and_match(query.search)[1])
    return conditions


def sort_key(query: Query) -> Any:
    if query.sort is Sort.RELEVANCE and query.search:
        return rank_and_match(query.search)[0]
    return _SORT_COLUMNS[query.sort if query.sort in _SORT_COLUMNS else Sort.MOST_USED]


def page(base: Select[Any], query: Query, after: Cursor | None) -> Select:  # type: ignore[type-arg]
    """Live, visible listings after ``after`` in (sort key, id) descending order, one extra row."""
    key = sort_key(query)
    stmt = select(*_COLUMNS, key.label("sort_key")).select_from(_PAGE_FROM).where(*_conditions(base, query))
    if query.category:
        stmt = stmt.where(Agent.category == query.category)
    if after is not None:
        bound = tuple_(literal(after.key, type_=key.type), literal(after.id, type_=Deployment.id.type))
        stmt = stmt.where(tuple_(key, Deployment.id) < bound)
    return stmt.order_by(key.desc(), Deployment.id.desc()).limit(query.first + 1)


def facets(base: Select[Any], query: Query) -> Select:  # type: ignore[type-arg]
    """Category counts of the same search (the category filter is not applied).

    Without a search they come from the deployments alone (``deployments.category`` is the
    agents service's copy; archiving undeploys): no join over every visible agent.
    """
    if not query.search:
        return (
            select(Deployment.category, _COUNT)
            .where(_visible(base), Deployment.undeployed_at.is_(None))
            .group_by(Deployment.category)
            .order_by(*_DEPLOYMENT_FACET_ORDER)
        )
    return (
        select(Agent.category, _COUNT)
        .select_from(_LIVE_FROM)
        .where(*_conditions(base, query))
        .group_by(Agent.category)
        .order_by(*_FACET_ORDER)
    )


def _search_parts(base: Select[Any], query: Query, after: Cursor | None) -> tuple[Select, Select]:  # type: ignore[type-arg]
    """Page and facets of a search over one ranked set: the CTE matches and ranks each visible
    row once (``ts_rank_cd`` is the cost of a broad search); both sides read it."""
    assert query.search
    rank, match = rank_and_match(query.search)
    matches = (
        select(Deployment.id.label("id"), Agent.category.label("category"), rank.label("sort_key"))
        .select_from(_LIVE_FROM)
        .where(_visible(base), _LIVE, match)
        .cte("matches")
    )
    key, ident = matches.c.sort_key, matches.c.id
    top = select(ident, key)
    if query.category:
        top = top.where(matches.c.category == query.category)
    if after is not None:
        bound = tuple_(literal(after.key, type_=key.type), literal(after.id, type_=Deployment.id.type))
        top = top.where(tuple_(key, ident) < bound)
    # Cut to the page before joining the listing details (the outer statement orders the rows).
    page_ids = top.order_by(key.desc(), ident.desc()).limit(query.first + 1).subquery("page_ids")
    listing = select(*_COLUMNS, page_ids.c.sort_key).select_from(
        page_ids.join(_PAGE_FROM, Deployment.id == page_ids.c.id)
    )
    counted = select(matches.c.category, _COUNT).group_by(matches.c.category)
    return listing, counted


def page_with_facets(base: Select[Any], query: Query, after: Cursor | None) -> Select:  # type: ignore[type-arg]
    """The page and the facets of the same search in one round trip.

    The facets are an uncorrelated scalar subquery (evaluated once, as an InitPlan) selected
    next to a single-row anchor left-joined to the page, so an empty page still carries them.
    Outer columns are addressed textually (``listing.<name>``): proxying the subqueries' column
    collections would cost more Python time than the query itself.
    """
    if query.search:
        listing_stmt, facets_stmt = _search_parts(base, query, after)
    else:
        listing_stmt, facets_stmt = page(base, query, after), facets(base, query)
    listing = listing_stmt.subquery("listing")
    counted = facets_stmt.subquery("counted")
    pairs = func.jsonb_build_array(literal_column("counted.category"), literal_column("counted.n"))
    agg = (
        select(func.coalesce(func.jsonb_agg(pairs), literal_column("'[]'::jsonb")))
        .select_from(counted)
        .scalar_subquery()
    )
    anchor = select(literal(1).label("one")).subquery("anchor")
    return (
        select(agg.label("facets"), *_OUTER_COLUMNS, literal_column("listing.sort_key").label("sort_key"))
        .select_from(anchor.outerjoin(listing, true()))
        .order_by(_OUTER_ORDER)
    )
