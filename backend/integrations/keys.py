"""The key ring's generations in the database, and rotation (``agentry keys rotate``).

Rotation adds a generation, then re-encrypts every integration whose envelope names another key,
in small batches, each in its own transaction. An interrupted rotation leaves every row readable
(old generations stay derivable), and running it again simply finishes the job under a newer key.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import transaction
from backend.integrations.access import audit
from backend.integrations.crypto import KeyRing, kid_for
from backend.models import Integration, IntegrationKey
from backend.settings import Settings


async def current_generation(session: AsyncSession) -> int:
    newest = await session.scalar(select(func.max(IntegrationKey.generation)))
    return int(newest or 1)


async def key_ring(session: AsyncSession, settings: Settings) -> KeyRing:
    return KeyRing(settings.secret(), await current_generation(session))


def decrypting_ring(settings: Settings) -> KeyRing:
    """A ring for decrypting only: each envelope names its key id, so no database read is needed
    (the current generation matters only for encrypting). Never use it to encrypt."""
    return KeyRing(settings.secret())


@dataclass
class RotationReport:
    kid: str
    reencrypted: int = 0
    organizations: int = 0
    by_kid_before: dict[str, int] = field(default_factory=dict)


async def key_usage(session: AsyncSession) -> dict[str, int]:
    """How many integrations' secrets each key id protects."""
    rows = await session.scalars(select(Integration.secrets).where(Integration.secrets.is_not(None)))
    return dict(Counter(str((env or {}).get("kid")) for env in rows))


async def rotate(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, batch: int = 100
) -> RotationReport:
    async with transaction(sessions) as session:
        before = await key_usage(session)
        generation = await current_generation(session) + 1
        session.add(IntegrationKey(generation=generation))
    ring = KeyRing(settings.secret(), generation)
    report = RotationReport(kid=ring.current_kid, by_kid_before=before)
    touched: Counter[uuid.UUID] = Counter()
    while True:
        async with transaction(sessions) as session:
            rows = (
                await session.scalars(
                    select(Integration)
                    .where(
                        Integration.secrets.is_not(None),
                        Integration.secrets["kid"].astext != ring.current_kid,
                    )
                    .order_by(Integration.id)
                    .limit(batch)
                    .with_for_update()
                )
            ).all()
            for row in rows:
                values = ring.decrypt(row.organization_id, row.secrets)
                row.secrets = ring.encrypt(row.organization_id, values)
                touched[row.organization_id] += 1
        report.reencrypted += len(rows)
        if len(rows) < batch:
            break
    async with transaction(sessions) as session:
        for org_id, count in touched.items():
            await audit(
                session,
                Actor.system(),
                action="integration.secrets_rotated",
                organization_id=org_id,
                resource_id=org_id,
                resource_type="organization",
                summary={"kid": ring.current_kid, "count": count},
            )
    report.organizations = len(touched)
    return report


__all__ = ["RotationReport", "current_generation", "key_ring", "key_usage", "kid_for", "rotate"]
