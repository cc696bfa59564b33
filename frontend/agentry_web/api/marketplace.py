"""Marketplace: listings the viewer may use (search, category facets, sort, pages) and one agent's page."""

from __future__ import annotations

import re
from typing import Any

from agentry_web.api.client import graphql

PAGE_SIZE = 12
SORTS = ("RELEVANCE", "MOST_USED", "NEWEST")

LISTING_FIELDS = """
  deploymentId agentId name description category icon tags organizationName usageCount examplePrompts
"""
MARKETPLACE = f"""
query Marketplace($search: String, $category: String, $sort: MarketplaceSort, $first: Int, $after: String) {{
  marketplace(search: $search, category: $category, sort: $sort, first: $first, after: $after) {{
    totalCount
    facets {{ category count }}
    edges {{ node {{ {LISTING_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
DEPLOYMENT = """
query Deployment($id: ID!) {
  deployment(id: $id) {
    id usageCount isLive
    agent { id name description category icon tags examplePrompts }
  }
}
"""


ICON_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def split_icon(raw: Any) -> tuple[str, str]:
    """An agent's ``icon`` is a Lucide icon name (``life-buoy``) or an emoji: returns (icon name, glyph)."""
    text = str(raw or "").strip()
    if ICON_NAME.match(text):
        return text, ""
    return "", text[:4]


def listing(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "deployment_id": str(node["deploymentId"]),
        "name": str(node.get("name") or ""),
        "description": str(node.get("description") or ""),
        "category": str(node.get("category") or ""),
        "icon": split_icon(node.get("icon"))[0],
        "glyph": split_icon(node.get("icon"))[1],
        "agent_id": str(node.get("agentId") or ""),
        "tags": [str(t) for t in node.get("tags") or []],
        "organization": str(node.get("organizationName") or ""),
        "usage": int(node.get("usageCount") or 0),
        "example_prompts": [str(p) for p in node.get("examplePrompts") or []],
    }


async def search(
    token: str,
    *,
    search: str = "",
    category: str = "",
    sort: str = "",
    after: str = "",
    first: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of listings plus category counts for the same search (counts ignore the category filter)."""
    variables: dict[str, Any] = {
        "first": first,
        "search": search.strip() or None,
        "category": category or None,
    }
    if after:
        variables["after"] = after
    if sort in SORTS:
        variables["sort"] = sort
    data = (await graphql(MARKETPLACE, variables, token=token))["marketplace"]
    facets = [
        {"category": str(f.get("category") or ""), "count": int(f.get("count") or 0)}
        for f in data.get("facets") or []
        if f.get("category")
    ]
    info = data.get("pageInfo") or {}
    return {
        "listings": [listing(edge["node"]) for edge in data.get("edges") or []],
        "facets": facets,
        "total": int(data.get("totalCount") or 0),
        "has_next": bool(info.get("hasNextPage")),
        "end_cursor": str(info.get("endCursor") or ""),
    }


SCAN_PAGE = 100
SCAN_PAGES = 10
LISTINGS = f"""
query Listings($first: Int, $after: String) {{
  marketplace(sort: NEWEST, first: $first, after: $after) {{
    edges {{ node {{ {LISTING_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


async def listings_by_deployment(token: str, deployment_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Marketplace listings of these deployments, found by reading the marketplace page by page.

    For viewers who may use a deployment without reading its agent (a public agent of another
    organisation): ``Deployment.agent`` is null for them and the API has no listing-by-id query.
    Bounded to the first ``SCAN_PAGE * SCAN_PAGES`` listings.
    """
    found: dict[str, dict[str, Any]] = {}
    after: str | None = None
    for _ in range(SCAN_PAGES):
        data = (await graphql(LISTINGS, {"first": SCAN_PAGE, "after": after}, token=token))["marketplace"]
        for edge in data.get("edges") or []:
            row = listing(edge["node"])
            if row["deployment_id"] in deployment_ids:
                found[row["deployment_id"]] = row
        info = data.get("pageInfo") or {}
        if deployment_ids <= found.keys() or not info.get("hasNextPage"):
            break
        after = info.get("endCursor")
    return found


async def deployment(token: str, deployment_id: str) -> dict[str, Any] | None:
    """An agent's page (by deployment id), or ``None`` when it does not exist for this viewer."""
    # partial: ``agent`` is null (FORBIDDEN at its path) for users of a deployment who may not read the agent.
    data = await graphql(DEPLOYMENT, {"id": deployment_id}, token=token, partial=True)
    raw = data.get("deployment")
    if not raw:
        return None
    agent = raw.get("agent")
    if agent is None:
        row = (await listings_by_deployment(token, {deployment_id})).get(deployment_id)
        return None if row is None else {**row, "live": bool(raw.get("isLive", True))}
    return {
        "deployment_id": str(raw["id"]),
        "agent_id": str(agent.get("id") or ""),
        "name": str(agent.get("name") or ""),
        "description": str(agent.get("description") or ""),
        "category": str(agent.get("category") or ""),
        "icon": split_icon(agent.get("icon"))[0],
        "glyph": split_icon(agent.get("icon"))[1],
        "tags": [str(t) for t in agent.get("tags") or []],
        "example_prompts": [str(p) for p in agent.get("examplePrompts") or []],
        "organization": "",  # not on Agent; the listing has it
        "usage": int(raw.get("usageCount") or 0),
        "live": bool(raw.get("isLive", True)),
    }
