"""Hot-path statements straight on asyncpg, without SQLAlchemy's per-statement work.

SQLAlchemy's checkout and return, compiled-cache lookup, parameter and result processing and ORM
loading cost a few hundred microseconds of CPU, several times what asyncpg itself spends on a
statement. The run hot path makes a handful of statements per run, each a fixed SQL text:
:class:`RawSQL` turns the text's ``:name`` parameters into asyncpg's ``$n`` once, and
:func:`fetchrow` runs it on a connection of a small asyncpg pool beside the engine's
(:func:`hot_connection`), released without asyncpg's reset query since such statements leave no
session state behind (no transaction, no SET, no LISTEN).

Only statements that commit on their own take that pool: those of :func:`backend.db.autocommit`
sessions, or of a hot connection held by the caller. In a transactional session the same text runs
through SQLAlchemy, inside the session's transaction. :func:`build` turns rows into (transient)
model instances, for the policies and services that take models.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import JSON, TextClause, make_url, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from backend.db.engine import autocommit_base

T = TypeVar("T")

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class RawSQL:
    __slots__ = ("clause", "names", "sql")

    def __init__(self, sql: str) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        self.sql = _NAMED.sub(number, sql)
        self.names = tuple(names)
        self.clause: TextClause = text(sql)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def select_columns(model: type[Any], alias: str) -> str:
    """``alias.col AS "alias.col", ...`` for every column of ``model`` (see :func:`build`)."""
    return ", ".join(f'{alias}.{c.name} AS "{alias}.{c.name}"' for c in model.__table__.columns)


def build(model: type[T], row: Mapping[str, Any], alias: str | None = None) -> T | None:
    """A (transient) ``model`` instance from a row's columns, named ``alias.column`` (see
    :func:`select_columns`) or plainly (``RETURNING *``). Columns the model does not map are ignored,
    so a newer schema's extra columns do no harm. ``None`` when an outer join found no row."""
    prefix = f"{alias}." if alias else ""
    mapper = sa_inspect(model)
    if row[prefix + mapper.primary_key[0].name] is None:
        return None
    values: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        value = row[prefix + column.name]
        values[attr.key] = jsonb(value) if isinstance(column.type, JSON) else value
    return model(**values)


def jsonb(value: Any) -> Any:
    """A json/jsonb column's value: decoded by SQLAlchemy's codec on its connections, else text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


async def fetchrow(
    session: AsyncSession | asyncpg.Connection, stmt: RawSQL, params: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The statement's first row (a mapping by column name), or ``None``."""
    if not isinstance(session, AsyncSession):  # an asyncpg connection (or a pool's proxy of one)
        found: Mapping[str, Any] | None = await session.fetchrow(stmt.sql, *stmt.args(params))
        return found
    engine = autocommit_base(session)
    if engine is None:  # a transaction to stay inside of
        row = (await session.execute(stmt.clause, dict(params))).mappings().first()
        return dict(row) if row is not None else None
    async with hot_connection(engine) as conn:
        hot: Mapping[str, Any] | None = await conn.fetchrow(stmt.sql, *stmt.args(params))
        return hot


async def fetch(
    session: AsyncSession | asyncpg.Connection, stmt: RawSQL, params: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """All the statement's rows (mappings by column name); same routing as :func:`fetchrow`."""
    if not isinstance(session, AsyncSession):
        return list(await session.fetch(stmt.sql, *stmt.args(params)))
    engine = autocommit_base(session)
    if engine is None:
        return [dict(row) for row in (await session.execute(stmt.clause, dict(params))).mappings()]
    async with hot_connection(engine) as conn:
        return list(await conn.fetch(stmt.sql, *stmt.args(params)))


_POOLS: weakref.WeakKeyDictionary[AsyncEngine, asyncpg.Pool] = weakref.WeakKeyDictionary()


async def _keep(connection: asyncpg.Connection) -> None:
    """Released as is: hot-path statements leave no session state to reset."""


async def _pool_for(engine: AsyncEngine) -> asyncpg.Pool:
    pool = _POOLS.get(engine)
    if pool is not None:
        return pool
    dsn = make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
    created = await asyncpg.create_pool(  # min_size 0: opens nothing until the first acquire
        dsn,
        min_size=0,
        max_size=max(2, engine.pool.size() // 2),  # type: ignore[attr-defined]
        reset=_keep,
        timeout=5,
        command_timeout=60,
        max_inactive_connection_lifetime=60,
    )
    pool = _POOLS.setdefault(engine, created)
    if pool is not created:  # another task won the race
        await created.close()
    return pool


@asynccontextmanager
async def hot_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A connection for ONE self-contained statement (autocommit); see the module docstring."""
    pool = await _pool_for(engine)
    async with pool.acquire(timeout=5) as connection:
        yield connection


async def close_hot_pool(engine: AsyncEngine) -> None:
    pool = _POOLS.pop(engine, None)
    if pool is not None:
        await pool.close()
