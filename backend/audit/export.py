"""JSON Lines export of an organisation's audit chain (oldest first, with hashes for re-verification)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.chain import HASHED_FIELDS, _value
from backend.models import AuditEvent


def event_json(event: AuditEvent) -> dict[str, Any]:
    data = {name: _value(getattr(event, name)) for name in HASHED_FIELDS}
    data.update(prev_hash=event.prev_hash, hash=event.hash)
    return data


async def export_jsonl(session: AsyncSession, organization_id: uuid.UUID) -> AsyncIterator[str]:
    """Yields one JSON document per line; callers authorise ``read_audit`` first."""
    stmt = select(AuditEvent).where(AuditEvent.chain == organization_id).order_by(AuditEvent.seq)
    async for event in await session.stream_scalars(stmt.execution_options(yield_per=1000)):
        yield json.dumps(event_json(event), sort_keys=True, ensure_ascii=False) + "\n"
