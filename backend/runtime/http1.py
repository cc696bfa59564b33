"""A minimal asyncio HTTP/1.1 client for the model hot path.

Why not httpx: a model request through httpx + anyio + the OpenAI SDK costs milliseconds of CPU in
layers this path never needs (auth flows, redirects, cookies, HTTP/2, sync/async abstraction). This
client is an ``asyncio.Protocol`` fed to ``httptools`` (llhttp, in C): one ``transport.write`` per
request, body chunks handed over as they arrive (so SSE streams), and keep-alive connections pooled
per origin (scheme, host, port).

Timeouts: ``connect_timeout`` bounds opening a connection (TCP + TLS); ``read_timeout`` is an idle
timeout on every read, so a server that stops sending mid-response fails within it while a
long stream that keeps sending never does. A connection goes back to the pool only after its response
was read to the end and the server did not ask to close it. A pooled connection that turns out dead
(the server closed it while idle, and nothing of a response came back) is replaced once, transparently.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ssl
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlsplit

import httptools

Phase = Literal["connect", "read"]

MAX_IDLE_PER_ORIGIN = 100
_MAX_BUFFERED = 1 << 20  # unread body bytes before the socket stops being read (flow control)


class HTTPError(Exception):
    """A transport failure; ``phase`` says how far the request got (``connect``: it was not sent)."""

    def __init__(self, message: str, phase: Phase) -> None:
        super().__init__(message)
        self.phase: Phase = phase


class HTTPTimeout(HTTPError, TimeoutError):
    """Connecting, or waiting for the next bytes of a response, took longer than allowed."""


_ssl_context: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
    """Created once: loading the system CA bundle costs milliseconds."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
        _ssl_context.set_alpn_protocols(["http/1.1"])
    return _ssl_context


class _Connection(asyncio.Protocol):
    """One socket: feeds received bytes to the parser, hands body bytes to a sink or buffers them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, registry: set[_Connection]) -> None:
        self.loop = loop
        self.registry = registry  # the pool's open connections, for Pool.close()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.reset()

    def reset(self) -> None:
        """Ready for the next request (on this connection, one at a time)."""
        self.active = True  # False while pooled: bytes arriving then mean the connection is unusable
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.keep_alive = False
        self.until_close = False  # body delimited by the server closing the connection
        self.body: list[bytes] = []
        self.buffered = 0
        self.paused = False
        self.complete = False
        self.received = False
        self.error: HTTPError | None = None
        self.sink: Callable[[bytes], None] | None = None
        self.failure: Exception | None = None  # raised by the sink
        self.last = self.loop.time()  # of the last bytes received (or the request sent)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.active:  # e.g. a 408 the server sent before closing an idle connection
            self.abort()
            return
        self.received = True
        self.last = self.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.error = HTTPError(f"malformed HTTP response: {exc}", "read")
            self.abort()
            self._wake()
            return
        if self.buffered > _MAX_BUFFERED and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.registry.discard(self)
        if not self.complete and self.error is None:
            if self.headers_done and self.until_close:
                self.complete = True
            else:
                reason = f": {exc}" if exc else ""
                self.error = HTTPError(f"the server closed the connection{reason}", "read")
        self._wake()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        names = {name.lower() for name, _ in self.raw_headers}
        self.until_close = b"content-length" not in names and b"transfer-encoding" not in names
        self.headers_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        sink = self.sink
        if sink is None:
            self.body.append(body)
            self.buffered += len(body)
            self._wake()
            return
        try:
            sink(body)
        except Exception as exc:  # the consumer gave up on this response: stop reading it
            self.sink, self.failure = None, exc
            self.abort()
            self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Until the protocol has news, or raise ``HTTPTimeout`` after ``seconds`` without any data.

        One timer per wait, pushed back lazily from ``last`` when it fires: a stream delivered to a
        sink waits once for its whole body, however many chunks arrive meanwhile.
        """
        waiter = self.loop.create_future()
        self.waiter = waiter
        self.timer = self.loop.call_at(self.last + seconds, self._check_idle, waiter, seconds)
        try:
            await waiter
        finally:
            self.timer.cancel()
            self.waiter = self.timer = None

    def _check_idle(self, waiter: asyncio.Future[None], seconds: float) -> None:
        if waiter.done():
            return
        if self.loop.time() >= self.last + seconds:
            waiter.set_exception(HTTPTimeout(f"no data from the server for {seconds:g}s", "read"))
        else:
            self.timer = self.loop.call_at(self.last + seconds, self._check_idle, waiter, seconds)

    def take_body(self) -> bytes:
        chunks = self.body
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            with contextlib.suppress(RuntimeError):  # its event loop is already closed
                self.transport.abort()


