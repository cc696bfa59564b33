"""Real local peers over sockets: an ASGI app served by uvicorn, and a raw TCP canary."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from tests.conftest import free_port


@contextlib.asynccontextmanager
async def serve(app: Any, host: str = "127.0.0.1", lifespan: str = "off") -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan=lifespan))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    shown = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{shown}:{port}"
    finally:
        server.should_exit = True
        await task


class Canary:
    """A TCP listener that counts connections and bytes: proof that nothing was sent."""

    def __init__(self) -> None:
        self.connections = 0
        self.bytes = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(Exception):
            data = await asyncio.wait_for(reader.read(65536), 1)
            self.bytes += len(data)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def canary(host: str = "127.0.0.1") -> AsyncIterator[Canary]:
    c = Canary()
    c.server = await asyncio.start_server(c._handle, host, 0)
    c.port = c.server.sockets[0].getsockname()[1]
    try:
        yield c
    finally:
        c.server.close()
        await c.server.wait_closed()
