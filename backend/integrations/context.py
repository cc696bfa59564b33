"""Building a :class:`ToolContext` for one integration: decrypted secrets, audited guard, redaction."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import engine_of
from backend.integrations.access import audit, audit_denial
from backend.integrations.crypto import KeyRing, SecretsUnavailable
from backend.integrations.egress import EgressGuard, EgressPolicy, EgressRefused
from backend.integrations.sdk import IntegrationType, ToolContext, ToolError
from backend.models import Integration
from backend.settings import Settings

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4


def sessions_of(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """Sessions of their own (own connection, own transaction) on the engine behind ``session``."""
    return async_sessionmaker(engine_of(session), expire_on_commit=False, autoflush=False)


def make_guard(
    settings: Settings,
    actor: Actor,
    integration: Integration,
    *,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession | None = None,
    run_id: uuid.UUID | None = None,
) -> EgressGuard:
    """A guard for one integration whose refusals are audited as denials.

    ``session`` is the caller's open transaction, if any: the denial is then written after it
    ends when it already holds the organisation's audit-chain lock (no self-deadlock).
    """

    async def audited(error: EgressRefused) -> None:
        where = f" ({error.address})" if error.address else ""
        reason = f"egress refused: {error.url}{where} is {error.reason}" + (
            f"; run {run_id}" if run_id else ""
        )
        kwargs: dict[str, Any] = {
            "action": "integration.egress",
            "organization_id": integration.organization_id,
            "resource_id": integration.id,
            "reason": reason,
        }
        if session is not None:
            await audit_denial(session, actor, **kwargs)
            return
        async with sessions() as own:
            await audit_denial(own, actor, **kwargs)

    return EgressGuard(EgressPolicy.parse(settings.egress_allow), on_refused=audited)


def secret_values(secrets: dict[str, Any]) -> list[str]:
    """Every string inside the secrets (and a URL's password), longest first, for redaction."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
            if "://" in value:
                try:
                    password = urlsplit(value).password
                except ValueError:
                    password = None
                if password:
                    found.append(password)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(secrets)
    found += [json.dumps(v)[1:-1] for v in found]  # as it appears inside JSON text
    return sorted({v for v in found if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


async def decrypt_audited(
    session: AsyncSession,
    ring: KeyRing,
    actor: Actor,
    integration: Integration,
    *,
    purpose: str,
    run_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Decrypts an integration's secrets and records the use (names only) in ``session``."""
    try:
        values = ring.decrypt(integration.organization_id, integration.secrets)
    except SecretsUnavailable as exc:
        raise ToolError(f"the integration's secrets are unavailable: {exc}") from None
    if values:
        await audit(
            session,
            actor,
            action="integration.secret_use",
            organization_id=integration.organization_id,
            resource_id=integration.id,
            summary={
                "purpose": purpose,
                "fields": sorted(values),
                "type": integration.type,
                "runId": str(run_id) if run_id else None,
            },
        )
    return values


def tool_context(
    kind: IntegrationType,
    integration: Integration,
    secrets: dict[str, Any],
    guard: EgressGuard,
    *,
    run_id: uuid.UUID | None = None,
    timeout: float = 30.0,
) -> ToolContext[Any, Any]:
    config = kind.config_model.model_validate(integration.config or {})
    parsed_secrets = kind.secrets_model.model_validate(secrets)
    return ToolContext(
        config=config,
        secrets=parsed_secrets,
        integration_id=integration.id,
        organization_id=integration.organization_id,
        egress=guard,
        cache=dict(integration.cache or {}),
        run_id=run_id,
        timeout=timeout,
    )
