"""Accounts and login sessions: sign up, log in, log out, change password.

Failed logins answer one error whatever the cause (unknown e-mail, wrong password, disabled
account, service account) after the same amount of hashing work, and are audited in their
own transaction so they survive the refusal.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record, record_denial
from backend.authz import Actor
from backend.db import utcnow
from backend.errors import Conflict, Invalid, RateLimited, Unauthenticated
from backend.identity import repository as repo
from backend.identity import throttle
from backend.identity.passwords import hash_password, needs_rehash, verify_password
from backend.identity.schemas import ChangePassword, SignUp, normalise_email, parse
from backend.identity.tokens import open_session, session_id_of
from backend.models import Session, User
from backend.resources import Resources

LOGIN_FAILED = "Wrong e-mail or password"


async def sign_up(
    session: AsyncSession, resources: Resources, actor: Actor, *, email: str, password: str, display_name: str
) -> tuple[User, str]:
    data = parse(SignUp, email=email, password=password, display_name=display_name)
    if (await session.scalars(repo.user_by_email(data.email))).first() is not None:
        raise Conflict("An account with this e-mail already exists", field="email")
    user = User(
        email=data.email, display_name=data.display_name, password_hash=await hash_password(data.password)
    )
    session.add(user)
    await session.flush()
    _, token = await open_session(
        session, resources.settings, user, client_addr=actor.client_addr, user_agent=actor.user_agent
    )
    await record(
        session,
        _as(actor, user),
        action="user.sign_up",
        resource_type="user",
        resource_id=str(user.id),
        summary={"email": user.email},
    )
    return user, token


async def log_in(
    session: AsyncSession, resources: Resources, actor: Actor, *, email: str, password: str
) -> tuple[User, str]:
    try:
        address = normalise_email(email)
    except ValueError:
        address = email.strip()[:320]
    redis = resources.redis
    if await throttle.is_throttled(redis, address, actor.client_addr):
        await _audit_failure(session, actor, address, "rate_limited")
        raise RateLimited("Too many failed logins; try again later")
    user = (await session.scalars(repo.user_by_email(address))).first()
    usable = user is not None and user.disabled_at is None and not user.is_service_account
    ok = await verify_password(user.password_hash if usable and user else None, password[:1024])
    if not ok or user is None:
        await throttle.note_failure(redis, address, actor.client_addr)
        await _audit_failure(session, actor, address, "bad_credentials")
        raise Unauthenticated(LOGIN_FAILED)
    await throttle.note_success(redis, address, actor.client_addr)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    _, token = await open_session(
        session, resources.settings, user, client_addr=actor.client_addr, user_agent=actor.user_agent
    )
    await record(
        session, _as(actor, user), action="auth.login", resource_type="user", resource_id=str(user.id)
    )
    return user, token


async def log_out(session: AsyncSession, actor: Actor) -> bool:
    session_id = session_id_of(actor)
    await session.execute(
        update(Session)
        .where(Session.id == session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await record(session, actor, action="auth.logout", resource_type="session", resource_id=str(session_id))
    return True


async def change_password(
    session: AsyncSession, actor: Actor, *, current_password: str, new_password: str
) -> User:
    """Revokes every other session of the user: a stolen session dies with the old password."""
    session_id = session_id_of(actor)
    data = parse(ChangePassword, current_password=current_password, new_password=new_password)
    user = await session.get(User, actor.user_id, with_for_update=True)
    if user is None:
        raise Unauthenticated("Sign in to continue")
    if not await verify_password(user.password_hash, data.current_password):
        await record_denial(
            session,
            actor,
            action="user.change_password",
            resource_type="user",
            resource_id=str(user.id),
            reason="bad_credentials",
        )
        raise Invalid("The current password is wrong", field="currentPassword")
    user.password_hash = await hash_password(data.new_password)
    revoked = await session.execute(
        update(Session)
        .where(Session.user_id == user.id, Session.id != session_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await record(
        session,
        actor,
        action="user.change_password",
        resource_type="user",
        resource_id=str(user.id),
        summary={"revokedSessions": revoked.rowcount},  # type: ignore[attr-defined]
    )
    return user


def _as(actor: Actor, user: User) -> Actor:
    return Actor(
        kind="user",
        user_id=user.id,
        client_addr=actor.client_addr,
        user_agent=actor.user_agent,
        request_id=actor.request_id,
    )


async def _audit_failure(session: AsyncSession, actor: Actor, email: str, reason: str) -> None:
    await record_denial(
        session, actor, action="auth.login", resource_type="user", reason=reason, summary={"email": email}
    )
