"""Accounts and sessions: sign up, log in/out, throttling, expiry, password changes."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from backend.db import utcnow
from backend.identity import throttle
from backend.models import AuditEvent, Session, User
from tests.conftest import error_codes
from tests.identity.helpers import LOG_IN, PASSWORD, SIGN_UP, VIEWER, log_in, sign_up


async def test_sign_up_log_in_viewer_log_out(gql: Any, resources: Any) -> None:
    token, user_id = await sign_up(gql, "Ada@Example.COM")
    assert (await gql(VIEWER, token=token))["data"]["viewer"] == {"id": user_id, "email": "Ada@example.com"}
    body = await log_in(gql, "ada@example.com")
    second = body["data"]["logIn"]["token"]
    assert second.startswith("ags_") and len(second) > 40
    assert (await gql("mutation { logOut }", token=second))["data"]["logOut"] is True
    assert error_codes(await gql(VIEWER, token=second)) == ["UNAUTHENTICATED"]
    assert (await gql(VIEWER, token=token))["data"]["viewer"]["id"] == user_id  # other session unaffected
    assert (await gql(VIEWER))["data"]["viewer"] is None
    async with resources.sessions() as s:
        row = (await s.scalars(select(User).where(User.id == user_id))).one()
        assert row.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        stored = (await s.scalars(select(Session.token_hash))).all()
        assert all(len(h) == 32 for h in stored) and token.encode() not in stored
        actions = (await s.scalars(select(AuditEvent.action).order_by(AuditEvent.at))).all()
    assert actions == ["user.sign_up", "auth.login", "auth.logout"]


async def test_sign_up_validation(gql: Any) -> None:
    short = await gql(SIGN_UP, {"i": {"email": "a@example.com", "password": "short", "displayName": "A"}})
    assert error_codes(short) == ["BAD_USER_INPUT"] and "password" in short["errors"][0]["message"]
    bad = await gql(SIGN_UP, {"i": {"email": "nope", "password": PASSWORD, "displayName": "A"}})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    await sign_up(gql, "dup@example.com")
    dup = await gql(SIGN_UP, {"i": {"email": "DUP@example.com", "password": PASSWORD, "displayName": "B"}})
    assert error_codes(dup) == ["CONFLICT"]


async def test_wrong_password_and_unknown_email_look_alike(gql: Any) -> None:
    await sign_up(gql, "known@example.com")
    wrong = await log_in(gql, "known@example.com", "wrong password!!")
    unknown = await log_in(gql, "nobody@example.com", "wrong password!!")
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["data"] == unknown["data"]

    async def timed(email: str) -> float:
        start = time.perf_counter()
        await log_in(gql, email, "another wrong one")
        return time.perf_counter() - start

    known_t, unknown_t = [], []
    for i in range(3):  # stays under the per-account throttle (5)
        known_t.append(await timed("known@example.com"))
        unknown_t.append(await timed(f"ghost{i}@example.com"))
    ratio = statistics.median(known_t) / statistics.median(unknown_t)
    assert 0.5 < ratio < 2.0, (known_t, unknown_t)


async def test_login_throttling_engages_and_is_audited(gql: Any, resources: Any) -> None:
    await sign_up(gql, "target@example.com")
    for _ in range(throttle.MAX_FAILURES_PER_ACCOUNT):
        assert error_codes(await log_in(gql, "target@example.com", "not the password")) == ["UNAUTHENTICATED"]
    # Even the right password is refused while throttled.
    assert error_codes(await log_in(gql, "target@example.com")) == ["RATE_LIMITED"]
    await resources.redis.flushdb()
    assert "errors" not in await log_in(gql, "target@example.com")
    async with resources.sessions() as s:
        denied = (await s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied"))).all()
    reasons = [e.summary["reason"] for e in denied]
    assert reasons.count("bad_credentials") == throttle.MAX_FAILURES_PER_ACCOUNT
    assert reasons.count("rate_limited") == 1
    assert all(e.client_addr == "203.0.113.7" and e.summary["email"] == "target@example.com" for e in denied)


async def test_throttling_per_client_address(gql: Any) -> None:
    for i in range(throttle.MAX_FAILURES_PER_ADDRESS):
        await log_in(gql, f"spray{i}@example.com", "wrong password!!")
    await sign_up(gql, "fresh@example.com")
    assert error_codes(await log_in(gql, "fresh@example.com")) == ["RATE_LIMITED"]


async def test_expired_and_idle_sessions_are_unauthenticated(gql: Any, resources: Any) -> None:
    absolute, _ = await sign_up(gql, "exp@example.com")
    idle = (await log_in(gql, "exp@example.com"))["data"]["logIn"]["token"]
    from backend.identity.tokens import digest

    async with resources.sessions() as s, s.begin():
        await s.execute(
            update(Session)
            .where(Session.token_hash == digest(absolute))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.execute(
            update(Session)
            .where(Session.token_hash == digest(idle))
            .values(last_seen_at=utcnow() - timedelta(minutes=resources.settings.session_idle_minutes + 1))
        )
    assert error_codes(await gql(VIEWER, token=absolute)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(VIEWER, token=idle)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(VIEWER, token="ags_made-up")) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(VIEWER, headers={"Authorization": "Basic abc"})) == ["UNAUTHENTICATED"]


async def test_last_seen_is_not_written_on_every_request(gql: Any, resources: Any) -> None:
    token, _ = await sign_up(gql, "seen@example.com")
    async with resources.sessions() as s:
        before = (await s.scalars(select(Session.last_seen_at))).one()
    await gql(VIEWER, token=token)
    async with resources.sessions() as s:
        assert (await s.scalars(select(Session.last_seen_at))).one() == before


async def test_change_password_revokes_other_sessions(gql: Any) -> None:
    first, _ = await sign_up(gql, "pw@example.com")
    second = (await log_in(gql, "pw@example.com"))["data"]["logIn"]["token"]
    change = """mutation($i: ChangePasswordInput!) { changePassword(input: $i) { id } }"""
    wrong = await gql(
        change, {"i": {"currentPassword": "not it at all", "newPassword": "a brand new secret"}}, token=first
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    ok = await gql(
        change, {"i": {"currentPassword": PASSWORD, "newPassword": "a brand new secret"}}, token=first
    )
    assert "errors" not in ok, ok
    assert error_codes(await gql(VIEWER, token=second)) == ["UNAUTHENTICATED"]
    assert (await gql(VIEWER, token=first))["data"]["viewer"] is not None
    assert error_codes(await log_in(gql, "pw@example.com")) == ["UNAUTHENTICATED"]
    assert "errors" not in await log_in(gql, "pw@example.com", "a brand new secret")
    assert LOG_IN
