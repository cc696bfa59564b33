"""SQL of the audit domain."""

from __future__ import annotations

import uuid

from sqlalchemy import Select

from backend.models import AuditEvent


def events_page(
    base: Select[AuditEvent],
    *,
    organization_id: uuid.UUID,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    before: tuple[object, uuid.UUID] | None = None,
    limit: int = 50,
) -> Select[AuditEvent]:
    """Newest first; keyset pagination on (seq desc) within the organisation's chain."""
    stmt = base.where(AuditEvent.organization_id == organization_id)
    if action:
        stmt = (
            stmt.where(AuditEvent.action.startswith(action))
            if action.endswith(".")
            else stmt.where(AuditEvent.action == action)
        )
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before[0])
    return stmt.order_by(AuditEvent.seq.desc()).limit(limit)
