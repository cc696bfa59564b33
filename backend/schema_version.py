"""The schema revision the code expects and the one a database is at, without SQLAlchemy or Alembic.

Light on purpose: ``/readyz`` and ``agentry up`` ask this on every start, and importing the
data layer or Alembic just to learn "nothing to do" would cost seconds of CPU.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"
_REVISION = re.compile(r"^revision(?::\s*str)?\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision[^=]*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The newest revision in ``migrations/versions`` (the one no other revision follows)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text()
        if match := _REVISION.search(text):
            revisions.add(match.group(1))
        parents.update(_DOWN.findall(text))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {sorted(heads)}")
    return heads.pop()


async def database_state(database_url: str) -> tuple[str | None, bool]:
    """(current revision or None, whether any user exists) of the database at ``database_url``."""
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        try:
            revision = await conn.fetchval("SELECT max(version_num) FROM alembic_version")
        except asyncpg.UndefinedTableError:
            return None, False
        try:
            has_users = bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users)"))
        except asyncpg.UndefinedTableError:
            has_users = False
        return revision, has_users
    finally:
        await conn.close()
