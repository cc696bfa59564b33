"""Integrations of an organisation: create, update, delete, test, discover tools, read.

Secrets are validated against the type's secrets model, encrypted before they reach the session
and never returned; readers only learn which secret fields are set. Every change is audited in
the caller's transaction; every decryption is audited as ``integration.secret_use``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.authz import Actor
from backend.db import autocommit, engine_of, transaction
from backend.errors import Conflict, Invalid, NotFound
from backend.integrations import registry, repository
from backend.integrations.access import audit, authorize, authorized_select
from backend.integrations.builtins.openapi import tools_from_openapi
from backend.integrations.context import decrypt_audited, make_guard, sessions_of, tool_context
from backend.integrations.crypto import secret_fields
from backend.integrations.egress import EgressRefused
from backend.integrations.keys import decrypting_ring, key_ring
from backend.integrations.schemas import (
    CreateIntegrationInput,
    ImportOpenApiInput,
    TestResult,
    UpdateIntegrationInput,
    dump,
    validate_model,
)
from backend.integrations.sdk import ToolError
from backend.models import Integration, Organization
from backend.settings import Settings, get_settings

TEST_TIMEOUT = 15.0
DISCOVERY_TIMEOUT = 10.0


async def _get(session: AsyncSession, actor: Actor, integration_id: uuid.UUID, action: str) -> Integration:
    integration = await session.scalar(repository.by_id(integration_id))
    if integration is None:
        raise NotFound("integration not found")
    await authorize(session, actor, action, integration)
    return integration


async def get_integration(session: AsyncSession, actor: Actor, integration_id: uuid.UUID) -> Integration:
    return await _get(session, actor, integration_id, "read")


async def list_integrations(
    session: AsyncSession, actor: Actor, organization_id: uuid.UUID
) -> Sequence[Integration]:
    stmt = await authorized_select(session, actor, "read", Integration)
    stmt = stmt.where(Integration.organization_id == organization_id).order_by(Integration.name)
    return (await session.scalars(stmt)).all()


async def _unique_name(
    session: AsyncSession, organization_id: uuid.UUID, name: str, own_id: uuid.UUID | None = None
) -> None:
    existing = await session.scalar(repository.by_name(organization_id, name))
    if existing is not None and existing.id != own_id:
        raise Conflict(f"an integration named {name!r} already exists", field="name")


async def create_integration(
    session: AsyncSession, actor: Actor, settings: Settings, data: CreateIntegrationInput
) -> Integration:
    org = await session.get(Organization, data.organization_id)
    if org is None:
        raise NotFound("organization not found")
    await authorize(session, actor, "manage_integrations", org)
    kind = registry.get_type(data.type)
    config = dump(validate_model(kind.config_model, data.config, "config"))
    secrets = dump(validate_model(kind.secrets_model, data.secrets, "secrets"))
    await _unique_name(session, org.id, data.name)
    ring = await key_ring(session, settings)
    integration = Integration(
        id=uuid.uuid4(),
        organization_id=org.id,
        type=kind.key,
        name=data.name,
        config=config,
        secrets=ring.encrypt(org.id, secrets) if secrets else None,
        cache={},
        created_by_id=actor.user_id,
    )
    session.add(integration)
    await session.flush()
    await audit(
        session,
        actor,
        action="integration.create",
        organization_id=org.id,
        resource_id=integration.id,
        summary={"type": kind.key, "name": data.name, "encryptedFields": sorted(secrets)},
    )
    if kind.dynamic_tools:
        await _try_discover(session, actor, settings, integration, secrets)
    return integration


async def update_integration(
    session: AsyncSession, actor: Actor, settings: Settings, data: UpdateIntegrationInput
) -> Integration:
    integration = await _get(session, actor, data.id, "manage")
    kind = registry.get_type(integration.type)
    changed: list[str] = []
    if data.name is not None and data.name.strip() != integration.name:
        await _unique_name(session, integration.organization_id, data.name.strip(), integration.id)
        integration.name = data.name.strip()
        changed.append("name")
    if data.config is not None:
        integration.config = dump(validate_model(kind.config_model, data.config, "config"))
        changed.append("config")
    secrets: dict[str, Any] | None = None
    if data.secrets is not None:
        ring = await key_ring(session, settings)
        merged = ring.decrypt(integration.organization_id, integration.secrets)
        for field, value in data.secrets.items():
            if value is None:
                merged.pop(field, None)
            else:
                merged[field] = value
        secrets = dump(validate_model(kind.secrets_model, merged, "secrets"))
        integration.secrets = ring.encrypt(integration.organization_id, secrets) if secrets else None
        changed.append("secrets")
    await audit(
        session,
        actor,
        action="integration.update",
        organization_id=integration.organization_id,
        resource_id=integration.id,
        summary={"changed": changed, "encryptedFields": sorted(data.secrets or {})},
    )
    if kind.dynamic_tools and ({"config", "secrets"} & set(changed)):
        await _try_discover(session, actor, settings, integration, secrets)
    return integration


async def delete_integration(session: AsyncSession, actor: Actor, integration_id: uuid.UUID) -> uuid.UUID:
    integration = await _get(session, actor, integration_id, "manage")
    await audit(
        session,
        actor,
        action="integration.delete",
        organization_id=integration.organization_id,
        resource_id=integration.id,
        summary={"type": integration.type, "name": integration.name},
    )
    await session.delete(integration)
    await session.flush()
    return integration_id


async def _context(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    integration: Integration,
    secrets: dict[str, Any] | None,
    purpose: str,
) -> Any:
    kind = registry.get_type(integration.type)
    if secrets is None:
        ring = await key_ring(session, settings)
        secrets = await decrypt_audited(session, ring, actor, integration, purpose=purpose)
    guard = make_guard(settings, actor, integration, sessions=sessions_of(session), session=session)
    return kind, tool_context(kind, integration, secrets, guard, timeout=TEST_TIMEOUT)


async def _discover(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    integration: Integration,
    secrets: dict[str, Any] | None,
) -> list[str]:
    """Refreshes a dynamic type's cached tool list; failures are kept in the cache, not raised."""
    kind, ctx = await _context(session, actor, settings, integration, secrets, "discovery")
    now = datetime.now(UTC).isoformat()
    try:
        async with asyncio.timeout(DISCOVERY_TIMEOUT):
            tools = await kind.discover_tools(ctx)
    except (ToolError, EgressRefused, TimeoutError) as exc:
        message = str(exc) or "discovery timed out"
        integration.cache = {**(integration.cache or {}), "error": message, "checkedAt": now}
        raise ToolError(message) from None
    integration.cache = {"tools": tools or [], "fetchedAt": now}
    return [t["name"] for t in tools or []]


