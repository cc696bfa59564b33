"""Fixtures of the schedule tests: a small organisation with a deployed agent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AuditEvent, Run, Schedule, WebhookTrigger
from backend.resources import Resources
from tests.schedules.factories import World, world


@pytest.fixture
async def w(resources: Resources) -> World:
    return await world(resources.sessions)


async def counts(resources: Resources) -> dict[str, Any]:
    """Row counts that a refused operation must leave unchanged."""
    async with resources.sessions() as s:
        return {
            m.__tablename__: await s.scalar(select(func.count()).select_from(m))
            for m in (Schedule, WebhookTrigger, Run)
        } | {
            "allowed_audit": await s.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "allowed")
            )
        }
