"""Authorisation and audit for the integrations domain, through the platform's one choke point.

Rules live in policies/integrations.polar. Actions used here: Organization ``manage_integrations``
(create); Integration ``read``, ``read_config``, ``manage``, ``use`` (bind to an agent) and
``invoke`` (call a bound tool inside a run, checked on every call for the run's actor).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record, record_denial
from backend.authz import Actor, authorize, authorized_select, is_allowed

__all__ = ["audit", "audit_denial", "authorize", "authorized_select", "is_allowed"]


async def audit(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    organization_id: uuid.UUID | None,
    resource_id: uuid.UUID | str | None,
    summary: dict[str, Any] | None = None,
    resource_type: str = "integration",
) -> None:
    """Records an event in ``session``'s transaction (summaries carry names, never secret values)."""
    await record(
        session,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        organization_id=organization_id,
        summary=summary or {},
    )


async def audit_denial(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    organization_id: uuid.UUID,
    resource_id: uuid.UUID,
    reason: str,
) -> None:
    """A refusal, written in its own transaction (after ``session``'s if that holds the chain lock)."""
    await record_denial(
        session,
        actor,
        action=action,
        resource_type="integration",
        resource_id=str(resource_id),
        organization_id=organization_id,
        reason=reason[:500],
    )
