"""Organisations and their members: create, invite, change roles, remove.

Invariant: an organisation always keeps at least one owner (owner rows are locked while a
change is checked, so concurrent demotions cannot both succeed).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize, forget
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound, Unauthenticated
from backend.identity.repository import user_by_email
from backend.identity.schemas import normalise_email
from backend.identity.tokens import digest
from backend.models import Agent, AgentGrant, ApiKey, Invitation, Membership, Organization, User
from backend.orgs import repository as repo
from backend.orgs.schemas import CreateOrganization, org_role

INVITATION_DAYS = 14


def _invalid(field: str, err: Exception) -> Invalid:
    if isinstance(err, ValidationError):
        return Invalid(f"{field}: {err.errors()[0]['msg']}", field=field)
    return Invalid(f"{field}: {err}", field=field)


def _role(value: str) -> str:
    try:
        return org_role(value)
    except ValueError as err:
        raise _invalid("role", err) from err


async def get_organization(session: AsyncSession, organization_id: uuid.UUID) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("No such organization")
    return org


async def organization_by_slug(session: AsyncSession, actor: Actor, slug: str) -> Organization:
    """An organisation the actor may read; outsiders get NotFound, never a hint that it exists."""
    if not actor.authenticated:
        raise Unauthenticated("Sign in to continue")
    org = (await session.scalars(repo.by_slug(slug.strip().lower()))).first()
    if org is None:
        raise NotFound("No such organization")
    await authorize(session, actor, "read", org)
    return org


async def create_organization(session: AsyncSession, actor: Actor, *, name: str, slug: str) -> Organization:
    if actor.kind != "user" or actor.user_id is None:
        raise Unauthenticated("Sign in as a user to create an organization")
    try:
        data = CreateOrganization(name=name, slug=slug)
    except ValidationError as err:
        raise _invalid(str(err.errors()[0]["loc"][0]), err) from err
    if (await session.scalars(repo.by_slug(data.slug))).first() is not None:
        raise Conflict("This slug is taken", field="slug")
    org = Organization(name=data.name, slug=data.slug)
    session.add(org)
    await session.flush()
    session.add(Membership(organization_id=org.id, user_id=actor.user_id, role="owner"))
    await session.flush()
    forget(actor)
    await record(
        session,
        actor,
        action="organization.create",
        resource_type="organization",
        resource_id=str(org.id),
        organization_id=org.id,
        summary={"slug": org.slug, "name": org.name},
    )
    return org


async def add_member(
    session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID, email: str, role: str
) -> tuple[Membership | None, Invitation | None, str | None]:
    """An existing account becomes a member; an unknown e-mail gets an invitation (token returned once)."""
    org = await get_organization(session, organization_id)
    await authorize(session, actor, "manage_members", org)
    role = _role(role)
    if role == "owner":
        await authorize(session, actor, "manage_owners", org)
    try:
        address = normalise_email(email)
    except ValueError as err:
        raise _invalid("email", err) from err
    user = (await session.scalars(user_by_email(address))).first()
    if user is not None:
        if (await session.scalars(repo.membership(org.id, user.id))).first() is not None:
            raise Conflict("This person is already a member", field="email")
        member = Membership(organization_id=org.id, user_id=user.id, role=role)
        session.add(member)
        await session.flush()
        await record(
            session,
            actor,
            action="member.add",
            resource_type="membership",
            resource_id=str(member.id),
            organization_id=org.id,
            summary={"userId": str(user.id), "role": role},
        )
        return member, None, None
    token = "agi_" + secrets.token_urlsafe(32)
    existing = (
        await session.scalars(
            select(Invitation).where(Invitation.organization_id == org.id, Invitation.email == address)
        )
    ).first()
    invitation = existing or Invitation(organization_id=org.id, email=address)
    invitation.role, invitation.token_hash, invitation.invited_by_id = role, digest(token), actor.user_id
    invitation.expires_at, invitation.accepted_at = utcnow() + timedelta(days=INVITATION_DAYS), None
    session.add(invitation)
    await session.flush()
    await record(
        session,
        actor,
        action="member.invite",
        resource_type="invitation",
        resource_id=str(invitation.id),
        organization_id=org.id,
        summary={"email": address, "role": role},
    )
    return None, invitation, token


async def accept_invitation(session: AsyncSession, actor: Actor, *, token: str) -> Membership:
    if actor.kind != "user" or actor.user_id is None:
        raise Unauthenticated("Sign in to accept an invitation")
    invitation = (await session.scalars(repo.invitation_by_token(digest(token.strip())))).first()
    user = await session.get(User, actor.user_id)
    if (
        invitation is None
        or user is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= utcnow()
        or invitation.email.lower() != user.email.lower()
    ):
        raise NotFound("No such invitation for this account")
    if (await session.scalars(repo.membership(invitation.organization_id, user.id))).first() is not None:
        raise Conflict("You are already a member")
    member = Membership(organization_id=invitation.organization_id, user_id=user.id, role=invitation.role)
    session.add(member)
    invitation.accepted_at = utcnow()
    await session.flush()
    forget(actor)
    await record(
        session,
        actor,
        action="member.accept_invitation",
        resource_type="membership",
        resource_id=str(member.id),
        organization_id=member.organization_id,
        summary={"role": member.role},
    )
    return member


async def _target(session: AsyncSession, org: Organization, user_id: uuid.UUID) -> Membership:
    member = (await session.scalars(repo.membership(org.id, user_id).with_for_update())).first()
    if member is None:
        raise NotFound("No such member")
    return member


async def _keep_an_owner(session: AsyncSession, org: Organization, member: Membership) -> None:
    if member.role != "owner":
        return
    owners = (await session.scalars(repo.owners_locked(org.id))).all()
    if len(owners) <= 1:
        raise Conflict("An organization must keep at least one owner")


async def change_member_role(
    session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Membership:
    org = await get_organization(session, organization_id)
    await authorize(session, actor, "manage_members", org)
    role = _role(role)
    member = await _target(session, org, user_id)
    if "owner" in (role, member.role):
        await authorize(session, actor, "manage_owners", org)
    if member.role == role:
        return member
    if role != "owner":
        await _keep_an_owner(session, org, member)
    previous, member.role = member.role, role
    await session.flush()
    await record(
        session,
        actor,
        action="member.change_role",
        resource_type="membership",
        resource_id=str(member.id),
        organization_id=org.id,
        summary={"userId": str(user_id), "from": previous, "to": role},
    )
    return member


async def remove_member(
    session: AsyncSession, actor: Actor, *, organization_id: uuid.UUID, user_id: uuid.UUID
) -> Membership:
    """Removes the membership, the person's agent grants and API keys in this organisation."""
    org = await get_organization(session, organization_id)
    member = await _target(session, org, user_id)
    if user_id == actor.user_id:
        await authorize(session, actor, "leave", member)
    else:
        await authorize(session, actor, "manage_members", org)
        if member.role == "owner":
            await authorize(session, actor, "manage_owners", org)
    await _keep_an_owner(session, org, member)
    agent_ids = select(Agent.id).where(Agent.organization_id == org.id)
    await session.execute(
        delete(AgentGrant).where(AgentGrant.user_id == user_id, AgentGrant.agent_id.in_(agent_ids))
    )
    await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.organization_id == org.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await session.delete(member)
    try:
        await session.flush()
    except IntegrityError as err:  # pragma: no cover - FKs cascade; kept for clarity
        raise Conflict("This member cannot be removed") from err
    if user_id == actor.user_id:
        forget(actor)
    await record(
        session,
        actor,
        action="member.remove",
        resource_type="membership",
        resource_id=str(member.id),
        organization_id=org.id,
        summary={"userId": str(user_id), "role": member.role},
    )
    return member
