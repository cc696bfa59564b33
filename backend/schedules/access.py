"""Whether an unattended run (schedule fire, webhook call) may still act as the user who set it up.

Schedules and webhook triggers run with their creator's permissions *as they are when they fire*, not as they
were at creation: the check below runs on every fire through the same policy as interactive requests.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz import Actor, is_allowed
from backend.models import Agent, Deployment, User

# Both: `use` to run the agent at all (public deployments allow it to anyone), and `manage_schedules`
# because owning a schedule or trigger is a management right (it needs the org role or agent grant).
REQUIRED_ACTIONS = {"use": "use it", "manage_schedules": "manage its schedules"}


def acting_as(user_id: uuid.UUID, *, request_id: str | None = None) -> Actor:
    """The actor an unattended run executes as: the creator, not narrowed by any API key scopes."""
    return Actor(kind="user", user_id=user_id, request_id=request_id)


async def blocked_reason(
    session: AsyncSession,
    *,
    owner_id: uuid.UUID,
    deployment: Deployment,
    agent: Agent,
    actor: Actor | None = None,
) -> str | None:
    """None when a run may start; otherwise a sentence for ``status_reason`` and the audit log.

    ``actor`` (``acting_as(owner_id)``) may be passed to reuse its loaded roles across several checks.
    """
    if deployment.undeployed_at is not None:
        return "deployment was undeployed"
    if agent.archived_at is not None:
        return "agent was archived"
    user = await session.get(User, owner_id)
    if user is None or user.disabled_at is not None:
        return "creator's account is disabled"
    actor = actor or acting_as(owner_id)
    for action, what in REQUIRED_ACTIONS.items():
        if not await is_allowed(session, actor, action, deployment):
            return f"creator lost access to the deployment (no longer allowed to {what})"
    return None
