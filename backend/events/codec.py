"""Wire format of run events on Redis.

An event is ``{"seq", "sub", "type", "kind", "data", "at"}``; a message on a run's channel is one
event or a JSON array of events published together (a checkpoint, a run's end). One message per
batch is one PUBLISH for Redis and one read and dispatch for each API process following the run.

Persisted events have ``sub == 0``; token deltas are not persisted and carry the seq of the last
persisted event plus a growing ``sub``, so ``(seq, sub)`` totally orders everything a run publishes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

CANCEL_CHANNEL = "runs:cancel"
RUN_CHANNEL_PREFIX = "run:"


def channel(run_id: uuid.UUID | str) -> str:
    return f"{RUN_CHANNEL_PREFIX}{run_id}"


def encode(event: dict[str, Any] | Sequence[dict[str, Any]]) -> str:
    return json.dumps(event, separators=(",", ":"), default=str)


def decode(raw: bytes | str) -> list[dict[str, Any]]:
    """The events of one message, in order (a single event or a batch)."""
    value = json.loads(raw)
    if isinstance(value, list):
        return [e for e in value if isinstance(e, dict)]
    if isinstance(value, dict):
        return [value]
    raise ValueError("not a run event")
