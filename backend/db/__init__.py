from backend.db.base import Base, IdMixin, TimestampMixin, utcnow, uuid7
from backend.db.engine import (
    autocommit,
    create_engine,
    create_sessionmaker,
    engine_of,
    to_async_url,
    transaction,
)

__all__ = [
    "Base",
    "IdMixin",
    "TimestampMixin",
    "autocommit",
    "create_engine",
    "create_sessionmaker",
    "engine_of",
    "to_async_url",
    "transaction",
    "utcnow",
    "uuid7",
]
