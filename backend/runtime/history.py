"""The messages a run sends to its model: windowed thread history + the run's persisted steps.

The same function builds the first attempt's history and a resumed attempt's (after a worker died
or a provider error), which is what makes resumption exact: each persisted ``model_response`` step
carries its pydantic-ai message, each ``tool_result`` step its request part. A response whose tool
calls all have persisted results is followed by the request carrying them (it is re-sent); one with
missing results ends the history, so the loop executes its calls, answering the ones that already
ran from their persisted results (no tool runs twice once its result is stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    TextPart,
    UserPromptPart,
)

from backend.runtime.offline import estimate_tokens


def dump_message(message: ModelMessage) -> dict[str, Any]:
    data: dict[str, Any] = ModelMessagesTypeAdapter.dump_python([message], mode="json")[0]
    return data


def load_message(data: dict[str, Any]) -> ModelMessage:
    message: ModelMessage = ModelMessagesTypeAdapter.validate_python([data])[0]
    return message


def dump_part(part: ModelRequestPart) -> dict[str, Any]:
    return dump_message(ModelRequest(parts=[part]))


def load_part(data: dict[str, Any]) -> ModelRequestPart:
    message = load_message(data)
    assert isinstance(message, ModelRequest)
    return message.parts[0]


def window(newest_first: Iterable[tuple[str, str]], budget_tokens: int) -> list[ModelMessage]:
    """Thread messages (newest first) kept while they fit the token budget, in chronological order.

    Tokens are estimated from characters (no tokenizer download at runtime)."""
    kept: list[tuple[str, str]] = []
    used = 0
    for role, content in newest_first:
        used += estimate_tokens(content) + 4
        if used > budget_tokens:
            break
        kept.append((role, content))
    kept.reverse()
    messages: list[ModelMessage] = []
    for role, content in kept:
        if role == "assistant":
            messages.append(ModelResponse(parts=[TextPart(content)]))
        else:
            _append_prompt(messages, content)
    return messages


def _append_prompt(messages: list[ModelMessage], content: str) -> None:
    """Consecutive user messages become one request (some providers require alternation)."""
    last = messages[-1] if messages else None
    if isinstance(last, ModelRequest) and all(isinstance(p, UserPromptPart) for p in last.parts):
        messages[-1] = ModelRequest(parts=[*last.parts, UserPromptPart(content)])
    else:
        messages.append(ModelRequest(parts=[UserPromptPart(content)]))


@dataclass
class RunState:
    """What a run has persisted so far, rebuilt into pydantic-ai messages."""

    messages: list[ModelMessage]
    tool_results: dict[str, ModelRequestPart] = field(default_factory=dict)
    steps: int = 0  # model responses persisted
    last_seq: int = 0


def rebuild(history: list[ModelMessage], user_input: str, events: Sequence[Any]) -> RunState:
    """``events``: the run's persisted ``step`` rows (objects with ``seq``, ``kind``, ``data``)."""
    messages = list(history)
    _append_prompt(messages, user_input)
    state = RunState(messages)
    pending: ModelResponse | None = None
    for event in events:
        state.last_seq = max(state.last_seq, event.seq)
        if event.kind == "model_response":
            _close(state, pending)
            response = load_message(event.data["message"])
            assert isinstance(response, ModelResponse)
            messages.append(response)
            state.steps += 1
            pending = response if response.tool_calls else None
        elif event.kind == "tool_result" and "part" in event.data:
            state.tool_results[event.data["tool_call_id"]] = load_part(event.data["part"])
    _close(state, pending)
    return state


def _close(state: RunState, response: ModelResponse | None) -> None:
    """Append the request carrying ``response``'s tool results, if every call has one."""
    if response is None:
        return
    ids = [call.tool_call_id for call in response.tool_calls]
    if all(i in state.tool_results for i in ids):
        state.messages.append(ModelRequest(parts=[state.tool_results[i] for i in ids]))
