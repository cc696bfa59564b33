"""One Redis pub/sub connection per process, shared by every subscriber in it.

A hundred browser tabs watching runs cost one Redis connection, not a hundred. ``subscribe``
returns only once Redis has confirmed the SUBSCRIBE (so a caller that replays PostgreSQL *after*
subscribing cannot miss an event published in between). When the connection drops, the hub
reconnects with backoff, re-subscribes every channel and pushes :data:`RESYNC` into each
subscription: the consumer then replays from PostgreSQL, since Redis forgot what it published
meanwhile. The hub stops itself after a short idle period with no channels.

A process that follows many short-lived channels of one family (the API: one ``run:<id>`` per
chat message) can :func:`follow_prefix` it: the hub then PSUBSCRIBEs ``<prefix>*`` once, and
subscribing to or leaving such a channel is a local operation with no Redis command at all. The
price is that the process receives every channel of the family; workers, which follow few
channels, do not use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from backend.events.codec import decode
from backend.logging import log

RESYNC: dict[str, Any] = {"type": "__resync__"}
_KEEPALIVE = "hub:keepalive"
_IDLE_STOP_S = 15.0
_CONFIRM_TIMEOUT_S = 3.0
_QUEUE_MAX = 10_000


@dataclass(eq=False)
class Subscription:
    """A consumer's view of one channel: decoded events (or :data:`RESYNC`) in arrival order."""

    channel: str
    hub: EventHub
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(_QUEUE_MAX))
    live: bool = False  # False when Redis did not confirm in time: the consumer must poll

    async def close(self) -> None:
        await self.hub.unsubscribe(self)

    def push(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # a stalled consumer: make it resynchronise from PostgreSQL
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


@dataclass(eq=False)
class _Channel:
    confirmed: asyncio.Future[None]
    subs: set[Subscription] = field(default_factory=set)
    pattern: str | None = None  # served by this PSUBSCRIBE pattern instead of its own SUBSCRIBE


class EventHub:
    def __init__(self, redis: Redis, prefixes: frozenset[str] = frozenset()) -> None:
        self._redis = redis
        self._patterns = {prefix + "*" for prefix in prefixes}
        self._pattern_live: set[str] = set()  # patterns Redis has confirmed on this connection
        self._channels: dict[str, _Channel] = {}
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._idle_since: float | None = None
        self.closed = False

    # -- consumer API -------------------------------------------------------------------------------
    async def subscribe(self, name: str) -> Subscription:
        if self.closed:  # stopped while idle: a fresh hub takes over
            return await hub_for(self._redis).subscribe(name)
        loop = asyncio.get_running_loop()
        self._ensure_reader()
        ch = self._channels.get(name)
        if ch is None:
            pattern = self._pattern_of(name)
            ch = _Channel(confirmed=loop.create_future(), pattern=pattern)
            self._channels[name] = ch
            if pattern is not None:
                if pattern in self._pattern_live:
                    ch.confirmed.set_result(None)
            elif self._pubsub is not None:
                with contextlib.suppress(Exception):  # the reader re-subscribes after reconnecting
                    await self._pubsub.subscribe(name)
        sub = Subscription(name, self)
        ch.subs.add(sub)
        self._idle_since = None
        try:
            await asyncio.wait_for(asyncio.shield(ch.confirmed), _CONFIRM_TIMEOUT_S)
            sub.live = True
        except TimeoutError:
            sub.live = False
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        ch = self._channels.get(sub.channel)
        if ch is None:
            return
        ch.subs.discard(sub)
        if ch.subs:
            return
        del self._channels[sub.channel]
        if not ch.confirmed.done():
            ch.confirmed.cancel()
        if self._pubsub is not None and ch.pattern is None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(sub.channel)
        if not self._channels:
            self._idle_since = asyncio.get_running_loop().time()

    async def close(self) -> None:
        self.closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        await self._close_pubsub()

    def _pattern_of(self, name: str) -> str | None:
        return next((p for p in self._patterns if name.startswith(p[:-1])), None)

    # -- reader -------------------------------------------------------------------------------------
    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._run(), name="event-hub")

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _run(self) -> None:
        backoff = 0.05
        first = True
        while not self.closed:
            try:
                await self._connect(resync=not first)
                first = False
                backoff = 0.05
                await self._read_loop()
                return  # idle stop
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._close_pubsub()
                if not self._channels:  # nobody is listening: stop rather than reconnect
                    self.closed = True
                    _forget(self)
                    return
                log.warning("events.hub_disconnected", error=type(exc).__name__)
                first = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _connect(self, *, resync: bool) -> None:
        loop = asyncio.get_running_loop()
        for ch in self._channels.values():
            if ch.confirmed.done():
                ch.confirmed = loop.create_future()
        self._pattern_live.clear()
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(_KEEPALIVE, *(n for n, ch in self._channels.items() if ch.pattern is None))
        if self._patterns:
            await pubsub.psubscribe(*self._patterns)
        self._pubsub = pubsub
        if resync:
            # Anything published while disconnected is gone: every consumer replays from PostgreSQL
            # (after its channel's new confirmation, which the read loop resolves first).
            for ch in self._channels.values():
                ch.confirmed.add_done_callback(functools.partial(_resync_when_confirmed, ch))

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        pubsub = self._pubsub
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                idle = self._idle_since
                if not self._channels and idle is not None and loop.time() - idle > _IDLE_STOP_S:
                    self.closed = True
                    _forget(self)
                    await self._close_pubsub()
                    return
                continue
            kind = message.get("type")
            name = message.get("channel")
            if isinstance(name, bytes):
                name = name.decode()
            ch = self._channels.get(name) if name else None
            if kind in ("message", "pmessage") and ch is not None:
                try:
                    events = decode(message["data"])
                except ValueError:
                    continue
                for sub in tuple(ch.subs):
                    for event in events:
                        sub.push(event)
            elif kind == "subscribe" and ch is not None and not ch.confirmed.done():
                ch.confirmed.set_result(None)
            elif kind == "psubscribe":
                pattern = message.get("pattern") or name
                if isinstance(pattern, bytes):
                    pattern = pattern.decode()
                self._pattern_live.add(str(pattern))
                for each in tuple(self._channels.values()):
                    if each.pattern == pattern and not each.confirmed.done():
                        each.confirmed.set_result(None)


