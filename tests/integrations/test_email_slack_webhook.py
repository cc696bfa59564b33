"""``email`` (aiosmtpd), ``slack`` (a Slack Web API peer) and ``webhook`` (a verifying receiver)."""

from __future__ import annotations

import asyncio
import json
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic_ai.exceptions import ToolFailed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.db import transaction
from backend.integrations import service
from backend.integrations.builtins.webhook import SIGNATURE_HEADER, verify_signature
from backend.resources import Resources
from backend.settings import Settings
from tests.conftest import free_port
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, run_tools, toolset_for

BOT_TOKEN = "xoxb-test-bot-token-1234"
SIGNING_SECRET = "whsec-0123456789abcdef"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"bot",
        b"pw-smtp-9",
    )
    return AuthResult(success=ok)


async def test_email_send_through_smtp(resources: Resources, settings: Settings, world: World) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        mail = await create(
            resources.sessions,
            settings,
            world.owner,
            world.a,
            "email",
            "mail",
            {"host": "127.0.0.1", "port": port, "fromAddress": "bot@acme.test", "starttls": False},
            {"username": "bot", "password": "pw-smtp-9"},
        )
        run = await bound_run(resources, world, [mail])
        toolset = await toolset_for(resources, settings, run)
        outcome = await run_tools(
            toolset,
            [
                (
                    "send_email",
                    {
                        "to": ["ann@example.com", "bob@example.com"],
                        "subject": "Hi",
                        "body": "Hello from the agent",
                    },
                )
            ],
        )
        result = outcome.contents[0]
        assert result["accepted"] == ["ann@example.com", "bob@example.com"]
        rcpts, raw = inbox.messages[0]
        message = message_from_bytes(raw)
        assert rcpts == ["ann@example.com", "bob@example.com"] and message["Subject"] == "Hi"
        assert message["X-Agentry-Idempotency-Key"] == f"{run.id}:call-0"
        assert "Hello from the agent" in message.get_payload()
        with pytest.raises(ToolFailed, match="invalid arguments"):
            await toolset.executor.call("send_email", {"to": ["not-an-address"], "subject": "x", "body": "y"})
        async with transaction(resources.sessions) as s:
            assert (await service.check_integration(s, world.owner, settings, mail.id)).ok
        async with transaction(resources.sessions) as s:
            await service.update_integration(
                s,
                world.owner,
                settings,
                service.UpdateIntegrationInput(
                    id=mail.id,
                    config={
                        "host": "127.0.0.1",
                        "port": free_port(),
                        "fromAddress": "bot@acme.test",
                        "starttls": False,
                    },
                ),
            )
        async with transaction(resources.sessions) as s:
            failed = await service.check_integration(s, world.owner, settings, mail.id)
        assert not failed.ok and "SMTPConnectError" in failed.message
    finally:
        controller.stop()


def slack_api() -> tuple[Starlette, list[dict[str, Any]]]:
    posted: list[dict[str, Any]] = []

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {BOT_TOKEN}"

    async def post_message(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        body = await request.json()
        if body["channel"] == "C-missing":
            return JSONResponse({"ok": False, "error": "channel_not_found"})
        posted.append(body)
        return JSONResponse({"ok": True, "channel": body["channel"], "ts": f"1700000000.00{len(posted)}"})

    async def history(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        limit = int(request.query_params["limit"])
        messages = [
            {"type": "message", "user": "U1", "text": p["text"], "ts": f"1.{i}"}
            for i, p in enumerate(reversed(posted))
            if p["channel"] == request.query_params["channel"]
        ]
        return JSONResponse({"ok": True, "messages": messages[:limit], "has_more": False})

    async def auth_test(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        return JSONResponse({"ok": True, "user": "agentry-bot", "team": "Acme"})

    app = Starlette(
        routes=[
            Route("/api/chat.postMessage", post_message, methods=["POST"]),
            Route("/api/conversations.history", history),
            Route("/api/auth.test", auth_test, methods=["POST"]),
        ]
    )
    return app, posted


async def test_slack_post_and_read(resources: Resources, loopback: Settings, world: World) -> None:
    from tests.integrations.peers import serve

    app, posted = slack_api()
    async with serve(app) as url:
        slack = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "slack",
            "slack",
            {"apiBaseUrl": url + "/api"},
            {"botToken": BOT_TOKEN},
        )
        run = await bound_run(resources, world, [slack])
        toolset = await toolset_for(resources, loopback, run)
        outcome = await run_tools(toolset, [("post_message", {"channel": "C1", "text": "deploy done"})])
        assert outcome.contents[0] == {"channel": "C1", "ts": "1700000000.001"}
        history = await toolset.executor.call("read_channel", {"channel": "C1", "limit": 5})
        assert history["messages"] == [{"user": "U1", "text": "deploy done", "ts": "1.0"}]
        with pytest.raises(ToolFailed, match="channel_not_found"):
            await toolset.executor.call("post_message", {"channel": "C-missing", "text": "x"})
        async with transaction(resources.sessions) as s:
            check = await service.check_integration(s, world.owner, loopback, slack.id)
        assert check.ok and "agentry-bot" in check.message
    assert posted == [{"channel": "C1", "text": "deploy done"}]


async def test_webhook_is_signed(resources: Resources, loopback: Settings, world: World) -> None:
    from tests.integrations.peers import serve

    received: list[dict[str, Any]] = []

    async def receiver(request: Request) -> Response:
        raw = await request.body()
        if not verify_signature(SIGNING_SECRET, request.headers.get(SIGNATURE_HEADER, ""), raw):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        received.append({"body": json.loads(raw), "key": request.headers.get("idempotency-key")})
        return JSONResponse({"received": True})

    async with serve(Starlette(routes=[Route("/hook", receiver, methods=["POST"])])) as url:
        hook = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "webhook",
            "hook",
            {"url": url + "/hook"},
            {"signingSecret": SIGNING_SECRET},
        )
        wrong = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "webhook",
            "wrong",
            {"url": url + "/hook"},
            {"signingSecret": "not-the-right-secret"},
        )
        run = await bound_run(resources, world, [hook])
        toolset = await toolset_for(resources, loopback, run)
        outcome = await run_tools(toolset, [("send", {"json": {"event": "order.paid", "amount": 42}})])
        assert outcome.contents[0] == {"status": 200, "response": {"received": True}}
        assert received == [{"body": {"event": "order.paid", "amount": 42}, "key": f"{run.id}:call-0"}]
        bad_run = await bound_run(resources, world, [wrong])
        bad = await toolset_for(resources, loopback, bad_run)
        with pytest.raises(ToolFailed, match="HTTP 401"):
            await bad.executor.call("send", {"json": {"x": 1}})
    assert len(received) == 1
    header = "t=1700000000,v1=" + "0" * 64
    assert not verify_signature(SIGNING_SECRET, header, b"{}")
    await asyncio.sleep(0)
