"""Authenticated actors cached by token for a few seconds, so most requests skip the database.

Resolving a bearer token costs a session (or key) lookup and a principal load: two queries on
every request, more than the rest of a typical chat request. An entry holds the actor without
its per-request fields plus its principal, and is used only while

- it is younger than ``ttl`` seconds (and the session or key has not expired meanwhile),
- no principal or credential changed since it was loaded (:func:`backend.authz.principal.generation`:
  a logout, a revoked key, a role change anywhere voids every entry), and
- the process is listening for such changes (:class:`backend.authz.changes.ChangeListener`).
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from backend.authz import Actor, Principal
from backend.authz.changes import ChangeListener
from backend.authz.principal import attach, generation

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    actor: Actor
    principal: Principal
    loaded_at: float
    expires_at: float
    generation: int


class AuthCache:
    def __init__(self, listener: ChangeListener, ttl: float) -> None:
        self.listener = listener
        self.ttl = ttl
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.listener.live

    def get(
        self, digest: bytes, *, client_addr: str | None, user_agent: str | None, request_id: str | None
    ) -> Actor | None:
        """A fresh Actor for this request (with its principal attached), or None."""
        entry = self._entries.get(digest)
        if entry is None or not self.enabled:
            return None
        if entry.generation != generation() or time.monotonic() >= entry.expires_at:
            self._entries.pop(digest, None)
            return None
        actor = dataclasses.replace(
            entry.actor, client_addr=client_addr, user_agent=user_agent, request_id=request_id, extra={}
        )
        attach(actor, entry.principal, entry.loaded_at)
        return actor

    def put(
        self,
        digest: bytes,
        actor: Actor,
        principal: Principal,
        *,
        loaded_at: float,
        loaded_generation: int,
        valid_until: datetime | None,
    ) -> None:
        if not self.enabled or loaded_generation != generation():
            return  # something changed while loading: the principal may already be stale
        expires = loaded_at + self.ttl
        if valid_until is not None:
            left = (valid_until - datetime.now(valid_until.tzinfo)).total_seconds()
            expires = min(expires, time.monotonic() + left)
        template = dataclasses.replace(actor, client_addr=None, user_agent=None, request_id=None, extra={})
        self._entries[digest] = _Entry(template, principal, loaded_at, expires, loaded_generation)
        self._entries.move_to_end(digest)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
