"""Model-provider integrations: credentials for the runtime (audited) and a live key check."""

from __future__ import annotations

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
