"""Hot-path statements on the raw asyncpg connection: same parameters, same transaction rules."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.db import autocommit, transaction
from backend.db.raw import RawSQL, fetchrow, jsonb
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
        assert row is not None and (row["v"], row["j"]) == (1, {"k": 1})
    with pytest.raises(RuntimeError):
        async with transaction(resources.sessions) as s:
            await fetchrow(s, insert, {"v": 2})  # inside the session's transaction, not beside it
            raise RuntimeError("roll back")
    async with autocommit(resources.engine) as s:
        assert list((await s.execute(text("SELECT v FROM raw_probe ORDER BY v"))).scalars()) == [1]
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
