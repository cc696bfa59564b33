"""The authenticated principal behind a request, job or agent action."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

ActorKind = Literal["user", "api_key", "agent", "system", "anonymous"]


@dataclass(frozen=True)
class Actor:
    """Who acts. API keys act as their owner narrowed to ``scopes`` in one organisation.

    ``scopes is None`` means "not narrowed" (an interactive session).
    """

    kind: ActorKind
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None
    session_id: uuid.UUID | None = None
    client_addr: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous" and (self.user_id is not None or self.kind == "system")

    @property
    def id(self) -> uuid.UUID | None:
        return self.api_key_id if self.kind == "api_key" else self.user_id

    @classmethod
    def anonymous(cls, *, client_addr: str | None = None, user_agent: str | None = None,
                  request_id: str | None = None) -> Actor:
        return cls(kind="anonymous", client_addr=client_addr, user_agent=user_agent, request_id=request_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system")