async def _try_discover(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    integration: Integration,
    secrets: dict[str, Any] | None,
) -> None:
    """Discovery on create/update is best effort: an unreachable server must not block saving."""
    with contextlib.suppress(ToolError):
        await _discover(session, actor, settings, integration, secrets)


async def refresh_tools(
    session: AsyncSession, actor: Actor, settings: Settings, integration_id: uuid.UUID
) -> Integration:
    integration = await _get(session, actor, integration_id, "manage")
    kind = registry.get_type(integration.type)
    if not kind.dynamic_tools:
        raise Invalid(f"integrations of type {kind.key!r} have no tools to discover", field="id")
    try:
        names = await _discover(session, actor, settings, integration, None)
    except ToolError as exc:
        raise Invalid(str(exc), field="id") from None
    await audit(
        session,
        actor,
        action="integration.refresh_tools",
        organization_id=integration.organization_id,
        resource_id=integration.id,
        summary={"tools": len(names)},
    )
    return integration


async def check_integration(
    session: AsyncSession, actor: Actor, settings: Settings, integration_id: uuid.UUID
) -> TestResult:
    """Checks the credentials against the live system; the outcome is data, not an error."""
    integration = await _get(session, actor, integration_id, "manage")
    try:
        kind, ctx = await _context(session, actor, settings, integration, None, "test")
        async with asyncio.timeout(TEST_TIMEOUT):
            result = TestResult(ok=True, message=await kind.test(ctx))
        if kind.dynamic_tools:
            secrets = ctx.secrets.model_dump(by_alias=True)
            result.tools = await _discover(session, actor, settings, integration, secrets)
    except (ToolError, EgressRefused) as exc:
        result = TestResult(ok=False, message=str(exc))
    except ValidationError:
        result = TestResult(ok=False, message="the stored configuration no longer matches the type's schema")
    except TimeoutError:
        result = TestResult(ok=False, message=f"no answer within {TEST_TIMEOUT:g}s")
    await audit(
        session,
        actor,
        action="integration.test",
        organization_id=integration.organization_id,
        resource_id=integration.id,
        summary={"ok": result.ok},
    )
    return result


