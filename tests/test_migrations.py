"""Migrations apply from empty, roll back to empty, re-apply, and match the models."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from backend.db.migrate import check, downgrade, upgrade
from tests.conftest import Servers, create_database, drop_database


async def _tables(url: str) -> set[str]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_upgrade_downgrade_upgrade_and_no_drift(servers: Servers) -> None:
    name = await create_database(servers, template=None)
    url = servers.database_url_for(name)
    try:
        await asyncio.to_thread(upgrade, url)
        tables = await _tables(url)
        assert {"users", "organizations", "agents", "runs", "audit_events"} <= tables
        await asyncio.to_thread(downgrade, url, "base")
        assert await _tables(url) == {"alembic_version"}
        await asyncio.to_thread(upgrade, url)
        assert await _tables(url) == tables
        await asyncio.to_thread(check, url)  # raises when models and migrations drift
    finally:
        await drop_database(servers, name)


async def test_audit_rows_cannot_be_updated_or_deleted(database_url: str) -> None:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO audit_events (id, chain, seq, at, actor_type, action, resource_type, outcome,
               summary, prev_hash, hash) VALUES (gen_random_uuid(), gen_random_uuid(), 1, now(), 'system',
               'test', 'test', 'allowed', '{}', '', 'h')"""
        )
        for statement in (
            "UPDATE audit_events SET action = 'x'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            try:
                await conn.execute(statement)
            except asyncpg.InsufficientPrivilegeError as err:
                assert "append-only" in str(err)
            else:
                raise AssertionError(f"{statement} was allowed")
        assert await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'test'") == 1
    finally:
        await conn.close()


def test_head_revision_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    from backend.db.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def test_authz_triggers_match_what_the_cache_watches(database_url: str) -> None:
    """Migration 0003's triggers and backend.authz.changes.WATCHED must describe the same writes."""
    from backend.authz.changes import WATCHED, asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            """SELECT c.relname AS table, pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE '%_authz_changed'"""
        )
    finally:
        await conn.close()
    definitions = {r["table"]: r["definition"] for r in rows}
    assert set(definitions) == set(WATCHED)
    for table, (on_insert, columns) in WATCHED.items():
        events = definitions[table].split(" ON ")[0]
        assert ("INSERT" in events) is on_insert, (table, events)
        assert "DELETE" in events, (table, events)
        update = "UPDATE" if columns is None else "UPDATE OF " + ", ".join(columns)
        assert f"{update} OR" in events or events.endswith(update), (table, events)
