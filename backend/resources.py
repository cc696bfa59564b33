"""Process-wide handles to PostgreSQL and Redis, resolved from settings.

With no URL configured, the embedded service under the data dir is started (or
joined, when another process of the same data dir started it already).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from backend.authz.changes import watch_engine
from backend.db import create_engine, create_sessionmaker
from backend.db.raw import close_hot_pool
from backend.embedded.urls import ServiceUrls, resolve_urls
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.identity.authcache import AuthCache

__all__ = ["Resources", "ServiceUrls", "open_resources", "redis_settings", "resolve_urls"]


def _retry() -> Retry:
    """Commands on a connection that died (Redis restarted) are retried on a fresh one."""
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), 3)


_RETRY_ON = [RedisConnectionError, RedisTimeoutError]


def redis_settings(url: str) -> RedisSettings:
    rs = RedisSettings.from_dsn(url)
    rs.conn_timeout = 5
    rs.conn_retries = 3
    rs.retry = _retry()
    rs.retry_on_error = list(_RETRY_ON)
    return rs


@dataclass
class Resources:
    settings: Settings
    urls: ServiceUrls
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    arq: ArqRedis
    auth_cache: AuthCache | None = None  # API processes only (graph.app's lifespan)

    async def close(self) -> None:
        await self.arq.aclose()
        await self.redis.aclose()
        await close_hot_pool(self.engine)
        await self.engine.dispose()


async def open_resources(settings: Settings, urls: ServiceUrls | None = None) -> Resources:
    urls = urls or resolve_urls(settings)
    engine = create_engine(urls.database_url, pool_size=settings.db_pool_size)
    redis = Redis.from_url(
        urls.redis_url,
        socket_connect_timeout=5,
        health_check_interval=30,
        retry=_retry(),
        retry_on_error=list(_RETRY_ON),
    )
    arq = await create_pool(redis_settings(urls.redis_url))
    watch_engine(engine)
    return Resources(settings, urls, engine, create_sessionmaker(engine), redis, arq)
