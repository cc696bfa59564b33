"""Model-provider integrations: credentials for the runtime (audited) and a live key check."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.db import transaction
from backend.integrations import service
from backend.models import AuditEvent
from backend.resources import Resources
from backend.runtime.credentials import CredentialsError
from backend.settings import Settings
from tests.integrations.factories import World, create
from tests.integrations.peers import serve


async def models(request: Request) -> Response:
    if request.headers.get("authorization") != "Bearer sk-good-key":
        return JSONResponse({"error": "invalid key"}, status_code=401)
    return JSONResponse({"data": [{"id": "llama3"}]})


async def test_model_credentials_and_check(resources: Resources, loopback: Settings, world: World) -> None:
    async with serve(Starlette(routes=[Route("/v1/models", models)])) as url:
        good = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "openai_compatible",
            "local",
            {"baseUrl": url + "/v1", "model": "llama3"},
            {"apiKey": "sk-good-key"},
        )
        bad = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "openai",
            "openai",
            {"baseUrl": url + "/v1"},
            {"apiKey": "sk-bad-key"},
        )
        async with transaction(resources.sessions) as s:
            assert (await service.check_integration(s, world.owner, loopback, good.id)).ok
        async with transaction(resources.sessions) as s:
            rejected = await service.check_integration(s, world.owner, loopback, bad.id)
        assert not rejected.ok and "rejected the API key" in rejected.message
    async with resources.sessions() as s:
        creds = await service.model_credentials(s, world.member, integration=good, settings=loopback)
    assert (creds.kind, creds.api_key, creds.base_url, creds.model) == (
        "openai_compatible",
        "sk-good-key",
        url + "/v1",
        "llama3",
    )
    async with resources.sessions() as s:
        uses = (
            await s.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "integration.secret_use", AuditEvent.resource_id == str(good.id)
                )
            )
        ).all()
    assert [u.summary["purpose"] for u in uses] == ["test", "model"]
    http = await create(resources.sessions, loopback, world.owner, world.a, "http", "api", {"baseUrl": url})
    async with resources.sessions() as s:
        with pytest.raises(CredentialsError, match="not a model provider"):
            await service.model_credentials(s, world.member, integration=http, settings=loopback)


async def test_runtime_reuses_the_row_but_decrypts_and_audits_every_use(
    resources: Resources, settings: Settings, world: World
) -> None:
    """The worker's 5 s reuse of a model integration's row: no SELECT on reuse, one audit per use, and
    a cached row whose secrets no longer decrypt is read again rather than failing the run."""
    from sqlalchemy import event, update

    from backend.db import autocommit
    from backend.models import Integration
    from backend.runtime.credentials import resolve

    good = await create(
        resources.sessions, settings, world.owner, world.a, "openai", "main", {}, {"apiKey": "sk-one"}
    )
    other = await create(
        resources.sessions, settings, world.outsider, world.b, "openai", "theirs", {}, {"apiKey": "sk-two"}
    )
    model = f"integration:{good.id}/gpt-4o-mini"
    settings.model_integration_cache_seconds = 1.0
    selects: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM integrations" in statement:
            selects.append(statement)

    async def use() -> str | None:
        async with autocommit(resources.engine) as s:
            creds = await resolve(s, settings, organization_id=world.a.id, model=model, actor=world.member)
        assert creds is not None
        return creds.api_key

    event.listen(resources.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert [await use(), await use()] == ["sk-one", "sk-one"]
        assert len(selects) == 1  # the second run reused the row
        # The stored ciphertext changes under the cache (here: made undecryptable, then repaired).
        async with transaction(resources.sessions) as s:
            await s.execute(
                update(Integration).where(Integration.id == good.id).values(secrets=other.secrets)
            )
        assert await use() == "sk-one"  # within the window the cached row still serves
        await asyncio.sleep(1.1)  # the window (1 s here) passes: the broken row is read and kept
        settings.model_integration_cache_seconds = 5.0
        with pytest.raises(CredentialsError, match=r"cannot be decrypted|unavailable"):
            await use()
        async with transaction(resources.sessions) as s:
            await s.execute(update(Integration).where(Integration.id == good.id).values(secrets=good.secrets))
        assert await use() == "sk-one"  # the cached broken row was dropped and read again
        assert len(selects) == 3
    finally:
        event.remove(resources.engine.sync_engine, "before_cursor_execute", record)
    async with resources.sessions() as s:
        uses = (
            await s.scalars(
                select(AuditEvent.id).where(
                    AuditEvent.action == "integration.secret_use", AuditEvent.resource_id == str(good.id)
                )
            )
        ).all()
    assert len(uses) == 4  # every successful use, cached row or not
