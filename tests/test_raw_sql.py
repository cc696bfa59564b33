"""Hot-path statements on the raw asyncpg connection: same parameters, same transaction rules."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.db import autocommit, transaction
from backend.db.raw import RawSQL, fetch, fetchrow, jsonb
from backend.resources import Resources


def test_named_parameters_become_positional_and_casts_survive() -> None:
    stmt = RawSQL("SELECT :a, '[]'::jsonb, CAST(:b AS int) + :a FROM t WHERE x::text = :c")
    assert stmt.sql == "SELECT $1, '[]'::jsonb, CAST($2 AS int) + $1 FROM t WHERE x::text = $3"
    assert stmt.args({"c": 3, "b": 2, "a": 1}) == [1, 2, 3]


async def test_autocommit_statements_commit_and_transactional_ones_roll_back(resources: Resources) -> None:
    async with autocommit(resources.engine) as s:
        await s.execute(text("CREATE TABLE IF NOT EXISTS raw_probe (v int)"))
        await s.execute(text("TRUNCATE raw_probe"))
    insert = RawSQL("INSERT INTO raw_probe (v) VALUES (:v) RETURNING v, '{\"k\": 1}'::jsonb AS j")
    async with autocommit(resources.engine) as s:
        row = await fetchrow(s, insert, {"v": 1})
        assert row is not None and (row["v"], jsonb(row["j"])) == (1, {"k": 1})
    with pytest.raises(RuntimeError):
        async with transaction(resources.sessions) as s:
            await fetchrow(s, insert, {"v": 2})  # inside the session's transaction, not beside it
            raise RuntimeError("roll back")
    every = RawSQL("SELECT v FROM raw_probe WHERE v >= :least ORDER BY v")
    async with transaction(resources.sessions) as s:
        await fetchrow(s, insert, {"v": 3})
        assert [r["v"] for r in await fetch(s, every, {"least": 0})] == [1, 3]  # sees its own write
    async with autocommit(resources.engine) as s:
        assert [r["v"] for r in await fetch(s, every, {"least": 0})] == [1, 3]
        assert await fetch(s, every, {"least": 4}) == []
        await s.execute(text("DROP TABLE raw_probe"))


async def test_hot_connections_run_raw_statements_and_close_with_the_resources(resources: Resources) -> None:
    from backend.db.raw import _POOLS, close_hot_pool, hot_connection

    stmt = RawSQL("""SELECT CAST(:a AS int) * 2 AS twice, '{"k": 1}'::jsonb AS j""")
    async with hot_connection(resources.engine) as conn:
        row = await fetchrow(conn, stmt, {"a": 21})
    assert row is not None and row["twice"] == 42
    assert jsonb(row["j"]) == {"k": 1}, "plain asyncpg returns jsonb as text; jsonb() decodes either form"
    pool = _POOLS[resources.engine]
    await close_hot_pool(resources.engine)
    assert pool._closed and resources.engine not in _POOLS


async def test_rows_build_models_with_native_types_and_outer_join_misses_are_none(
    resources: Resources,
) -> None:
    from backend.db import uuid7
    from backend.db.raw import build, select_columns
    from backend.models import Agent, Organization

    org = Organization(id=uuid7(), slug=f"raw-{uuid7().hex[:8]}", name="Raw")
    async with transaction(resources.sessions) as s:
        s.add(org)
    stmt = RawSQL(
        f"SELECT {select_columns(Organization, 'o')}, {select_columns(Agent, 'a')} "
        "FROM organizations AS o LEFT JOIN agents AS a ON a.organization_id = o.id WHERE o.id = :id"
    )
    async with autocommit(resources.engine) as s:
        row = await fetchrow(s, stmt, {"id": org.id})
    assert row is not None
    built = build(Organization, row, "o")
    assert built is not None and (built.id, built.slug, built.name) == (org.id, org.slug, "Raw")
    assert built.created_at.tzinfo is not None, "native types, not JSON strings"
    assert build(Agent, row, "a") is None, "no agent: the outer join's miss"


def test_columns_a_newer_schema_adds_are_ignored() -> None:
    """A rolling upgrade may add columns before this code knows them: ``RETURNING *`` must still build."""
    from datetime import UTC, datetime

    from backend.db import uuid7
    from backend.db.raw import build
    from backend.models import Organization

    now = datetime.now(UTC)
    row = {"id": uuid7(), "slug": "s", "name": "N", "created_at": now, "updated_at": now, "added_later": 1}
    org = build(Organization, row)
    assert org is not None and (org.slug, org.name) == ("s", "N")
