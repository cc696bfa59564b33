"""The authenticated principal behind a request, job or agent action."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

ActorKind = Literal["user", "api_key", "agent", "system", "anonymous"]

# What an agent may do on behalf of its user while running (intersected with the user's rights):
# use deployments (handoffs), read and write runs, threads and memory. Never manage anything.
AGENT_RUN_SCOPES: frozenset[str] = frozenset({"runs:read", "runs:write", "agents:read"})


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
    agent_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous" and (self.user_id is not None or self.kind == "system")

    @property
    def id(self) -> uuid.UUID | None:
        if self.kind == "api_key":
            return self.api_key_id
        if self.kind == "agent":
            return self.agent_id
        return self.user_id

    @property
    def confined(self) -> bool:
        """API keys and agents act only inside their one organisation."""
        return self.kind in ("api_key", "agent") and self.organization_id is not None

    @classmethod
    def anonymous(
        cls, *, client_addr: str | None = None, user_agent: str | None = None, request_id: str | None = None
    ) -> Actor:
        return cls(kind="anonymous", client_addr=client_addr, user_agent=user_agent, request_id=request_id)

    @classmethod
    def system(cls, *, request_id: str | None = None) -> Actor:
        """Platform jobs (ticks, sweeper, retention): allowed everything, audited as ``system``."""
        return cls(kind="system", request_id=request_id)

    @classmethod
    def for_run(
        cls,
        *,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        agent_id: uuid.UUID,
        run_id: uuid.UUID | None = None,
        scopes: frozenset[str] | None = None,
        api_key_id: uuid.UUID | None = None,
        request_id: str | None = None,
    ) -> Actor:
        """An agent acting inside a run for ``user_id``: the intersection of the user's rights
        (their roles, loaded by the policy) and the agent's (``AGENT_RUN_SCOPES`` narrowed further
        by ``scopes``, e.g. the scopes of the API key that started the run), confined to the agent's
        organisation. Use it for tool calls, handoffs and memory: never the system actor.
        """
        allowed = AGENT_RUN_SCOPES if scopes is None else AGENT_RUN_SCOPES & _expand(scopes)
        return cls(
            kind="agent",
            user_id=user_id,
            organization_id=organization_id,
            agent_id=agent_id,
            run_id=run_id,
            api_key_id=api_key_id,
            scopes=frozenset(allowed),
            request_id=request_id,
        )


def _expand(scopes: frozenset[str]) -> frozenset[str]:
    """``x:write`` implies ``x:read`` (matches the policy's scope_held rule)."""
    return scopes | {s.replace(":write", ":read") for s in scopes if s.endswith(":write")}