def _resync_when_confirmed(ch: _Channel, confirmed: asyncio.Future[None]) -> None:
    if confirmed.cancelled():
        return
    for sub in tuple(ch.subs):
        sub.live = True
        sub.push(RESYNC)


_HUBS: weakref.WeakKeyDictionary[Any, EventHub] = weakref.WeakKeyDictionary()


def _forget(hub: EventHub) -> None:
    for key, value in list(_HUBS.items()):
        if value is hub:
            del _HUBS[key]


_PREFIXES: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()


def hub_for(redis: Redis) -> EventHub:
    """The process's hub for this Redis client (created on first use)."""
    hub = _HUBS.get(redis)
    if hub is None or hub.closed:
        hub = EventHub(redis, _PREFIXES.get(redis, frozenset()))
        _HUBS[redis] = hub
    return hub


def follow_prefix(redis: Redis, prefix: str) -> None:
    """Serve every channel starting with ``prefix`` from one pattern subscription (call at start-up,
    before the first subscription; see the module docstring for the trade-off)."""
    _PREFIXES[redis] = _PREFIXES.get(redis, frozenset()) | {prefix}
    hub = _HUBS.get(redis)
    if hub is not None and not hub.closed:  # replaced on next use by a hub that knows the prefix
        _forget(hub)
        with contextlib.suppress(RuntimeError):  # no running loop: nothing was started either
            asyncio.get_running_loop().create_task(hub.close())