class Response:
    """Status and headers of a response whose body is read by iterating (``async for chunk in response``).

    Reading to the end returns the connection to the pool; ``close()`` abandons the rest of the body
    (and the connection). Call it in a ``finally``: it is a no-op once the body was read.
    """

    __slots__ = ("_conn", "_headers", "_pool", "_raw", "_timeout", "status")

    def __init__(self, pool: Pool, conn: _Connection, timeout: float) -> None:
        self.status = conn.status
        self._pool = pool
        self._conn: _Connection | None = conn
        self._timeout = timeout
        self._headers: dict[str, str] | None = None
        self._raw = conn.raw_headers

    @property
    def headers(self) -> dict[str, str]:
        """Lowercased names, repeated ones joined with ``, ``; built on first access (2xx rarely needs it)."""
        if self._headers is None:
            headers: dict[str, str] = {}
            for raw_name, raw_value in self._raw:
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            self._headers = headers
        return self._headers

    def header(self, name: str) -> str | None:
        """One header's value (first occurrence) without building ``headers``."""
        wanted = name.lower().encode("latin-1")
        for raw_name, raw_value in self._raw:
            if raw_name.lower() == wanted:
                return raw_value.decode("latin-1")
        return None

    def __aiter__(self) -> Response:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        while True:
            if conn.body:
                return conn.take_body()
            if conn.complete:
                self._conn = None
                self._pool._release(conn)
                raise StopAsyncIteration
            if conn.error is not None:
                self.close()
                raise conn.error
            try:
                await conn.wait(self._timeout)
            except BaseException:
                self.close()
                raise

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def stream_into(self, sink: Callable[[bytes], None]) -> None:
        """Hand the rest of the body to ``sink`` as it arrives; return once it was all delivered.

        Cheaper than iterating for a long stream: ``sink`` runs in the event loop's I/O callback (with
        a copy of the caller's context variables) and the caller's task wakes once, not per chunk. An
        exception from ``sink`` stops the response (its connection is closed) and is raised here.
        """
        conn = self._conn
        if conn is None:
            return
        context = contextvars.copy_context()
        try:
            if conn.body:
                sink(conn.take_body())
            run = context.run
            conn.sink = lambda data: run(sink, data)
            while True:
                if conn.failure is not None:
                    raise conn.failure
                if conn.complete:
                    break
                if conn.error is not None:
                    raise conn.error
                await conn.wait(self._timeout)
        except BaseException:
            self.close()
            raise
        conn.sink = None
        self._conn = None
        self._pool._release(conn)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()


class Pool:
    """Keep-alive connections to one origin; requests run concurrently, each on its own connection."""

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int | None = None,
        *,
        max_idle: int = MAX_IDLE_PER_ORIGIN,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported URL scheme {scheme!r}")
        self.scheme, self.host = scheme, host
        self.port = port or (443 if scheme == "https" else 80)
        self.max_idle = max_idle
        self._ssl = ssl_context if ssl_context is not None or scheme == "http" else _default_ssl_context()
        default_port = self.port == (443 if scheme == "https" else 80)
        host_header = f"[{host}]" if ":" in host else host
        self._host_header = host_header if default_port else f"{host_header}:{self.port}"
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self._host_header}"

    async def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        read_timeout: float,
        connect_timeout: float | None = None,
    ) -> Response:
        """Send one request and return once the response headers are in.

        ``read_timeout`` is the idle timeout of every read (headers and each body chunk);
        ``connect_timeout`` defaults to it. Raises ``HTTPError`` (``HTTPTimeout``) with the phase
        the request reached.
        """
        lines = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        count = len(headers) if headers else 0
        if lines.count("\n") != count or lines.count("\r") != count:
            raise ValueError("header names and values must not contain line breaks")
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {self._host_header}\r\n"
            f"Content-Length: {len(body)}\r\n{lines}\r\n"
        )
        data = head.encode("latin-1") + body
        conn = self._take_idle()
        if conn is not None:
            try:
                return await self._exchange(conn, data, read_timeout)
            except HTTPError as exc:
                if conn.received or isinstance(exc, HTTPTimeout):
                    raise  # the server did get the request: not a stale connection, never resent
        conn = await self._connect(read_timeout if connect_timeout is None else connect_timeout)
        return await self._exchange(conn, data, read_timeout)

    async def _exchange(self, conn: _Connection, data: bytes, read_timeout: float) -> Response:
        conn.reset()  # also starts the idle clock
        assert conn.transport is not None
        conn.transport.write(data)
        try:
            while not conn.headers_done:
                if conn.error is not None:
                    raise conn.error
                await conn.wait(read_timeout)
        except BaseException:
            conn.abort()
            raise
        return Response(self, conn, read_timeout)

    def _take_idle(self) -> _Connection | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self.close()
            self._loop = loop
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
        return None

    async def _connect(self, limit: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop, self._open),
                    self.host,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.host if self._ssl is not None else None,
                )
        except TimeoutError:
            raise HTTPTimeout(f"connecting to {self.origin} timed out after {limit:g}s", "connect") from None
        except OSError as exc:
            raise HTTPError(f"cannot connect to {self.origin}: {exc}", "connect") from exc
        self._open.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        if (
            conn.closed
            or not conn.keep_alive
            or conn.loop is not self._loop
            or len(self._idle) >= self.max_idle
        ):
            conn.abort()
        else:
            conn.active = False
            self._idle.append(conn)

    def close(self) -> None:
        """Close every connection, idle or in use (a response being read fails); new ones open on demand."""
        for conn in list(self._open):
            conn.abort()
        self._open.clear()
        self._idle.clear()


_POOLS: dict[tuple[str, str, int | None], Pool] = {}


def pool_for(url: str) -> Pool:
    """The process-wide pool for ``url``'s origin (created on first use)."""
    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname or "", parts.port)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = Pool(parts.scheme, parts.hostname or "", parts.port)
    return pool


def close_pools() -> None:
    """Close every pool ``pool_for`` created (at shutdown, or between event loops in tests)."""
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()