async def import_openapi(session: AsyncSession, actor: Actor, data: ImportOpenApiInput) -> Integration:
    integration = await _get(session, actor, data.id, "manage")
    if integration.type != "http":
        raise Invalid("OpenAPI documents can only be imported into http integrations", field="id")
    reserved = {spec.name for spec in registry.get_type("http").static_tools()}
    tools = tools_from_openapi(data.document, reserved)
    integration.cache = {"tools": tools, "source": "openapi", "importedAt": datetime.now(UTC).isoformat()}
    await audit(
        session,
        actor,
        action="integration.openapi_import",
        organization_id=integration.organization_id,
        resource_id=integration.id,
        summary={"tools": len(tools)},
    )
    return integration


def set_secret_fields(integration: Integration) -> list[str]:
    return secret_fields(integration.secrets)


async def model_credentials(
    session: AsyncSession, actor: Actor | None, *, integration: Integration, settings: Settings | None = None
) -> Any:
    """Decrypted credentials of a model-provider integration, for the runtime (audited as a use).

    The audit event is written on its own connection, outside the runtime's reads, as one statement
    that commits by itself: a run holds no audit-chain lock while it talks to the model.
    """
    from backend.runtime.credentials import CredentialsError, ModelCredentials

    kind = registry.find_type(integration.type)
    if kind is None or kind.kind != "model":
        raise CredentialsError(f"integration {integration.name!r} is not a model provider")
    settings = settings or get_settings()
    who = actor or Actor.system()
    secrets: dict[str, Any] = {}
    try:
        if integration.secrets:  # a keyless endpoint (local model server): nothing to decrypt or audit
            async with autocommit(engine_of(session)) as own:
                secrets = await decrypt_audited(
                    own,
                    decrypting_ring(settings),
                    who,
                    integration,
                    purpose="model",
                    run_id=getattr(who, "run_id", None),
                )
    except ToolError as exc:
        raise CredentialsError(str(exc)) from None
    config = integration.config or {}
    # No base URL means the provider SDK's own default (SDKs differ on whether it ends in /v1).
    return ModelCredentials(
        kind=integration.type,
        api_key=secrets.get("apiKey") or secrets.get("api_key"),
        base_url=config.get("baseUrl") or config.get("base_url") or None,
        model=config.get("model"),
    )


STALE_AFTER = timedelta(hours=1)


def is_stale(integration: Integration, now: datetime | None = None) -> bool:
    """A discovering integration whose tool list is missing or older than :data:`STALE_AFTER`."""
    kind = registry.find_type(integration.type)
    if kind is None or not kind.dynamic_tools:
        return False
    cache = integration.cache or {}
    fetched = cache.get("fetchedAt")
    if "tools" not in cache or not isinstance(fetched, str):
        return True
    try:
        return (now or datetime.now(UTC)) - datetime.fromisoformat(fetched) > STALE_AFTER
    except ValueError:
        return True


async def refresh_stale(
    sessions: async_sessionmaker[AsyncSession],
    actor: Actor,
    settings: Settings,
    organization_id: uuid.UUID,
    integration_ids: Sequence[uuid.UUID],
) -> None:
    """At run start: re-discover stale tool lists (best effort; the old list stays on failure)."""
    async with sessions() as session:
        rows = (
            await session.scalars(repository.in_organization(organization_id, list(integration_ids)))
        ).all()
    for row in rows:
        if not is_stale(row):
            continue
        async with transaction(sessions) as session:
            fresh = await session.scalar(repository.by_id(row.id).with_for_update(skip_locked=True))
            if fresh is not None and is_stale(fresh):
                await _try_discover(session, actor, settings, fresh, None)
