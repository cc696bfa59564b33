"""WebSocket writes coalesced per loop iteration: nothing lost, nothing reordered, flushed on close."""

from __future__ import annotations

import asyncio
import socket

from graph.ws_protocol import CoalescingTransport


async def _pair() -> tuple[socket.socket, asyncio.Transport]:
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, sock=writer)
    return reader, transport


def _pending(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""


async def test_writes_in_one_iteration_leave_together_in_order() -> None:
    reader, real = await _pair()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    for piece in (b"one ", b"two ", b"three"):
        transport.write(piece)
    assert _pending(reader) == b""  # held until the loop iteration ends
    await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert _pending(reader) == b"one two three"
    transport.write(b"last")
    transport.close()  # flushes first
    await asyncio.sleep(0.01)
    assert _pending(reader) == b"last"
    reader.close()
