"""Wire format of run events on Redis.

An event is ``{"seq", "sub", "type", "kind", "data", "at"}``. Persisted events have ``sub == 0``;
token deltas are not persisted and carry the seq of the last persisted event plus a growing ``sub``,
so ``(seq, sub)`` totally orders everything a run publishes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

CANCEL_CHANNEL = "runs:cancel"
RUN_CHANNEL_PREFIX = "run:"


def channel(run_id: uuid.UUID | str) -> str:
    return f"{RUN_CHANNEL_PREFIX}{run_id}"


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), default=str)


def decode(raw: bytes | str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value
