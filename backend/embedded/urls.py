"""Service URLs from settings: configured ones, or the embedded services' (started or joined).

Deliberately light (no SQLAlchemy, Redis or Arq imports): ``agentry up`` resolves the URLs and
starts its children before it imports anything heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.embedded.postgres import EmbeddedPostgres, ensure_postgres
from backend.embedded.redis import EmbeddedRedis, ensure_redis
from backend.settings import Settings


@dataclass
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = field(default_factory=list)

    def stop_started(self) -> None:
        """Stop the embedded services this process started (others only joined them)."""
        for service in reversed(self.embedded):
            if service.started:
                service.stop()


def resolve_urls(settings: Settings) -> ServiceUrls:
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
    database_url = settings.database_url
    if not database_url:
        pg = ensure_postgres(settings.resolved_data_dir)
        embedded.append(pg)
        database_url = pg.url()
    redis_url = settings.redis_url
    if not redis_url:
        rd = ensure_redis(settings.resolved_data_dir)
        embedded.append(rd)
        redis_url = rd.url()
    return ServiceUrls(database_url, redis_url, embedded)
