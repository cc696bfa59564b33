"""GraphQL subscriptions over the graphql-transport-ws protocol, on ``websockets``.

One websocket per subscription keeps the state handling simple: a background event owns its socket and
closes it when it stops listening. The token travels in the ``connection_init`` payload, where the API
authenticates subscriptions (API.md "Authentication").
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from agentry_web.api.client import ApiError, api_url, raise_for_errors, unreachable

PROTOCOL = Subprotocol("graphql-transport-ws")
OPEN_TIMEOUT = 10.0
# Close codes the API uses to refuse a connection_init (bad or missing token).
AUTH_CLOSE_CODES = {4401, 4403}


def _ws_url() -> str:
    return api_url().replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/graphql"


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Socket failures as :class:`ApiError`: ``UNAUTHENTICATED`` for a refused token, else ``UNAVAILABLE``."""
    try:
        yield
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        if code in AUTH_CLOSE_CODES:
            raise ApiError("Your session has expired.", code="UNAUTHENTICATED") from exc
        raise unreachable(exc) from exc
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        raise unreachable(exc) from exc


async def open_connection(token: str | None = None) -> ClientConnection:
    """A socket past ``connection_init``, ready for one :func:`subscribe` (``connection=``).

    Opening it while the request that yields the subscription's variables is in flight (``sendMessage``
    before ``runEvents``) saves the handshake's round trips. The subscription closes it.
    """
    with _translated():
        ws = await connect(_ws_url(), subprotocols=[PROTOCOL], open_timeout=OPEN_TIMEOUT)
        try:
            await _init(ws, token)
        except BaseException:
            await ws.close()
            raise
        return ws


async def subscribe(
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    *,
    connection: ClientConnection | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield each event's ``data`` until the server completes the subscription.

    Raises :class:`ApiError`: the GraphQL error's code, ``UNAUTHENTICATED`` when the server refuses the
    token, ``UNAVAILABLE`` when the socket cannot be opened or drops. Leaving the ``async for`` early sends
    ``complete`` so the server stops the resolver. ``connection`` (from :func:`open_connection`) is used
    instead of opening a socket, and closed at the end either way.
    """
    ws = connection or await open_connection(token)
    with _translated():
        finished = False
        try:
            await _send(
                ws,
                {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}},
            )
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    # A pong racing the server's close is harmless; the loop then sees the close.
                    with contextlib.suppress(ConnectionClosed):
                        await _send(ws, {"type": "pong"})
                elif kind == "next":
                    raise_for_errors(message["payload"])
                    yield message["payload"].get("data") or {}
                elif kind in ("error", "complete"):
                    finished = True
                    if kind == "error":
                        raise_for_errors({"errors": message.get("payload") or [{"message": "error"}]})
                    return
            # The server closed normally without ``complete``: events may be missing, let the caller know.
            raise ApiError("subscription closed before it completed", code="UNAVAILABLE")
        finally:
            if not finished:
                with contextlib.suppress(ConnectionClosed):
                    await _send(ws, {"id": "1", "type": "complete"})
            # Close with 1000 (a plain close), whatever ended the subscription.
            await ws.close()


async def _init(ws: ClientConnection, token: str | None) -> None:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await _send(ws, {"type": "connection_init", "payload": payload})
    ack = json.loads(await ws.recv())
    if ack.get("type") != "connection_ack":
        raise ApiError(f"unexpected {ack.get('type')!r} before connection_ack", code="UNAVAILABLE")


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))
