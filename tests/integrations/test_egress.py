"""Egress guard: private, loopback, link-local, CGNAT, metadata and mapped addresses are refused
before any byte is sent, every refusal is audited, connections are pinned, redirects re-checked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic_ai.exceptions import ToolFailed
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.integrations.egress import (
    EgressGuard,
    EgressPolicy,
    EgressRefused,
    guarded_client,
    refusal_reason,
)
from backend.models import AuditEvent
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, toolset_for
from tests.integrations.peers import canary, serve


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request that reached the real HTTP transport (i.e. would open a connection)."""
    seen: list[str] = []
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def spy(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", spy)
    return seen


async def denials(resources: Resources) -> list[AuditEvent]:
    async with resources.sessions() as s:
        return list(
            (
                await s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == "integration.egress")
                    .order_by(AuditEvent.seq)
                )
            ).all()
        )


HOSTS = [
    "127.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "0x7f000001",
    "2130706433",
    "169.254.169.254",
    "10.0.0.1",
    "100.64.0.1",
    "[fd00::1]",
    "localhost",
]


async def test_required_addresses_refused_before_any_byte_and_audited(
    resources: Resources, settings: Settings, world: World, sent: list[str]
) -> None:
    assert settings.egress_allow == ""
    async with canary("127.0.0.1") as v4, canary("::1") as v6:
        integrations = []
        for i, host in enumerate(HOSTS):
            port = v6.port if host == "[::1]" else v4.port
            integrations.append(
                await create(
                    resources.sessions,
                    settings,
                    world.owner,
                    world.a,
                    "http",
                    f"h{i}",
                    {"baseUrl": f"http://{host}:{port}"},
                )
            )
        for integration, host in zip(integrations, HOSTS, strict=True):
            run = await bound_run(resources, world, [integration])
            toolset = await toolset_for(resources, settings, run)
            with pytest.raises(ToolFailed, match="egress refused") as err:
                await toolset.executor.call("request", {"path": "/"})
            assert "localhost" not in host or "loopback" in err.value.message
        assert (v4.connections, v4.bytes, v6.connections, v6.bytes) == (0, 0, 0, 0)
    assert sent == []
    events = await denials(resources)
    assert len(events) == len(HOSTS)
    assert {e.outcome for e in events} == {"denied"}
    assert {e.resource_id for e in events} == {str(i.id) for i in integrations}
    reasons = " | ".join(e.summary["reason"] for e in events)
    for word in ("loopback", "ipv4-mapped", "metadata", "private", "cgnat"):
        assert word in reasons


async def test_redirect_to_private_refused_hop_by_hop(
    resources: Resources, settings: Settings, world: World, sent: list[str]
) -> None:
    allowed = settings.model_copy(update={"egress_allow": "127.0.0.1"})
    async with canary("::1") as v6:
        targets = {
            "private": "http://10.0.0.1/x",
            "v6loop": f"http://[::1]:{v6.port}/x",
            "mapped": f"http://[::ffff:127.0.0.1]:{v6.port}/",
        }

        async def redirect(request: Request) -> Response:
            return RedirectResponse(targets[request.path_params["to"]], status_code=302)

        async with serve(Starlette(routes=[Route("/go/{to}", redirect)])) as url:
            http = await create(
                resources.sessions, allowed, world.owner, world.a, "http", "api", {"baseUrl": url}
            )
            run = await bound_run(resources, world, [http])
            toolset = await toolset_for(resources, allowed, run)
            for to in targets:
                with pytest.raises(ToolFailed, match="egress refused"):
                    await toolset.executor.call("request", {"path": f"/go/{to}"})
        assert (v6.connections, v6.bytes) == (0, 0)
    assert len(sent) == 3 and all(
        u.startswith("http://127.0.0.1:") for u in sent
    )  # only the allowed first hops
    assert len(await denials(resources)) == 3


@pytest.mark.parametrize(
    "url",
    [
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0/",
        "http://[::]/",
        "http://[2002:7f00:1::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[::127.0.0.1]/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "http://:80/",
    ],
)
async def test_guard_refuses(url: str) -> None:
    refused: list[EgressRefused] = []

    async def hook(error: EgressRefused) -> None:
        refused.append(error)

    with pytest.raises(EgressRefused):
        await EgressGuard(on_refused=hook).check(url)
    assert len(refused) == 1


async def test_mixed_dns_answers_are_refused_and_public_allowed() -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    with pytest.raises(EgressRefused, match="loopback"):
        await EgressGuard(resolver=rebinding).check("https://rebind.example/")

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    target = await EgressGuard(resolver=public).check("https://public.example/a")
    assert (target.host, target.ip, target.port) == ("public.example", "93.184.216.34", 443)
    assert refusal_reason(__import__("ipaddress").ip_address("2606:4700::1111")) is None


async def test_allow_list_hosts_and_networks() -> None:
    async def loop(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    policy = EgressPolicy.parse("ollama.internal, *.corp.test, 10.1.0.0/16, ::1")
    guard = EgressGuard(policy, resolver=loop)
    assert (await guard.check("http://ollama.internal:11434/v1")).ip == "127.0.0.1"
    assert (await guard.check("http://svc.corp.test/")).ip == "127.0.0.1"
    assert (await guard.check("http://10.1.2.3/")).ip == "10.1.2.3"
    assert (await guard.check("http://[::1]:8080/")).ip == "::1"
    for url in ("http://corp.test.evil/", "http://10.2.0.1/", "http://other.internal/"):
        with pytest.raises(EgressRefused):
            await guard.check(url)


async def test_connection_is_pinned_to_the_checked_address() -> None:
    """A name that no DNS knows is mapped to 127.0.0.1 by our resolver; the request reaches the
    loopback server with its Host header intact, so the socket went to the checked address."""
    seen: dict[str, Any] = {}

    async def host_echo(request: Request) -> Response:
        seen["host"] = request.headers["host"]
        return JSONResponse({"ok": True})

    async def mapped(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "pinned.agentry.test" else []

    async with serve(Starlette(routes=[Route("/", host_echo)])) as url:
        port = url.rsplit(":", 1)[1]
        guard = EgressGuard(EgressPolicy.parse("127.0.0.1"), resolver=mapped)
        async with guarded_client(guard) as client:
            response = await client.get(f"http://pinned.agentry.test:{port}/")
        assert response.json() == {"ok": True} and seen["host"] == f"pinned.agentry.test:{port}"
        with pytest.raises(EgressRefused, match="loopback"):
            async with guarded_client(EgressGuard(resolver=mapped)) as client:
                await client.get(f"http://pinned.agentry.test:{port}/")
