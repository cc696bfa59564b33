"""SQL of the organisations domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select

from backend.models import AgentGrant, Invitation, Membership, Organization


def by_slug(slug: str) -> Select[Organization]:
    return select(Organization).where(Organization.slug == slug)


def membership(organization_id: uuid.UUID, user_id: uuid.UUID) -> Select[Membership]:
    return select(Membership).where(
        Membership.organization_id == organization_id, Membership.user_id == user_id
    )


def owners_locked(organization_id: uuid.UUID) -> Select[Membership]:
    """Locks every owner row: two concurrent demotions cannot both see "another owner left"."""
    return (
        select(Membership)
        .where(Membership.organization_id == organization_id, Membership.role == "owner")
        .with_for_update()
    )


def members_page(organization_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> Select[Membership]:
    stmt = select(Membership).where(Membership.organization_id == organization_id)
    if after is not None:
        stmt = stmt.where(Membership.id > after)
    return stmt.order_by(Membership.id).limit(limit)


def count_members(organization_id: uuid.UUID) -> Select[int]:
    return select(func.count()).select_from(Membership).where(Membership.organization_id == organization_id)


def invitation_by_token(token_hash: bytes) -> Select[Invitation]:
    return select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()


def grant(agent_id: uuid.UUID, user_id: uuid.UUID) -> Select[AgentGrant]:
    return select(AgentGrant).where(AgentGrant.agent_id == agent_id, AgentGrant.user_id == user_id)
