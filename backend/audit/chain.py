"""Canonical hashing of audit events: each event's hash covers the previous one.

``hash = sha256(prev_hash || canonical_json(fields))`` where the canonical JSON has sorted
keys, no whitespace and UTC timestamps with microseconds, so any later change of a stored
field (or removal of an event) breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

NIL_CHAIN = uuid.UUID(int=0)  # events outside any organisation (sign-ups, failed logins)
GENESIS = "0" * 64
HASHED_FIELDS = (
    "id",
    "chain",
    "seq",
    "at",
    "organization_id",
    "actor_type",
    "actor_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "client_addr",
    "user_agent",
    "request_id",
    "summary",
)


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(
        {name: _value(fields[name]) for name in HASHED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


def row_fields(row: Any) -> dict[str, Any]:
    """The hashed fields of a stored ``AuditEvent`` row."""
    return {name: getattr(row, name) for name in HASHED_FIELDS}
