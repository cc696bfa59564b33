"""Where a run's model key comes from: the organisation's model integrations (encrypted secrets).

``openai:<m>`` / ``anthropic:<m>`` use the organisation's (oldest) integration of that type;
``integration:<id>[/<m>]`` uses that integration (``openai``, ``anthropic`` or ``openai_compatible``).
Decryption belongs to the integrations domain: :func:`resolve` prefers
``backend.integrations.service.model_credentials`` (audited) and otherwise decrypts with the
integrations key ring itself.

A worker reuses an integration's row for :attr:`Settings.model_integration_cache_seconds` (5 s):
every model run read it, one statement per run for a row that changes rarely. Decryption and its
audit stay per run. An edit reaches new runs within the window; a cached row whose secrets no
longer decrypt (keys retired by a rotation) is read again at once.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agents.schemas import parse_model
from backend.models import Integration
from backend.settings import Settings

try:  # imported with the worker, never inside a run
    from backend.integrations.keys import key_ring
except ImportError:  # pragma: no cover
    key_ring = None  # type: ignore[assignment]
try:
    from backend.integrations.service import model_credentials
except ImportError:
    model_credentials = None  # type: ignore[assignment]

MODEL_TYPES = ("openai", "anthropic", "openai_compatible")


@dataclass(frozen=True)
class ModelCredentials:
    kind: str  # openai | anthropic | openai_compatible
    api_key: str | None
    base_url: str | None
    model: str | None  # the integration's default model


class CredentialsError(Exception):
    """No usable integration for the model (a configuration problem, not retryable)."""


_CACHE: dict[tuple[uuid.UUID, str], tuple[float, Integration]] = {}
_CACHE_MAX = 10_000


async def _cached_integration(
    session: AsyncSession, settings: Settings, organization_id: uuid.UUID, model: str
) -> tuple[Integration, bool]:
    """The model's integration (a detached snapshot) and whether it came from the cache."""
    key = (organization_id, model)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and hit[0] > now:
        return hit[1], True
    found = (await _integration(session, organization_id, model)).detached()
    if settings.model_integration_cache_seconds > 0:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = (now + settings.model_integration_cache_seconds, found)
    return found, False


async def _integration(session: AsyncSession, organization_id: uuid.UUID, model: str) -> Integration:
    ref = parse_model(model)
    stmt = select(Integration).where(Integration.organization_id == organization_id)
    if ref.provider == "integration":
        stmt = stmt.where(Integration.id == ref.integration_id)
    else:
        stmt = stmt.where(Integration.type == ref.provider).order_by(Integration.created_at, Integration.id)
    found = (await session.scalars(stmt.limit(1))).first()
    if found is None or found.type not in MODEL_TYPES:
        what = "that model integration" if ref.provider == "integration" else f"an {ref.provider} integration"
        raise CredentialsError(f"The organisation has no {what} for model {model!r}")
    return found


async def _decrypt(session: AsyncSession, settings: Settings, integration: Integration) -> dict[str, Any]:
    if not integration.secrets:
        return {}
    if key_ring is None:
        raise CredentialsError("The integrations module is not installed")
    ring = await key_ring(session, settings)
    secrets: dict[str, Any] = ring.decrypt(integration.organization_id, integration.secrets)
    return secrets


async def resolve(
    session: AsyncSession, settings: Settings, *, organization_id: uuid.UUID, model: str, actor: Any = None
) -> ModelCredentials | None:
    """Credentials for ``model`` (None for ``offline``)."""
    if parse_model(model).provider == "offline":
        return None
    integration, cached = await _cached_integration(session, settings, organization_id, model)
    try:
        return await _credentials(session, settings, integration, actor)
    except CredentialsError:
        if not cached:
            raise
    _CACHE.pop((organization_id, model), None)  # stale: its secrets were re-encrypted meanwhile
    integration, _ = await _cached_integration(session, settings, organization_id, model)
    return await _credentials(session, settings, integration, actor)


async def _credentials(
    session: AsyncSession, settings: Settings, integration: Integration, actor: Any
) -> ModelCredentials:
    if model_credentials is not None:
        found: ModelCredentials = await model_credentials(
            session, actor, integration=integration, settings=settings
        )
        return found
    try:
        secrets = await _decrypt(session, settings, integration)
    except Exception as exc:
        raise CredentialsError(
            f"The model integration's secrets cannot be decrypted ({type(exc).__name__})"
        ) from None
    config = integration.config or {}
    return ModelCredentials(
        kind=integration.type,
        api_key=secrets.get("api_key") or secrets.get("apiKey"),
        base_url=config.get("base_url") or config.get("baseUrl"),
        model=config.get("model"),
    )
