"""Per-request DataLoaders of identity and organisation rows (each batch: one short session)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from backend.models import Organization, User
from graph.context import Context, Info


def _loader(ctx: Context, model: type[User] | type[Organization]) -> DataLoader[uuid.UUID, Any]:
    async def load(keys: list[uuid.UUID]) -> Sequence[Any]:
        async with ctx.resources.sessions() as session:
            found: Any = await session.scalars(select(model).where(model.id.in_(keys)))
            rows: dict[uuid.UUID, Any] = {row.id: row for row in found}
        return [rows.get(k) for k in keys]

    return DataLoader(load)


def user_by_id(info: Info) -> DataLoader[uuid.UUID, User | None]:
    return info.context.loader("identity.user_by_id", lambda c: _loader(c, User))  # type: ignore[no-any-return]


def organization_by_id(info: Info) -> DataLoader[uuid.UUID, Organization | None]:
    return info.context.loader("orgs.organization_by_id", lambda c: _loader(c, Organization))  # type: ignore[no-any-return]
