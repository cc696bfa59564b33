"""``sql``: read-only queries against PostgreSQL, MySQL or SQLite.

Read-only is enforced by the database, never by reading the SQL text: PostgreSQL and MySQL run
each statement in a READ ONLY transaction (PostgreSQL also with ``default_transaction_read_only``
on the connection), SQLite opens the file with ``mode=ro`` plus ``PRAGMA query_only``. Drivers
send exactly one statement per call (prepared statements / no multi-statement flag), each call
gets a fresh connection, a statement timeout and a row limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from typing import Any

from pydantic import BaseModel, Field

from backend.integrations.builtins import sql_drivers
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool


class SqlConfig(Schema):
    max_rows: int = Field(100, ge=1, le=10_000, description="Rows returned at most per query.")
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="Statement timeout.")


class SqlSecrets(Schema):
    url: str = Field(description="postgresql://…, mysql://… or sqlite:///path/to/file.db")


class NoArgs(Schema):
    pass


class QueryArgs(Schema):
    sql: str = Field(min_length=1, max_length=20_000, description="One read-only SQL statement.")
    params: list[Any] | None = Field(None, description="Positional parameters ($1 / %s / ?).")


class Table(BaseModel):
    schema_name: str | None = Field(None, serialization_alias="schema")
    name: str


class Tables(BaseModel):
    tables: list[Table]


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int = Field(serialization_alias="rowCount")
    truncated: bool


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


class SqlIntegration(IntegrationType):
    key = "sql"
    name = "SQL database (read-only)"
    description = "Read-only SQL against PostgreSQL, MySQL or SQLite, with a statement timeout and row limit."
    config_model = SqlConfig
    secrets_model = SqlSecrets

    @tool(read_only=True)
    async def list_tables(self, ctx: ToolContext[SqlConfig, SqlSecrets], args: NoArgs) -> Tables:
        """List the database's tables and views."""
        driver = sql_drivers.driver_for(ctx.secrets.url)
        rows = await driver.list_tables(ctx.secrets.url, ctx.config.timeout_seconds)
        return Tables(tables=[Table(schema_name=s, name=n) for s, n in rows])

    @tool(read_only=True)
    async def query(self, ctx: ToolContext[SqlConfig, SqlSecrets], args: QueryArgs) -> QueryResult:
        """Run one read-only SQL statement; writes are refused by the database."""
        driver = sql_drivers.driver_for(ctx.secrets.url)
        columns, rows = await driver.query(
            ctx.secrets.url,
            args.sql,
            list(args.params or []),
            ctx.config.max_rows + 1,
            ctx.config.timeout_seconds,
        )
        truncated = len(rows) > ctx.config.max_rows
        rows = rows[: ctx.config.max_rows]
        return QueryResult(
            columns=columns,
            rows=[[jsonable(v) for v in row] for row in rows],
            row_count=len(rows),
            truncated=truncated,
        )

    async def test(self, ctx: ToolContext[SqlConfig, SqlSecrets]) -> str:
        driver = sql_drivers.driver_for(ctx.secrets.url)
        _, rows = await driver.query(ctx.secrets.url, "SELECT 1", [], 1, ctx.config.timeout_seconds)
        if not rows:
            raise ToolError("the database did not answer SELECT 1")
        return f"connected ({driver.name})"
