"""What a running agent's tools can reach (pydantic-ai ``deps``), and run-local errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.authz import Actor
from backend.resources import Resources

if TYPE_CHECKING:
    from backend.models import Run
    from backend.runtime.executor import RunExecution


class LeaseLost(Exception):
    """Another worker owns the run now (our lease expired): stop without writing anything."""


class UserCancelled(Exception):
    """The run was cancelled (``cancelRun``)."""


@dataclass
class RunDeps:
    """``ctx.deps`` of every tool call in a run.

    ``run`` is a snapshot of the run row at claim time; ``actor`` is the agent acting for the run's
    user (``Actor.for_run``); ``execution`` lets a handoff tool run a child inline
    (:func:`backend.runtime.children.execute_child`).
    """

    resources: Resources
    run: Run
    actor: Actor
    execution: RunExecution
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> uuid.UUID:
        return self.run.id

    def idempotency_key(self, tool_call_id: str) -> str:
        """Stable across resumes of the run: ``<run id>:<tool call id>``."""
        return f"{self.run.id}:{tool_call_id}"
