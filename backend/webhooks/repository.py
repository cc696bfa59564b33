"""SQL for webhook triggers."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from backend.models import Agent, Deployment, WebhookTrigger


def by_id(trigger_id: uuid.UUID) -> Select[WebhookTrigger]:
    return select(WebhookTrigger).where(WebhookTrigger.id == trigger_id)


def by_token_hash(token_hash: bytes) -> Select[WebhookTrigger]:
    # Unknown and revoked tokens take the same path: one lookup on the unique hash index.
    return select(WebhookTrigger).where(WebhookTrigger.token_hash == token_hash)


def for_deployment(deployment_id: uuid.UUID) -> Select[WebhookTrigger]:
    return select(WebhookTrigger).where(WebhookTrigger.deployment_id == deployment_id)


def for_deployments(deployment_ids: Select[uuid.UUID]) -> Select[WebhookTrigger]:
    return select(WebhookTrigger).where(WebhookTrigger.deployment_id.in_(deployment_ids.scalar_subquery()))


def launch_target(trigger_id: uuid.UUID) -> Select[WebhookTrigger, Deployment, Agent]:
    """The trigger (row-locked, for ``last_used_at``) with what a run needs."""
    return (
        select(WebhookTrigger, Deployment, Agent)
        .join(Deployment, Deployment.id == WebhookTrigger.deployment_id)
        .join(Agent, Agent.id == Deployment.agent_id)
        .where(WebhookTrigger.id == trigger_id)
        .with_for_update(of=WebhookTrigger)
    )
