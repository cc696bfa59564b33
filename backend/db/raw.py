"""Hot-path statements run straight on the session's asyncpg connection.

SQLAlchemy's per-statement work (compiled-cache lookup, parameter and result processing, ORM
loading) costs a few hundred microseconds of CPU, several times what asyncpg itself spends on a
statement. The run hot path makes a handful of such statements per run, each a fixed SQL text, so
they skip it: :class:`RawSQL` turns the text's ``:name`` parameters into asyncpg's ``$n`` once.

Only on sessions in autocommit mode (:func:`backend.db.autocommit`): in a transactional session
SQLAlchemy begins the transaction lazily at its own first statement, which a raw statement would
run outside of. Such sessions get the same text through SQLAlchemy instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

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


def jsonb(value: Any) -> Any:
    """A json/jsonb column's value: decoded by SQLAlchemy's codec on its connections, else text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


async def fetchrow(
    session: AsyncSession, stmt: RawSQL, params: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The statement's first row (a mapping by column name), or ``None``."""
    fairy = await (await session.connection()).get_raw_connection()
    if not getattr(fairy.dbapi_connection, "autocommit", False):
        found = (await session.execute(stmt.clause, dict(params))).mappings().first()
        return dict(found) if found is not None else None
    driver = fairy.driver_connection
    assert driver is not None
    row: Mapping[str, Any] | None = await driver.fetchrow(stmt.sql, *stmt.args(params))
    return row
