"""Handoff rules: same organisation, depth limit, no agent twice in a chain; then the child run.

The child runs as the same user (``Actor.for_run``), so it can never do more than the user; its
tools are additionally narrowed to those every ancestor had bound (see
``backend.integrations.toolset.allowed_pairs``), so permissions are the intersection of the
calling agent's and the user's. Organisation boundaries hold twice: targets are loaded from the
run's organisation only, and ``create_run`` authorises ``use`` for an actor confined to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic_ai.usage import RunUsage
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import DomainError
from backend.handoff import repository
from backend.models import Agent, Deployment, Run
from backend.runs import states

MAX_DEPTH = 3


class HandoffRefused(Exception):
    """A handoff that must not happen; the message is for the model."""


@dataclass(frozen=True)
class Target:
    deployment_id: uuid.UUID
    agent_id: uuid.UUID
    organization_id: uuid.UUID
    slug: str
    name: str
    description: str


async def load_targets(session: AsyncSession, run: Run, deployment_ids: list[uuid.UUID]) -> list[Target]:
    rows = (await session.execute(repository.targets(run.organization_id, deployment_ids))).all()
    found: dict[uuid.UUID, tuple[Deployment, Agent]] = {d.id: (d, a) for d, a in rows}
    return [
        Target(d.id, a.id, d.organization_id, a.slug, a.name, a.description or "")
        for d, a in (found[i] for i in deployment_ids if i in found)
    ]


async def check(session: AsyncSession, run: Run, target: Target) -> None:
    """Raises :class:`HandoffRefused` for other organisations, too deep chains and cycles."""
    if target.organization_id != run.organization_id:
        raise HandoffRefused("handoff refused: the target agent belongs to another organisation")
    if run.depth + 1 > MAX_DEPTH:
        raise HandoffRefused(
            f"handoff refused: the handoff depth limit ({MAX_DEPTH}) is reached; answer with what you have"
        )
    rows = (await session.execute(repository.chain(run.id))).all()
    if any(r.organization_id != run.organization_id for r in rows):
        raise HandoffRefused("handoff refused: the chain crosses organisations")
    if any(r.agent_id == target.agent_id for r in rows):
        raise HandoffRefused(
            f"handoff refused: agent {target.slug!r} is already working on this task "
            f"(handoff cycle); answer yourself instead"
        )


def outcome(child: Run, target: Target) -> str:
    if child.status == states.SUCCEEDED:
        return child.output or ""
    reason = child.error or child.status_reason or child.status
    raise HandoffRefused(f"agent {target.slug!r} did not finish ({child.status}): {reason}")


def child_usage(child: Run) -> RunUsage:
    """What the child consumed, added to the parent's usage (the parent pays for what it delegates)."""
    return RunUsage(
        input_tokens=child.input_tokens,
        output_tokens=child.output_tokens,
        requests=child.requests,
        tool_calls=child.tool_calls,
    )


def domain_message(error: DomainError) -> str:
    return f"handoff refused: {error.message}"
