"""SQL of the integrations domain: composable ``select()`` statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from backend.models import Integration, Run


def by_id(integration_id: uuid.UUID) -> Select[Integration]:
    return select(Integration).where(Integration.id == integration_id)


def in_organization(
    organization_id: uuid.UUID, ids: Sequence[uuid.UUID] | None = None
) -> Select[Integration]:
    # populate_existing: a tool list refreshed by another session must not be masked by the identity map.
    stmt = (
        select(Integration)
        .where(Integration.organization_id == organization_id)
        .execution_options(populate_existing=True)
    )
    if ids is not None:
        stmt = stmt.where(Integration.id.in_(ids))
    return stmt.order_by(Integration.name)


def by_name(organization_id: uuid.UUID, name: str) -> Select[Integration]:
    return select(Integration).where(Integration.organization_id == organization_id, Integration.name == name)


def run_ancestors(run_id: uuid.UUID, max_depth: int = 16) -> Select[Any]:
    """The run and its ancestors (nearest first) via ``parent_run_id``: (id, agent_id, config, depth)."""
    base = (
        select(Run.id, Run.parent_run_id, Run.agent_id, Run.config, Run.organization_id)
        .where(Run.id == run_id)
        .cte("chain", recursive=True)
    )
    parent = select(Run.id, Run.parent_run_id, Run.agent_id, Run.config, Run.organization_id).join(
        base, Run.id == base.c.parent_run_id
    )
    chain = base.union_all(parent)
    return select(chain).limit(max_depth)
