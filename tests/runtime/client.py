"""A small graphql-transport-ws client for subscription tests (websockets)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

RUN_EVENTS = """subscription($runId: ID!, $afterSeq: Int) {
  runEvents(runId: $runId, afterSeq: $afterSeq) { runId seq type kind data }
}"""


@asynccontextmanager
async def ws_session(base_url: str, token: str | None) -> AsyncIterator[ClientConnection]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"], max_size=None) as ws:  # type: ignore[list-item]
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        yield ws


async def subscribe(
    ws: ClientConnection, query: str, variables: dict[str, Any], op_id: str = "1"
) -> AsyncIterator[dict[str, Any]]:
    """Yields each `next` payload; stops at `complete`; raises on `error`."""
    await ws.send(
        json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
    )
    while True:
        msg = json.loads(await ws.recv())
        if msg.get("id") != op_id:
            continue
        if msg["type"] == "next":
            yield msg["payload"]
        elif msg["type"] == "complete":
            return
        elif msg["type"] == "error":
            raise RuntimeError(msg["payload"])


async def collect_events(
    base_url: str, token: str, run_id: str, after_seq: int | None = None, timeout: float = 15.0
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    async def go() -> None:
        async with ws_session(base_url, token) as ws:
            async for payload in subscribe(ws, RUN_EVENTS, {"runId": run_id, "afterSeq": after_seq}):
                if payload.get("errors"):
                    raise RuntimeError(payload["errors"])
                out.append(payload["data"]["runEvents"])

    await asyncio.wait_for(go(), timeout)
    return out
