"""One small driver per database: connect read-only, run one statement, fetch a bounded number of rows.

Driver errors become :class:`ToolError` with the database's own message (the model can fix its
SQL); connection details and credentials are never part of it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from backend.integrations.sdk import ToolError

Rows = list[tuple[Any, ...]]


class Driver(Protocol):
    name: str

    async def query(
        self, url: str, sql: str, params: list[Any], limit: int, time_limit: float
    ) -> tuple[list[str], Rows]: ...

    async def list_tables(self, url: str, time_limit: float) -> list[tuple[str | None, str]]: ...


def _fail(exc: BaseException) -> ToolError:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ToolError(f"database error: {message[:500]}")


class Postgres:
    name = "postgresql"

    @staticmethod
    def _dsn(url: str) -> str:
        _, rest = url.split("://", 1)
        return "postgresql://" + rest

    async def _connect(self, url: str, time_limit: float) -> Any:
        import asyncpg

        try:
            return await asyncpg.connect(
                self._dsn(url),
                timeout=time_limit,
                server_settings={
                    "default_transaction_read_only": "on",
                    "statement_timeout": str(int(time_limit * 1000)),
                    "idle_in_transaction_session_timeout": str(int(time_limit * 1000) + 1000),
                    "application_name": "agentry-sql-tool",
                },
            )
        except (TimeoutError, OSError) as exc:
            raise ToolError(f"cannot connect to the database ({type(exc).__name__})") from None
        except Exception as exc:
            raise _fail(exc) from None

    async def query(
        self, url: str, sql: str, params: list[Any], limit: int, time_limit: float
    ) -> tuple[list[str], Rows]:
        conn = await self._connect(url, time_limit)
        try:
            async with asyncio.timeout(time_limit + 1), conn.transaction(readonly=True):
                # Taking a snapshot first locks the mode: SET TRANSACTION READ WRITE now fails too.
                await conn.fetchval("SELECT 1")
                statement = await conn.prepare(sql)
                columns = [a.name for a in statement.get_attributes()]
                if not columns:
                    await statement.fetch(*params)  # e.g. SET: still inside the read-only transaction
                    return [], []
                cursor = await statement.cursor(*params)
                records = await cursor.fetch(limit)
                return columns, [tuple(r) for r in records]
        except ToolError:
            raise
        except TimeoutError:
            raise ToolError(f"the statement took longer than {time_limit:g}s") from None
        except Exception as exc:
            raise _fail(exc) from None
        finally:
            await conn.close(timeout=2)

    async def list_tables(self, url: str, time_limit: float) -> list[tuple[str | None, str]]:
        _, rows = await self.query(
            url,
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
            [],
            1000,
            time_limit,
        )
        return [(r[0], r[1]) for r in rows]


@dataclass
class _MysqlTarget:
    host: str
    port: int
    user: str
    password: str
    db: str | None


class Mysql:
    name = "mysql"

    @staticmethod
    def _target(url: str) -> _MysqlTarget:
        parts = urlsplit(url)
        return _MysqlTarget(
            parts.hostname or "localhost",
            parts.port or 3306,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            parts.path.lstrip("/") or None,
        )

    async def query(
        self, url: str, sql: str, params: list[Any], limit: int, time_limit: float
    ) -> tuple[list[str], Rows]:
        import aiomysql
        from pymysql.constants import CLIENT

        t = self._target(url)
        try:
            conn = aiomysql.Connection(
                host=t.host,
                port=t.port,
                user=t.user,
                password=t.password,
                db=t.db,
                connect_timeout=time_limit,
                autocommit=False,
            )
            # aiomysql always asks for multi-statements, and "SELECT 1; COMMIT; DELETE ..." would then
            # escape the read-only transaction: one statement per call, like the other drivers.
            conn.client_flag &= ~CLIENT.MULTI_STATEMENTS
            await conn._connect()  # what aiomysql.connect() does, minus the flag
        except Exception as exc:
            raise ToolError(f"cannot connect to the database ({type(exc).__name__})") from None
        try:
            async with asyncio.timeout(time_limit + 1), conn.cursor() as cur:
                for setting in (
                    f"SET SESSION MAX_EXECUTION_TIME={int(time_limit * 1000)}",
                    f"SET SESSION max_statement_time={time_limit:g}",
                ):
                    try:  # MySQL knows the first, MariaDB the second
                        await cur.execute(setting)
                    except Exception:  # noqa: S112
                        continue
                # The session default too: DDL commits implicitly and would run outside the transaction.
                await cur.execute("SET SESSION TRANSACTION READ ONLY")
                await cur.execute("START TRANSACTION READ ONLY")
                await cur.execute(sql, params or None)
                columns = [d[0] for d in cur.description or []]
                rows = list(await cur.fetchmany(limit)) if columns else []
                await conn.rollback()
                return columns, [tuple(r) for r in rows]
        except TimeoutError:
            raise ToolError(f"the statement took longer than {time_limit:g}s") from None
        except Exception as exc:
            raise _fail(exc) from None
        finally:
            conn.close()

    async def list_tables(self, url: str, time_limit: float) -> list[tuple[str | None, str]]:
        _, rows = await self.query(
            url,
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() ORDER BY 1, 2",
            [],
            1000,
            time_limit,
        )
        return [(r[0], r[1]) for r in rows]


class Sqlite:
    name = "sqlite"

    @staticmethod
    def _uri(url: str) -> str:
        path = url.split("://", 1)[1]
        if path.startswith("/"):
            path = path[1:]  # sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db
        if not path or path == ":memory:":
            raise ToolError("SQLite URLs need a database file: sqlite:///path/to/file.db")
        return f"file:{quote(path)}?mode=ro"

    async def query(
        self, url: str, sql: str, params: list[Any], limit: int, time_limit: float
    ) -> tuple[list[str], Rows]:
        import sqlite3

        import aiosqlite

        deadline = time.monotonic() + time_limit
        try:
            conn = await aiosqlite.connect(self._uri(url), uri=True, timeout=time_limit)
        except sqlite3.Error as exc:
            raise _fail(exc) from None
        try:
            await conn.execute("PRAGMA query_only = ON")
            # The progress handler runs in the driver thread and aborts a statement past its deadline.
            await conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
            await conn.set_authorizer(_deny_attach)
            async with conn.execute(sql, params) as cursor:
                columns = [d[0] for d in cursor.description or []]
                rows = list(await cursor.fetchmany(limit)) if columns else []
            return columns, [tuple(r) for r in rows]
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise ToolError(f"the statement took longer than {time_limit:g}s") from None
            raise _fail(exc) from None
        except sqlite3.Error as exc:
            raise _fail(exc) from None
        finally:
            await conn.close()

    async def list_tables(self, url: str, time_limit: float) -> list[tuple[str | None, str]]:
        _, rows = await self.query(
            url,
            "SELECT NULL, name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name",
            [],
            1000,
            time_limit,
        )
        return [(None, r[1]) for r in rows]


def _deny_attach(action: int, *_: Any) -> int:
    """ATTACH could open (or create) another file without ``mode=ro``: refuse it."""
    import sqlite3

    return (
        sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH) else sqlite3.SQLITE_OK
    )


_DRIVERS: dict[str, Driver] = {
    "postgresql": Postgres(),
    "postgres": Postgres(),
    "mysql": Mysql(),
    "mariadb": Mysql(),
    "sqlite": Sqlite(),
}


def driver_for(url: str) -> Driver:
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    driver = _DRIVERS.get(scheme)
    if driver is None:
        raise ToolError("unsupported database URL (use postgresql://, mysql:// or sqlite:///)")
    return driver
