"""Folding ``runEvents`` into the answer being streamed: pure functions, tested without a browser.

Event shapes (``RunEvent.type`` / ``kind`` / ``data`` in graph/schema.graphql):
- ``status``: ``data.status`` is the run's new RunStatus;
- ``step``, kind ``tool_call`` / ``tool_result`` (also ``model_request`` / ``model_response``, not shown):
  ``data`` has ``tool_call_id``, ``tool_name``, ``args`` / ``content``, ``is_error`` for viewers who may read
  traces; others get ``{"step": n}`` only, so the UI can only say that a tool was used;
- ``message``: kind ``delta`` appends ``data.delta`` (live only, repeating the last persisted seq), ``reset``
  drops the partial text (a retried model request), no kind carries the full ``data.content``;
- ``done``: terminal ``data.status`` with ``output``, ``error``, ``reason``.
Unknown types are ignored so a newer API does not break an older UI.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from agentry_web.state.models import Step

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT"}
FAILED = {"FAILED", "TIMED_OUT"}
TOOL_STEPS = {"tool_call", "tool_result"}
HANDOFF_PREFIX = "handoff_"
DETAIL_LIMIT = 2000


@dataclasses.dataclass
class LiveAnswer:
    """The assistant's answer while it streams. ``last_seq``: the last persisted event seen (resume point)."""

    content: str = ""
    status: str = "QUEUED"
    error: str = ""
    steps: list[Step] = dataclasses.field(default_factory=list)
    last_seq: int = 0
    # Set by ``done``, the stream's last event (the terminal ``status`` just before it lacks the error).
    done: bool = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _title(tool: str) -> tuple[str, str]:
    """(kind, title) of a step: handoffs are tools named ``handoff_<agent slug>``."""
    if tool.startswith(HANDOFF_PREFIX):
        target = tool[len(HANDOFF_PREFIX) :].replace("_", "-")
        return "handoff", f"Handed off to {target}"
    return "tool", f"Used {tool}" if tool else "Used a tool"


def step_of(kind: str, data: dict[str, Any]) -> Step:
    tool = str(data.get("tool_name") or "")
    step_kind, title = _title(tool)
    key = str(data.get("tool_call_id") or f"step-{data.get('step', '')}")
    if kind == "tool_call":
        detail = f"Input:\n{_text(data['args'])}" if data.get("args") not in (None, "", {}) else ""
        return Step(key=key, kind=step_kind, title=title, detail=detail[:DETAIL_LIMIT], status="running")
    failed = bool(data.get("is_error"))
    label = "Error" if failed else "Result"
    detail = f"{label}:\n{_text(data['content'])}" if data.get("content") not in (None, "") else ""
    return Step(
        key=key,
        kind=step_kind,
        title=title,
        detail=detail[:DETAIL_LIMIT],
        status="failed" if failed else "done",
    )


def _merge(steps: list[Step], step: Step) -> list[Step]:
    """A tool's result has its call's id: fold it into the call (input above, result below)."""
    for i, existing in enumerate(steps):
        if existing.key == step.key:
            detail = "\n\n".join(part for part in (existing.detail, step.detail) if part)
            merged = dataclasses.replace(existing, detail=detail[:DETAIL_LIMIT], status=step.status)
            return [*steps[:i], merged, *steps[i + 1 :]]
    return [*steps, step]


def apply(answer: LiveAnswer, event: dict[str, Any]) -> LiveAnswer:
    """Fold one event into the answer (in place; also returned)."""
    kind = str(event.get("kind") or "")
    kind_of = str(event.get("type") or "")
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind_of == "message" and kind in ("delta", "reset"):
        # Live chunks repeat the last persisted seq, so they are never deduplicated by it.
        answer.content = answer.content + _text(data.get("delta")) if kind == "delta" else ""
        return answer
    seq = int(event.get("seq") or 0)
    if seq and seq <= answer.last_seq:
        return answer  # replayed after a reconnect
    answer.last_seq = max(answer.last_seq, seq)
    if kind_of == "message":
        if str(data.get("role") or "assistant") == "assistant" and data.get("content") is not None:
            answer.content = _text(data["content"])
    elif kind_of == "step" and kind in TOOL_STEPS:
        answer.steps = _merge(answer.steps, step_of(kind, data))
    elif kind_of in ("status", "done"):
        status = str(data.get("status") or "").upper()
        answer.status = status or answer.status
        if kind_of == "done":
            answer.done = True
            answer.status = answer.status if answer.status in TERMINAL else "SUCCEEDED"
            if data.get("output") and not answer.content:
                answer.content = _text(data["output"])
            answer.error = _text(data.get("error") or "")
    return answer
