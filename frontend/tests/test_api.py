"""``agentry_web.api`` against stub servers: graphql-transport-ws subscriptions, GraphQL errors, a dead API.

Run in the frontend's own environment: ``cd frontend && uv run pytest``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from agentry_web import api

DEAD_URL = "http://127.0.0.1:9"


@dataclass
class Session:
    """What the fake server saw after ``subscribe``; ``done`` is set when its handler returns."""

    received: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def fake_subscriptions(ws: ServerConnection, session: Session) -> None:
    """Acks unless the token is "bad", sends a ping and three events, then ends as ``variables`` ask."""
    init = json.loads(await ws.recv())
    if init["payload"].get("authorization") == "Bearer bad":
        await ws.close(4403, "Forbidden")
        return
    await ws.send(json.dumps({"type": "connection_ack"}))
    sub = json.loads(await ws.recv())
    await ws.send(json.dumps({"type": "ping"}))
    for n in range(3):
        await ws.send(json.dumps({"id": sub["id"], "type": "next", "payload": {"data": {"n": n}}}))
    ending = sub["payload"]["variables"].get("end", "complete")
    if ending == "error":
        error = {"message": "nope", "extensions": {"code": "FORBIDDEN"}}
        await ws.send(json.dumps({"id": sub["id"], "type": "error", "payload": [error]}))
    elif ending == "complete":
        await ws.send(json.dumps({"id": sub["id"], "type": "complete"}))
    else:  # wait for the client to leave and record what it said
        session.received = [json.loads(m) async for m in ws]
    await ws.wait_closed()
    session.close_code = ws.close_code


@pytest.fixture
async def ws_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[Session]]:
    sessions: list[Session] = []

    async def handler(ws: ServerConnection) -> None:
        sessions.append(session := Session())
        try:
            await fake_subscriptions(ws, session)
        finally:
            session.done.set()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[api.subscriptions.PROTOCOL]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        monkeypatch.setenv("AGENTRY_API_URL", f"http://127.0.0.1:{port}")
        yield sessions


async def collect(**variables: Any) -> list[dict[str, Any]]:
    return [data async for data in api.subscribe("subscription { n }", variables, token="t")]


async def test_subscription_yields_events_until_complete(ws_api: list[Session]) -> None:
    assert await collect() == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_subscription_error_carries_the_graphql_code(ws_api: list[Session]) -> None:
    with pytest.raises(api.ApiError) as error:
        await collect(end="error")
    assert error.value.code == "FORBIDDEN"


async def test_refused_token_is_unauthenticated(ws_api: list[Session]) -> None:
    with pytest.raises(api.ApiError) as error:
        await anext(api.subscribe("subscription { n }", token="bad"))
    assert error.value.code == "UNAUTHENTICATED"


async def test_leaving_early_completes_and_closes_cleanly(ws_api: list[Session]) -> None:
    stream = api.subscribe("subscription { n }", {"end": "wait"})
    assert await anext(stream) == {"n": 0}
    await stream.aclose()
    await asyncio.wait_for(ws_api[0].done.wait(), 5)
    assert ws_api[0].received == [{"type": "pong"}, {"id": "1", "type": "complete"}]
    assert ws_api[0].close_code == 1000


class GraphQLStub(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        error = {"message": "no", "path": ["agent"], "extensions": {"code": "NOT_FOUND"}}
        body = {"data": None, "errors": [error]}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GraphQLStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AGENTRY_API_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield
    server.shutdown()
    server.server_close()


async def test_graphql_error_is_raised_with_code_and_path(http_api: None) -> None:
    with pytest.raises(api.ApiError) as error:
        await api.graphql("{ agent(id: 1) { id } }")
    assert (error.value.code, error.value.path) == ("NOT_FOUND", ["agent"])


async def test_dead_api_is_unavailable_and_unhealthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTRY_API_URL", DEAD_URL)
    assert await api.health() is False
    with pytest.raises(api.ApiError) as error:
        await api.graphql("{ viewer { id } }")
    assert error.value.code == "UNAVAILABLE"
    with pytest.raises(api.ApiError) as error:
        await anext(api.subscribe("subscription { n }"))
    assert error.value.code == "UNAVAILABLE"


async def test_a_connection_opened_ahead_serves_one_subscription(ws_api: list[Session]) -> None:
    connection = await api.subscriptions.open_connection("t")  # e.g. while sendMessage is in flight
    events = [data async for data in api.subscribe("subscription { n }", connection=connection)]
    assert events == [{"n": 0}, {"n": 1}, {"n": 2}]
    await asyncio.wait_for(ws_api[0].done.wait(), 5)
    assert ws_api[0].close_code == 1000
