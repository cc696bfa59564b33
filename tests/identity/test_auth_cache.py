"""Cached authentication: repeat requests skip the database, yet every revocation or role change
takes effect at once in this process and within moments in every other one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event

from backend.authz.changes import asyncpg_dsn, touches_principals
from tests.conftest import error_codes
from tests.identity.helpers import VIEWER, create_org, sign_up

ORG = "query($s: String!) { organization(slug: $s) { slug viewerRole } }"


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the API process runs from now on."""
    seen: list[str] = []
    engine = app.state.resources.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 3.0) -> float:
    """Seconds until ``check()`` holds (fails the test after ``within``)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        assert loop.time() - started < within, "not within the time limit"
        await asyncio.sleep(0.02)
    return loop.time() - started


async def _elsewhere(app: Any, sql: str, *args: Any) -> None:
    """A write by another process: its own connection, outside this process's engine."""
    conn = await asyncpg.connect(asyncpg_dsn(app.state.resources.urls.database_url))
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_repeat_requests_skip_the_database(gql: Any, app: Any, statements: list[str]) -> None:
    token, user_id = await sign_up(gql, "cache@example.com")
    assert app.state.resources.auth_cache.enabled
    await app.state.resources.auth_cache.listener.barrier()  # earlier writes' notifications are in
    await gql(VIEWER, token=token)  # loads and caches
    statements.clear()
    body = await gql("{ viewer { id } }", token=token)
    assert body["data"]["viewer"]["id"] == user_id
    assert not any("sessions" in s or "memberships" in s for s in statements), statements


async def test_log_out_takes_effect_on_the_next_request(gql: Any) -> None:
    token, _ = await sign_up(gql, "out@example.com")
    assert "errors" not in await gql(VIEWER, token=token)  # cached now
    assert (await gql("mutation { logOut }", token=token))["data"]["logOut"] is True
    assert error_codes(await gql(VIEWER, token=token)) == ["UNAUTHENTICATED"]


async def test_revocation_by_another_process_takes_effect(gql: Any, app: Any) -> None:
    token, user_id = await sign_up(gql, "elsewhere@example.com")
    assert "errors" not in await gql(VIEWER, token=token)
    await _elsewhere(app, "UPDATE sessions SET revoked_at = now() WHERE user_id = $1", user_id_of(user_id))

    async def refused() -> bool:
        return error_codes(await gql(VIEWER, token=token)) == ["UNAUTHENTICATED"]

    assert await _eventually(refused, within=1.0) < 1.0


async def test_role_removed_by_another_process_takes_effect(gql: Any, app: Any) -> None:
    token, user_id = await sign_up(gql, "roles@example.com")
    await create_org(gql, token, "cached-org")
    body = await gql(ORG, {"s": "cached-org"}, token=token)
    assert body["data"]["organization"]["viewerRole"] == "OWNER"
    await _elsewhere(app, "DELETE FROM memberships WHERE user_id = $1", user_id_of(user_id))

    async def gone() -> bool:
        found = await gql(ORG, {"s": "cached-org"}, token=token)
        return found["data"]["organization"] is None or "errors" in found

    await _eventually(gone, within=1.0)


async def test_without_the_change_listener_nothing_is_cached(
    gql: Any, app: Any, statements: list[str]
) -> None:
    token, _ = await sign_up(gql, "nolisten@example.com")
    await app.state.resources.auth_cache.listener.stop()
    assert not app.state.resources.auth_cache.enabled
    await gql(VIEWER, token=token)
    statements.clear()
    assert "errors" not in await gql(VIEWER, token=token)
    assert any("sessions" in s for s in statements)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE sessions SET last_seen_at=$1::TIMESTAMP WITH TIME ZONE WHERE sessions.id = $2", False),
        ("UPDATE sessions SET revoked_at=$1 WHERE sessions.user_id = $2 AND sessions.id != $3", True),
        ("UPDATE api_keys SET last_used_at=$1 WHERE api_keys.id = $2", False),
        ("UPDATE api_keys SET revoked_at=$1 WHERE api_keys.id = $2", True),
        ("INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)", True),
        ("DELETE FROM agent_grants WHERE agent_grants.agent_id = $1", True),
        ("UPDATE agents SET draft=$1, updated_at=now() WHERE agents.id = $2", False),
        ("INSERT INTO agents (id, organization_id, created_by_id) VALUES ($1, $2, $3)", True),
        ("INSERT INTO sessions (id, user_id, token_hash) VALUES ($1, $2, $3)", False),
        ("DELETE FROM sessions WHERE sessions.user_id = $1", True),
        ("UPDATE deployments SET version_id=$1 WHERE deployments.id = $2", False),
        ("UPDATE users SET disabled_at=$1 WHERE users.id = $2", True),
        ("INSERT INTO runs (id) VALUES ($1)", False),
        ("SELECT * FROM memberships", False),
    ],
)
def test_which_writes_void_the_cache(statement: str, expected: bool) -> None:
    assert touches_principals(statement) is expected


def user_id_of(value: str) -> uuid.UUID:
    return uuid.UUID(value)
