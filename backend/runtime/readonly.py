"""Tools without side effects, declared in their pydantic-ai tool definition's metadata.

A response whose tool calls are all read-only is checkpointed once, with its results, after the
calls ran: a crash before that write re-sends the model request, and running a read again changes
nothing. Any other call is persisted before it runs, so a side effect is never repeated unknowingly.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.tools import ToolDefinition

READ_ONLY: dict[str, Any] = {"read_only": True}


def is_read_only(tool_def: ToolDefinition) -> bool:
    return bool((tool_def.metadata or {}).get("read_only"))
