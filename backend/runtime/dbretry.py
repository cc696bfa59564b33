"""Retrying the worker's writes through a PostgreSQL restart.

Only connection-level failures are retried (the server went away, refused, or the pool timed out);
the writes themselves are idempotent (``expect_seq`` guards), so retrying one whose commit did
land changes nothing. After ``deadline`` seconds the error propagates: the run keeps its expiring
lease and the sweeper resumes it once the database is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import exc as sa_exc

from backend.logging import log

T = TypeVar("T")
DEADLINE_S = 60.0


def _sqlstate(error: BaseException | None) -> str:
    while error is not None:
        code = getattr(error, "sqlstate", None)
        if code:
            return str(code)
        error = error.__cause__
    return ""


def transient(error: BaseException) -> bool:
    """Connection lost/refused, server shutting down or starting up (SQLSTATE 08xxx, 57Pxx), pool timeout."""
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        code = _sqlstate(error.orig)
        return (
            code.startswith(("08", "57P"))
            or isinstance(error.orig, OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError)
            or isinstance(error, sa_exc.InterfaceError | sa_exc.OperationalError)
        )
    return isinstance(
        error,
        OSError
        | ConnectionError
        | sa_exc.TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError,
    )


async def retrying(op: Callable[[], Awaitable[T]], *, what: str, deadline: float = DEADLINE_S) -> T:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    delay = 0.1
    while True:
        try:
            return await op()
        except Exception as error:
            if not transient(error) or loop.time() + delay > end:
                raise
            log.warning("runtime.db_retry", what=what, error=type(error).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
