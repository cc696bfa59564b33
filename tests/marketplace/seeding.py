"""Bulk seeding of deployed agents with single INSERT ... SELECT statements (fast for thousands)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CATEGORIES = ("travel", "finance", "support", "code", "writing")

_AGENTS = text("""
INSERT INTO agents (id, organization_id, slug, name, description, category, tags, tags_text,
                    example_prompts, config, created_at, updated_at)
SELECT gen_random_uuid(), :org, :prefix || '-' || i, 'Bulk agent ' || i,
       'Helps with ' || (ARRAY['trips', 'budgets', 'tickets', 'bugs', 'essays'])[1 + i % 5]
         || ' number ' || i,
       (ARRAY['travel', 'finance', 'support', 'code', 'writing'])[1 + i % 5],
       ARRAY['bulk', 'tag' || (i % 10)], 'bulk tag' || (i % 10), ARRAY['Try me'], '{}'::jsonb, now(), now()
FROM generate_series(1, :n) AS i
""")

_VERSIONS = text("""
INSERT INTO agent_versions (id, agent_id, number, config, config_hash, changelog, created_at)
SELECT gen_random_uuid(), a.id, 1, a.config, md5(a.id::text) || md5(a.slug), '', now()
FROM agents a WHERE a.organization_id = :org AND a.slug LIKE :prefix || '-%'
""")

# Ties on purpose: many rows share deployed_at and usage_count, so only the id breaks them.
_DEPLOYMENTS = text("""
INSERT INTO deployments (id, agent_id, organization_id, version_id, visibility, deployed_at, usage_count,
                         category, created_at, updated_at)
SELECT gen_random_uuid(), a.id, a.organization_id, v.id, :visibility,
       timestamp with time zone '2026-01-01' + (hashtext(a.slug) % 50) * interval '1 minute',
       abs(hashtext(a.slug)) % 25, a.category, now(), now()
FROM agents a JOIN agent_versions v ON v.agent_id = a.id
WHERE a.organization_id = :org AND a.slug LIKE :prefix || '-%'
""")


async def seed_listings(
    session: AsyncSession,
    organization_id: uuid.UUID,
    n: int,
    *,
    prefix: str = "bulk",
    visibility: str = "public",
) -> None:
    params = {"org": organization_id, "prefix": prefix}
    await session.execute(_AGENTS, {**params, "n": n})
    await session.execute(_VERSIONS, params)
    await session.execute(_DEPLOYMENTS, {**params, "visibility": visibility})
