"""Embedded PostgreSQL and Redis for single-host use and tests (no URLs configured)."""

from backend.embedded.postgres import EmbeddedPostgres, ensure_postgres, stop_postgres
from backend.embedded.redis import EmbeddedRedis, ensure_redis, stop_redis

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "ensure_postgres",
    "ensure_redis",
    "stop_postgres",
    "stop_redis",
]
