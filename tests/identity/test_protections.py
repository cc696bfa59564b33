"""Transport protections: websocket authentication, query cost, introspection and suggestions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from graphql import parse, validate

from graph.cost import MAX_COST, QueryCostRule
from graph.schema import build_schema
from tests.conftest import error_codes
from tests.identity.helpers import sign_up


async def _ws_session(url: str, init: dict[str, Any]) -> tuple[int | None, list[dict[str, Any]]]:
    """Sends connection_init (then a subscribe) and returns the close code and every message received."""
    received: list[dict[str, Any]] = []
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps(init))
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { __typename }"}})
        )
        try:
            async with asyncio.timeout(5):
                async for message in ws:
                    received.append(json.loads(message))
        except (websockets.ConnectionClosed, TimeoutError):
            pass
        return ws.close_code, received


@pytest.mark.parametrize(
    "payload", [None, {"authorization": "Bearer ags_not-a-real-token"}, {"authorization": "Basic abc"}]
)
async def test_subscription_without_valid_token_receives_nothing(live_server: str, payload: Any) -> None:
    init: dict[str, Any] = {"type": "connection_init"}
    if payload is not None:
        init["payload"] = payload
    code, received = await _ws_session(live_server, init)
    assert code == 4403
    assert not [m for m in received if m.get("type") in ("connection_ack", "next")]


async def test_websocket_with_valid_token_is_acknowledged(live_server: str, gql: Any) -> None:
    token, _ = await sign_up(gql, "ws@example.com")
    ws_url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert ack["type"] == "connection_ack"


def _cost_errors(query: str) -> list[Any]:
    schema = build_schema(development=True)._schema
    return [e for e in validate(schema, parse(query), [QueryCostRule])]


def test_query_cost_limit() -> None:
    cheap = '{ organization(slug: "a") { members(first: 20) { edges { node { id user { email } } } } } }'
    assert _cost_errors(cheap) == []
    nested = """{ viewer { organizations { members(first: 100) { edges { node {
        user { organizations { members(first: 100) { edges { node { id } } } } } } } } } } }"""
    errors = _cost_errors(nested)
    assert errors and errors[0].extensions["cost"] > MAX_COST
    via_variable = """query($n: Int) { viewer { organizations { members(first: $n) { edges { node {
        user { organizations { members(first: $n) { edges { node { id } } } } } } } } } } }"""
    assert _cost_errors(via_variable)  # no default: assume the largest page


async def test_expensive_query_is_refused_over_http(gql: Any) -> None:
    nested = """{ viewer { organizations { members(first: 100) { edges { node {
        user { organizations { members(first: 100) { edges { node { id } } } } } } } } } } }"""
    body = await gql(nested)
    assert error_codes(body) == ["BAD_USER_INPUT"] and "too expensive" in body["errors"][0]["message"]


async def test_production_schema_hides_introspection_and_suggestions() -> None:
    prod = build_schema(development=False)
    intro = await prod.execute("{ __schema { types { name } } }")
    assert intro.errors and intro.data is None
    typo = await prod.execute("{ viewr { id } }")
    assert typo.errors and "Did you mean" not in typo.errors[0].message
    dev = build_schema(development=True)
    assert (await dev.execute("{ __schema { queryType { name } } }")).errors is None
