"""Integrations of an organisation: CRUD, validation, authorisation, audit, secrets at rest."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from backend.audit import drain_deferred
from backend.db import transaction
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.integrations import service
from backend.integrations.schemas import CreateIntegrationInput, UpdateIntegrationInput
from backend.models import AuditEvent, Integration
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, create

SECRET = "xoxb-super-secret-token-123"


async def test_create_encrypts_and_audits(resources: Resources, settings: Settings, world: World) -> None:
    row = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "slack",
        "Slack",
        {"apiBaseUrl": "https://slack.example/api"},
        {"botToken": SECRET},
    )
    assert row.config == {"apiBaseUrl": "https://slack.example/api"}
    assert row.secrets is not None and row.secrets["fields"] == ["botToken"] and row.secrets["kid"] == "k1"
    async with resources.sessions() as s:
        raw = await s.scalar(text("SELECT secrets::text FROM integrations WHERE id = :id"), {"id": row.id})
        events = (await s.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(row.id)))).all()
    assert SECRET not in raw
    assert [e.action for e in events] == ["integration.create"]
    assert SECRET not in json.dumps(events[0].summary)


async def test_validation_names_field_and_never_echoes_secrets(
    resources: Resources, settings: Settings, world: World
) -> None:
    with pytest.raises(Invalid) as err:
        await create(
            resources.sessions,
            settings,
            world.owner,
            world.a,
            "slack",
            "S",
            {},
            {"botToken": SECRET, "extra": SECRET},
        )
    assert "secrets.extra" in err.value.message and SECRET not in err.value.message
    with pytest.raises(Invalid, match=r"config\.baseUrl"):
        await create(resources.sessions, settings, world.owner, world.a, "http", "H", {"baseUrl": "ftp://x"})
    with pytest.raises(Invalid, match="unknown integration type"):
        await create(resources.sessions, settings, world.owner, world.a, "nope", "N", {})
    async with resources.sessions() as s:
        assert (await s.scalars(select(Integration))).all() == []


async def test_permissions(resources: Resources, settings: Settings, world: World) -> None:
    for who in (world.builder, world.member):
        with pytest.raises(Forbidden):
            await create(resources.sessions, settings, who, world.a, "http", "H", {"baseUrl": "https://x.io"})
    with pytest.raises(NotFound):
        await create(
            resources.sessions, settings, world.outsider, world.a, "http", "H", {"baseUrl": "https://x.io"}
        )
    row = await create(
        resources.sessions, settings, world.admin, world.a, "http", "H", {"baseUrl": "https://x.io"}
    )
    async with transaction(resources.sessions) as s:
        with pytest.raises(NotFound):
            await service.get_integration(s, world.outsider, row.id)
        assert (await service.get_integration(s, world.builder, row.id)).id == row.id
        assert [i.id for i in await service.list_integrations(s, world.builder, world.a.id)] == [row.id]
        assert await service.list_integrations(s, world.outsider, world.a.id) == []
    async with transaction(resources.sessions) as s:
        with pytest.raises(Forbidden):
            await service.delete_integration(s, world.builder, row.id)
    await drain_deferred()


async def test_update_merges_secrets_and_delete(
    resources: Resources, settings: Settings, world: World
) -> None:
    row = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "email",
        "Mail",
        {"host": "smtp.example.com", "fromAddress": "bot@example.com"},
        {"username": "bot", "password": "pw-1234"},
    )
    async with transaction(resources.sessions) as s:
        updated = await service.update_integration(
            s,
            world.owner,
            settings,
            UpdateIntegrationInput(id=row.id, name="Mailer", secrets={"password": "pw-5678"}),
        )
        assert updated.secrets["fields"] == ["password", "username"]
    async with transaction(resources.sessions) as s:
        updated = await service.update_integration(
            s,
            world.owner,
            settings,
            UpdateIntegrationInput(id=row.id, secrets={"username": None, "password": None}),
        )
        assert updated.secrets is None and updated.name == "Mailer"
    with pytest.raises(Conflict):
        await create(
            resources.sessions,
            settings,
            world.owner,
            world.a,
            "email",
            "Mailer",
            {"host": "h.example.com", "fromAddress": "a@example.com"},
        )
    async with transaction(resources.sessions) as s:
        await service.delete_integration(s, world.owner, row.id)
    async with resources.sessions() as s:
        assert await s.get(Integration, row.id) is None
        actions = (
            await s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.resource_id == str(row.id))
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert actions == ["integration.create", "integration.update", "integration.update", "integration.delete"]


async def test_create_input_shape() -> None:
    with pytest.raises(ValueError):
        CreateIntegrationInput.model_validate({"organization_id": "x", "type": "http", "name": " "})
