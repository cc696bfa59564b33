"""Inbound webhook triggers: a secret URL per trigger that starts runs of one deployment.

The token is shown once at creation; only its SHA-256 is stored (a 256-bit random token needs no slow hash).
Managing triggers needs ``manage`` on the deployment (API keys: the ``agents:write`` scope); a call runs as
the trigger's creator with the permissions they have *at call time* (same check as schedule fires).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.authz import Actor, authorize, authorized_select
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound, Unauthenticated
from backend.models import Agent, Deployment, WebhookTrigger
from backend.schedules import repository as schedule_repo
from backend.schedules.access import acting_as, blocked_reason
from backend.schedules.launch import RunRequest, start_run
from backend.schedules.schemas import parse
from backend.webhooks import repository as repo
from backend.webhooks.schemas import SHOWN_PREFIX_CHARS, TOKEN_PREFIX, CreateWebhookTriggerInput

MAX_PAGE = 100


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def run_input(payload: Any) -> str:
    """A JSON object with a string ``message`` runs with that message; any other body with its JSON text."""
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


async def _deployment(
    session: AsyncSession, actor: Actor, deployment_id: uuid.UUID
) -> tuple[Deployment, Agent]:
    row = (await session.execute(schedule_repo.deployment_with_agent(deployment_id))).first()
    if row is None:
        raise NotFound("No such deployment")
    await authorize(session, actor, "manage", row[0])
    return row[0], row[1]


async def _audit(session: AsyncSession, actor: Actor, action: str, t: WebhookTrigger, **summary: Any) -> None:
    await record(
        session,
        actor,
        action=f"webhook_trigger.{action}",
        resource_type="webhook_trigger",
        resource_id=str(t.id),
        organization_id=t.organization_id,
        summary={"deployment_id": str(t.deployment_id), "prefix": t.token_prefix, **summary},
    )


async def create(session: AsyncSession, actor: Actor, *, data: dict[str, Any]) -> tuple[WebhookTrigger, str]:
    """Returns the trigger and its token: the only time the token exists outside the caller's hands."""
    if actor.user_id is None:
        raise Unauthenticated("Sign in to manage webhook triggers")
    inp = parse(CreateWebhookTriggerInput, data)
    deployment, agent = await _deployment(session, actor, inp.deployment_id)
    if deployment.undeployed_at is not None or agent.archived_at is not None:
        raise Conflict("The deployment is not live; deploy the agent first")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    trigger = WebhookTrigger(
        organization_id=deployment.organization_id,
        deployment_id=deployment.id,
        created_by_id=actor.user_id,
        name=inp.name,
        token_hash=hash_token(token),
        token_prefix=token[:SHOWN_PREFIX_CHARS],
        settings={"rate_limit_per_minute": inp.rate_limit_per_minute},
    )
    session.add(trigger)
    await session.flush()
    await _audit(session, actor, "create", trigger, name=trigger.name)
    return trigger, token


async def _trigger(
    session: AsyncSession, actor: Actor, trigger_id: uuid.UUID, *, lock: bool = False
) -> WebhookTrigger:
    stmt = repo.by_id(trigger_id)
    found = (await session.scalars(stmt.with_for_update() if lock else stmt)).first()
    if found is None:
        raise NotFound("No such webhook trigger")
    try:
        await _deployment(session, actor, found.deployment_id)
    except NotFound:
        raise NotFound("No such webhook trigger") from None
    return found


async def revoke(session: AsyncSession, actor: Actor, *, trigger_id: uuid.UUID) -> WebhookTrigger:
    trigger = await _trigger(session, actor, trigger_id, lock=True)
    if trigger.revoked_at is None:
        trigger.revoked_at = utcnow()
        await session.flush()
        await _audit(session, actor, "revoke", trigger)
    return trigger


async def list_page(
    session: AsyncSession,
    actor: Actor,
    *,
    deployment_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    first: int = 20,
    after: uuid.UUID | None = None,
) -> tuple[list[WebhookTrigger], bool, int]:
    if (deployment_id is None) == (organization_id is None):
        raise Invalid("Pass exactly one of deploymentId or organizationId", field="deploymentId")
    if deployment_id is not None:
        await _deployment(session, actor, deployment_id)
        stmt = repo.for_deployment(deployment_id)
    else:
        managed = (await authorized_select(session, actor, "manage", Deployment)).with_only_columns(
            Deployment.id
        )
        stmt = repo.for_deployments(managed.where(Deployment.organization_id == organization_id))
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    limit = max(1, min(first, MAX_PAGE))
    if after is not None:
        stmt = stmt.where(WebhookTrigger.id < after)
    rows = list((await session.scalars(stmt.order_by(WebhookTrigger.id.desc()).limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit, int(total or 0)


async def find_active(session: AsyncSession, token: str) -> WebhookTrigger | None:
    """The live trigger for a presented token; None for unknown and revoked alike."""
    digest = hash_token(token)
    found = (await session.scalars(repo.by_token_hash(digest))).first()
    if found is None or not secrets.compare_digest(found.token_hash, digest) or found.revoked_at is not None:
        return None
    return found


@dataclass(frozen=True)
class Fired:
    run_id: uuid.UUID | None
    refused: str | None = None  # why no run was started (the caller commits the audit event either way)


async def fire(session: AsyncSession, caller: Actor, *, trigger_id: uuid.UUID, payload: Any) -> Fired:
    """Starts a ``webhook`` run as the trigger's creator, or records why it may not.

    A refusal is audited and returned (not raised) so that the caller commits its audit event.
    """
    row = (await session.execute(repo.launch_target(trigger_id))).tuples().first()
    if row is None or row[0].revoked_at is not None:
        return Fired(None, "revoked")
    trigger, deployment, agent = row
    owner = acting_as(trigger.created_by_id, request_id=caller.request_id)
    reason = await blocked_reason(
        session, owner_id=trigger.created_by_id, deployment=deployment, agent=agent, actor=owner
    )
    if reason is not None:
        await _audit(session, caller, "refuse", trigger, reason=reason)
        return Fired(None, reason)
    req = RunRequest(deployment, owner, "webhook", run_input(payload))
    run_id = await start_run(session, req)  # raises Invalid for an empty or oversized message
    trigger.last_used_at = utcnow()
    await _audit(session, caller, "fire", trigger, run_id=str(run_id))
    return Fired(run_id)
