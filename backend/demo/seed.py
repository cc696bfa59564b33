"""Creates the demo organisation on an empty database (see API.md)."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.db import create_engine, create_sessionmaker
from backend.models import User
from backend.resources import ServiceUrls
from backend.settings import Settings


async def seed_demo(settings: Settings, urls: ServiceUrls, *, force: bool = False) -> bool:
    """Returns whether anything was created."""
    engine = create_engine(urls.database_url, pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            users = await session.scalar(select(func.count()).select_from(User))
        if users and not force:
            return False
        return False
    finally:
        await engine.dispose()
