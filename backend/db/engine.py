"""Engine and session factories.

Services never commit: the entry point (a GraphQL mutation, a job) owns the
transaction through :func:`transaction`.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def to_async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and force the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size // 2,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 60},
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed)
    return engine


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pre-ping without the round trip: drop pooled connections the server has closed.

    When PostgreSQL restarts it closes every backend's socket, and asyncpg notices at once (the
    pool's idle sockets are still watched by the event loop). ``pool_pre_ping`` would instead
    cost a ``BEGIN``/``ROLLBACK`` round trip on every checkout, the single most frequent
    statement pair of the whole platform. A connection that dies unnoticed fails its statement
    with a disconnect error, which invalidates the pool; callers see one error, then recover.
    """
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None and raw.is_closed():
        raise DisconnectionError("connection closed by the server")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()
_BASE: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def _autocommit_engine(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with AUTOCOMMIT set once (same pool), instead of on every connection checkout."""
    engine = _BASE.get(engine, engine)
    found = _AUTOCOMMIT.get(engine)
    if found is None:
        found = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
        _BASE[found] = engine
    return found


def autocommit_base(session: AsyncSession) -> AsyncEngine | None:
    """The engine behind an :func:`autocommit` session (``None`` for any other session)."""
    bind = session.bind
    return _BASE.get(bind) if isinstance(bind, AsyncEngine) else None


def engine_of(session: AsyncSession) -> AsyncEngine:
    """The engine behind a session, whether it is bound to the engine or to one of its connections."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    assert engine is not None, "an unbound session"
    return _BASE.get(engine, engine)


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose every statement commits on its own: no BEGIN, COMMIT or ROLLBACK.

    For reads that need no snapshot across statements, and for writes that are ONE statement
    (the run hot path's data-modifying CTEs). asyncpg's autocommit is client-side, so switching
    to it costs nothing, and a one-statement unit of work takes one round trip instead of three.
    Several writes that must succeed or fail together belong in :func:`transaction`.
    A connection is taken from the pool at the first statement only: a session that ends up
    running none (a run whose model needs no credentials or tools) costs no checkout.
    """
    async with AsyncSession(
        bind=_autocommit_engine(engine), expire_on_commit=False, autoflush=False
    ) as session:
        yield session


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception."""
    async with factory() as session, session.begin():
        yield session
