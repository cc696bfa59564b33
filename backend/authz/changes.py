"""Noticing that principals changed, in this process and in every other one.

Principals (roles, grants, authored agents and their deployments) and credentials (sessions,
API keys, disabled users) are cached across requests for a few seconds. Any committed write to
the tables they come from must void those caches everywhere:

- **other processes**: statement-level triggers on those tables (migration 0003) call
  ``pg_notify('agentry_authz')``; PostgreSQL delivers it at commit to every process that
  LISTENs (:class:`ChangeListener`). Writes from anywhere count: services, the CLI, plain SQL.
- **this process, at once**: the notification takes a moment to come back, so the engine's own
  commits of such writes bump the generation synchronously (:func:`watch_engine`), before the
  mutation's response is sent.

A process whose listener is not connected must not cache at all (``ChangeListener.live``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.authz.principal import changed
from backend.logging import log

CHANNEL = "agentry_authz"
# Table -> (whether an INSERT matters, the columns whose UPDATE matters (None: any)); a DELETE
# always matters. Must match the triggers of migration 0003. New credentials and users are not
# cached anywhere yet, and frequent touches (sessions.last_seen_at, api_keys.last_used_at, agent
# drafts, redeploys) change no principal: none of them voids the caches.
WATCHED: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "memberships": (True, None),
    "agent_grants": (True, None),
    "agents": (True, ("created_by_id", "organization_id")),
    "deployments": (True, ("agent_id",)),
    "users": (False, ("disabled_at",)),
    "sessions": (False, ("revoked_at", "expires_at", "user_id")),
    "api_keys": (False, ("revoked_at", "expires_at", "scopes", "user_id", "organization_id")),
}
_WRITE = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)
_FLAG = "agentry_authz_dirty"


def touches_principals(statement: str) -> bool:
    """Whether a SQL statement writes something principals or credentials are built from."""
    match = _WRITE.match(statement)
    if match is None:
        return False
    table = match.group(2).lower()
    if table not in WATCHED:
        return False
    on_insert, columns = WATCHED[table]
    verb = match.group(1)[:1].upper()
    if verb != "U":
        return verb == "D" or on_insert
    if columns is None:
        return True
    assignments = statement[match.end() :].split(" WHERE ", 1)[0]
    return any(column in assignments for column in columns)


def _after_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    if touches_principals(statement):
        conn.info[_FLAG] = True


def _after_commit(conn: Any) -> None:
    if conn.info.pop(_FLAG, False):
        changed()


def _after_rollback(conn: Any) -> None:
    conn.info.pop(_FLAG, None)


def watch_engine(engine: AsyncEngine) -> None:
    """Bump the principal generation when this engine commits a write to :data:`TABLES`."""
    sync = engine.sync_engine
    if not event.contains(sync, "after_cursor_execute", _after_execute):
        event.listen(sync, "after_cursor_execute", _after_execute)
        event.listen(sync, "commit", _after_commit)
        event.listen(sync, "rollback", _after_rollback)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://...``) as a plain asyncpg DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """LISTENs on :data:`CHANNEL` on its own connection; reconnects; ``live`` while listening."""

    RETRY_S = 1.0
    PING_S = 2.0

    def __init__(self, database_url: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.live = False
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._barriers: dict[str, asyncio.Future[None]] = {}

    async def start(self, wait: float = 5.0) -> None:
        self._task = asyncio.create_task(self._run(), name="authz-change-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._connected.wait()

    async def stop(self) -> None:
        self.live = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        changed()
        barrier = self._barriers.pop(payload, None)
        if barrier is not None and not barrier.done():
            barrier.set_result(None)

    async def barrier(self, within: float = 5.0) -> None:
        """Return once every change committed before the call has been received.

        PostgreSQL delivers notifications in commit order, so receiving our own marker means every
        earlier one has been handled. For tests and tools that need the caches settled.
        """
        token = f"barrier:{uuid.uuid4().hex}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._barriers[token] = future
        conn = await asyncpg.connect(self.dsn, timeout=within)
        try:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, token)
        finally:
            await conn.close()
        try:
            async with asyncio.timeout(within):
                await future
        finally:
            self._barriers.pop(token, None)

    def _lost(self, *_: Any) -> None:
        self.live = False
        changed()

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=5)
                conn.add_termination_listener(self._lost)
                await conn.add_listener(CHANNEL, self._notified)
                changed()  # whatever happened while we were not listening
                self.live = True
                self._connected.set()
                while True:  # a dead peer without a FIN shows up here within seconds
                    await asyncio.sleep(self.PING_S)
                    await conn.fetchval("SELECT 1", timeout=self.PING_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("authz.listener_failed", error=type(exc).__name__)
            finally:
                self.live = False
                changed()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(self.RETRY_S)
