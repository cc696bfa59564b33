"""API keys and service accounts for integrators.

A key belongs to one organisation and one user (a person, or a service account of that
organisation); it acts as that user narrowed to its scopes (enforced by the policy). The
secret is returned once and stored hashed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow
from backend.errors import Invalid, NotFound
from backend.identity.schemas import CreateApiKey, parse
from backend.identity.tokens import digest, new_api_key
from backend.models import ApiKey, Membership, Organization, User

ROLES = ("owner", "admin", "builder", "member", "auditor")


async def _organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("No such organization")
    return org


async def create_api_key(
    session: AsyncSession,
    actor: Actor,
    *,
    organization_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: object = None,
    user_id: uuid.UUID | None = None,
) -> tuple[ApiKey, str]:
    data = parse(
        CreateApiKey,
        organization_id=organization_id,
        name=name,
        scopes=list(scopes),
        expires_at=expires_at,
        user_id=user_id,
    )
    org = await _organization(session, data.organization_id)
    owner_id = data.user_id or actor.user_id
    if owner_id == actor.user_id:
        await authorize(session, actor, "create_api_key", org)
    else:  # a key for a service account of the organisation
        await authorize(session, actor, "manage_api_keys", org)
        owner = await session.get(User, owner_id)
        member = (
            await session.scalars(
                select(Membership).where(Membership.organization_id == org.id, Membership.user_id == owner_id)
            )
        ).first()
        if owner is None or not owner.is_service_account or member is None:
            raise Invalid(
                "Keys for others can only be made for the organization's service accounts", field="userId"
            )
    if data.expires_at is not None:
        expiry = data.expires_at if data.expires_at.tzinfo else data.expires_at.replace(tzinfo=UTC)
        if expiry <= utcnow():
            raise Invalid("expiresAt must be in the future", field="expiresAt")
        data.expires_at = expiry
    prefix, secret = new_api_key()
    key = ApiKey(
        organization_id=org.id,
        user_id=owner_id,
        created_by_id=actor.user_id,
        name=data.name,
        prefix=prefix,
        secret_hash=digest(secret),
        scopes=data.scopes,
        expires_at=data.expires_at,
    )
    session.add(key)
    await session.flush()
    await record(
        session,
        actor,
        action="api_key.create",
        resource_type="api_key",
        resource_id=str(key.id),
        organization_id=org.id,
        summary={"name": key.name, "prefix": prefix, "scopes": key.scopes, "userId": str(owner_id)},
    )
    return key, secret


async def revoke_api_key(session: AsyncSession, actor: Actor, *, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound("No such API key")
    await authorize(session, actor, "manage", key)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await record(
            session,
            actor,
            action="api_key.revoke",
            resource_type="api_key",
            resource_id=str(key.id),
            organization_id=key.organization_id,
            summary={"prefix": key.prefix},
        )
    return key


async def list_api_keys(session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID) -> list[ApiKey]:
    stmt = (await authorized_select(session, actor, "read", ApiKey)).where(
        ApiKey.organization_id == organization_id
    )
    return list((await session.scalars(stmt.order_by(ApiKey.created_at.desc()))).all())


async def create_service_account(
    session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID, name: str, role: str
) -> User:
    """A non-human member (no password, cannot log in) that integrators' keys can belong to."""
    org = await _organization(session, organization_id)
    await authorize(session, actor, "manage_members", org)
    role = role.lower()
    if role not in ROLES or role == "owner":
        raise Invalid("A service account's role must be admin, builder, member or auditor", field="role")
    name = name.strip()
    if not name or len(name) > 120:
        raise Invalid("name must be 1-120 characters", field="name")
    account = User(
        email=f"sa-{uuid.uuid4().hex[:12]}@{org.slug}.service.invalid",
        display_name=name,
        password_hash=None,
        is_service_account=True,
    )
    session.add(account)
    await session.flush()
    session.add(Membership(organization_id=org.id, user_id=account.id, role=role))
    await session.flush()
    await record(
        session,
        actor,
        action="service_account.create",
        resource_type="user",
        resource_id=str(account.id),
        organization_id=org.id,
        summary={"name": name, "role": role},
    )
    return account
