"""Which provider errors are retried, how long to wait, and how limits and errors read to users."""

from __future__ import annotations

import random

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelUnavailableError,
)

from backend.runs import states

MAX_RETRY_AFTER_S = 30.0


def retryable(error: ModelAPIError) -> bool:
    """429 (not quota), 5xx, connection failures and timeouts; never 4xx rejections."""
    if isinstance(error, ModelQuotaExceededError):
        return False
    if isinstance(
        error,
        ModelRateLimitError
        | ModelUnavailableError
        | ModelServerError
        | ModelConnectionError
        | ModelRequestTimeout,
    ):
        return True
    if isinstance(error, ModelHTTPError):
        return error.status_code == 429 or error.status_code >= 500
    return False


def backoff(attempt: int, base: float, retry_after: float | None) -> float:
    """Exponential with jitter; a provider's Retry-After wins when it asks for longer (capped)."""
    delay = base * (2**attempt) * (0.75 + random.random() / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


def describe(error: ModelAPIError) -> str:
    status = getattr(error, "status_code", None)
    head = (
        f"Model provider error (HTTP {status})"
        if status
        else f"Model provider error ({type(error).__name__})"
    )
    return f"{head}: {error.message}"[:1000]


def limit_reason(message: str) -> str:
    if "request_limit" in message:
        return states.REASON_MAX_STEPS
    return states.REASON_MAX_TOKENS
