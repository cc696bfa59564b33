"""SQL of the identity domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select

from backend.models import ApiKey, Session, User


def user_by_email(email: str) -> Select[User]:
    return select(User).where(func.lower(User.email) == email.lower())


def session_with_user(token_hash: bytes) -> Select[Session, User]:
    return (
        select(Session, User).join(User, User.id == Session.user_id).where(Session.token_hash == token_hash)
    )


def api_key_with_user(prefix: str) -> Select[ApiKey, User]:
    return select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)


def live_sessions_of(user_id: uuid.UUID) -> Select[Session]:
    return select(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
