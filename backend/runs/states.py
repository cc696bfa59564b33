"""Run statuses and the allowed transitions of the run state machine.

``queued -> running -> (waiting) -> succeeded | failed | cancelled | timed_out``; a run whose worker
died goes ``running -> queued`` (sweeper) and resumes from its persisted steps. Statuses are stored
lower-case; GraphQL and event payloads show them upper-case (``RunStatus``).
"""

from __future__ import annotations

QUEUED = "queued"
RUNNING = "running"
WAITING = "waiting"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
TIMED_OUT = "timed_out"

ACTIVE = (QUEUED, RUNNING, WAITING)
EXECUTING = (RUNNING, WAITING)
TERMINAL = (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT)
ALL = (*ACTIVE, *TERMINAL)

TRIGGERS = ("chat", "playground", "schedule", "webhook", "handoff", "api")

# Reasons recorded in ``runs.status_reason`` (stable strings clients may switch on).
REASON_MAX_STEPS = "max_steps"
REASON_MAX_TOKENS = "max_tokens"
REASON_MAX_RUN_SECONDS = "max_run_seconds"
REASON_PROVIDER_ERROR = "provider_error"
REASON_MODEL_ERROR = "model_error"
REASON_CONFIG_ERROR = "config_error"
REASON_WORKER_LOST = "worker_lost"
REASON_CANCELLED = "cancelled_by_user"
REASON_INTERNAL = "internal_error"


def public(status: str) -> str:
    """The GraphQL ``RunStatus`` spelling of a stored status."""
    return status.upper()
