"""Opaque credentials: session tokens and API keys, stored only as SHA-256 hashes.

* Session token: ``ags_`` + 256 random bits. Idle and absolute expiry; ``last_seen_at`` is
  written at most every ``TOUCH_EVERY`` (not on every request).
* API key: ``agk_<public id>_<secret>``; ``agk_<public id>`` is the listed prefix, the whole
  string is hashed. A fast hash is right here: the secret has 256 bits of entropy.

Resolving a credential is one indexed query (token hash or prefix, joined to the user).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor, load_principal
from backend.authz.principal import generation
from backend.db import utcnow
from backend.errors import Unauthenticated
from backend.identity import repository as repo
from backend.models import ApiKey, Session, User
from backend.resources import Resources
from backend.settings import Settings

SESSION_PREFIX = "ags_"
KEY_PREFIX = "agk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 12  # agk_ + 6 random bytes in hex
TOUCH_EVERY = timedelta(minutes=5)
KEY_TOUCH_EVERY = timedelta(minutes=1)
INVALID = "Invalid or expired credentials"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """``(prefix, full secret)``; only the prefix is stored in clear."""
    prefix = KEY_PREFIX + secrets.token_hex(6)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


async def open_session(
    session: AsyncSession, settings: Settings, user: User, *, client_addr: str | None, user_agent: str | None
) -> tuple[Session, str]:
    token = new_session_token()
    now = utcnow()
    row = Session(
        user_id=user.id,
        token_hash=digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_absolute_days),
        client_addr=(client_addr or "")[:64] or None,
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(row)
    await session.flush()
    return row, token


def _session_live(row: Session, now: datetime, settings: Settings) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return row.revoked_at is None and row.expires_at > now and row.last_seen_at + idle > now


async def resolve_token(
    resources: Resources,
    token: str,
    *,
    client_addr: str | None,
    user_agent: str | None,
    request_id: str | None,
) -> Actor:
    """The Actor behind a bearer token; ``Unauthenticated`` for unknown, expired or revoked ones."""
    if len(token) > 200:
        raise Unauthenticated(INVALID)
    key = digest(token)
    cache = resources.auth_cache
    if cache is not None:
        hit = cache.get(key, client_addr=client_addr, user_agent=user_agent, request_id=request_id)
        if hit is not None:
            return hit
    loaded_generation, loaded_at = generation(), time.monotonic()
    async with resources.sessions() as session:
        if token.startswith(KEY_PREFIX):
            actor, valid_until = await _resolve_key(session, token, client_addr, user_agent, request_id)
        else:
            actor, valid_until = await _resolve_session(
                session, resources.settings, token, client_addr, user_agent, request_id
            )
        # Nearly every operation authorises: load the roles now, on the connection we hold.
        principal = await load_principal(session, actor)
    if cache is not None:
        cache.put(
            key,
            actor,
            principal,
            loaded_at=loaded_at,
            loaded_generation=loaded_generation,
            valid_until=valid_until,
        )
    return actor


async def _resolve_session(
    session: AsyncSession,
    settings: Settings,
    token: str,
    addr: str | None,
    agent: str | None,
    rid: str | None,
) -> tuple[Actor, datetime]:
    found = (await session.execute(repo.session_with_user(digest(token)))).first()
    now = utcnow()
    if found is None or not _session_live(found[0], now, settings) or found[1].disabled_at is not None:
        raise Unauthenticated(INVALID)
    row, user = found
    if now - row.last_seen_at > TOUCH_EVERY:
        await session.execute(update(Session).where(Session.id == row.id).values(last_seen_at=now))
        await session.commit()
        last_seen = now
    else:
        last_seen = row.last_seen_at
    idle_until = last_seen + timedelta(minutes=settings.session_idle_minutes)
    actor = Actor(
        kind="user", user_id=user.id, session_id=row.id, client_addr=addr, user_agent=agent, request_id=rid
    )
    return actor, min(row.expires_at, idle_until)


async def _resolve_key(
    session: AsyncSession, token: str, addr: str | None, agent: str | None, rid: str | None
) -> tuple[Actor, datetime | None]:
    prefix = token[:PREFIX_LENGTH]  # the secret part may itself contain "_"
    well_formed = len(token) > PREFIX_LENGTH + 1 and token[PREFIX_LENGTH] == "_"
    found = (await session.execute(repo.api_key_with_user(prefix))).first() if well_formed else None
    now = utcnow()
    if found is None:
        raise Unauthenticated(INVALID)
    key, user = found
    if (
        not hmac.compare_digest(key.secret_hash, digest(token))
        or key.revoked_at is not None
        or (key.expires_at is not None and key.expires_at <= now)
        or user.disabled_at is not None
    ):
        raise Unauthenticated(INVALID)
    if key.last_used_at is None or now - key.last_used_at > KEY_TOUCH_EVERY:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        await session.commit()
    actor = Actor(
        kind="api_key",
        user_id=key.user_id,
        api_key_id=key.id,
        organization_id=key.organization_id,
        scopes=frozenset(key.scopes),
        client_addr=addr,
        user_agent=agent,
        request_id=rid,
    )
    return actor, key.expires_at


def session_id_of(actor: Actor) -> uuid.UUID:
    if actor.kind != "user" or actor.session_id is None:
        raise Unauthenticated("This needs a signed-in user session")
    return actor.session_id
