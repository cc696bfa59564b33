"""The deterministic ``offline`` model (API.md): no key, no network, same answer every time.

Commands (the user's latest message):

- ``/tool NAME {json}``     call the agent's tool NAME with that JSON, then answer with its result;
- ``/handoff SLUG text``    call the handoff tool ``handoff_<SLUG>`` with ``text``, answer with its reply;
- ``/remember text``        call the ``remember`` tool (stores a long-term memory);
- ``/recall query``         call the ``recall`` tool, answer with the matching memories;
- ``/sleep SECONDS text``   stream the echo of ``text`` in pieces spread over SECONDS (slow runs, cancel);
- ``/fail text``            fail the model request (a non-retryable model error with message ``text``);
- anything else             ``echo: <message> (<n> earlier messages)`` where n counts the thread messages
                            the model sees before this one (``1 earlier message`` for one).

A tool result (or tool error) in the latest request is answered with that result's text. Token
usage is estimated from characters (about 4 per token) so limits and costs behave like a real model.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

MODEL_NAME = "offline"
MAX_SLEEP_S = 600.0
_COMMAND = re.compile(r"^/(tool|handoff|remember|recall|sleep|fail)\b\s*(.*)$", re.DOTALL)


def streams(prompt: str) -> bool:
    """Whether a run of this prompt has anything to stream: only ``/sleep`` spreads its answer out;
    every other answer is complete at once, and the streaming machinery would only cost CPU."""
    return prompt.lstrip().startswith("/sleep")


def estimate_tokens(text: str) -> int:
    """About four characters per token (no tokenizer download, deterministic)."""
    return (len(text) + 3) // 4


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return " ".join(c for c in content if isinstance(c, str))
    return str(content)


def _request_tokens(messages: Sequence[ModelMessage]) -> int:
    total = 0
    for message in messages:
        for part in message.parts:
            content = getattr(part, "content", None)
            if content is not None:
                total += (
                    estimate_tokens(
                        _text_of(content)
                        if not isinstance(content, dict | list)
                        else json.dumps(content, default=str)
                    )
                    + 1
                )
            elif isinstance(part, ToolCallPart):
                total += estimate_tokens(part.args_as_json_str()) + 1
    return total


def _current_prompt(messages: Sequence[ModelMessage]) -> tuple[str, int]:
    """The latest user text and how many thread messages precede it."""
    index = len(messages) - 1
    while index >= 0:
        message = messages[index]
        if isinstance(message, ModelRequest):
            prompts = [p for p in message.parts if isinstance(p, UserPromptPart)]
            if prompts:
                earlier = _count_messages(messages[:index]) + len(prompts) - 1
                return _text_of(prompts[-1].content), earlier
        index -= 1
    return "", 0


def _count_messages(messages: Sequence[ModelMessage]) -> int:
    count = 0
    for message in messages:
        if isinstance(message, ModelRequest):
            count += sum(1 for p in message.parts if isinstance(p, UserPromptPart))
        elif any(isinstance(p, TextPart) for p in message.parts):
            count += 1
    return count


def _tool_results(message: ModelMessage) -> list[str]:
    if not isinstance(message, ModelRequest):
        return []
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, ToolReturnPart):
            out.append(part.model_response_str())
        elif isinstance(part, RetryPromptPart):
            out.append(f"error: {part.model_response()}")
    return out


def echo(text: str, earlier: int) -> str:
    noun = "message" if earlier == 1 else "messages"
    return f"echo: {text} ({earlier} earlier {noun})"


def _first_string_param(tool: ToolDefinition) -> str:
    schema = tool.parameters_json_schema or {}
    props: dict[str, Any] = schema.get("properties") or {}
    for name in [*schema.get("required", []), *props]:
        if (props.get(name) or {}).get("type") == "string":
            return str(name)
    return "text"


def decide(
    messages: Sequence[ModelMessage], info: AgentInfo
) -> tuple[str | None, ToolCallPart | None, float]:
    """(reply text, or a tool call; seconds to spread streaming over). Raises for ``/fail``."""
    results = _tool_results(messages[-1]) if messages else []
    if results:
        return "\n".join(results), None, 0.0
    text, earlier = _current_prompt(messages)
    match = _COMMAND.match(text.strip())
    if match is None:
        return echo(text, earlier), None, 0.0
    command, rest = match.group(1), match.group(2).strip()
    tools = {t.name: t for t in info.function_tools}
    call_id = f"offline_{len(messages)}"
    if command == "sleep":
        seconds_text, _, body = rest.partition(" ")
        try:
            seconds = min(max(float(seconds_text), 0.0), MAX_SLEEP_S)
        except ValueError:
            return "error: usage /sleep SECONDS text", None, 0.0
        return echo(body, earlier), None, seconds
    if command == "fail":
        raise UnexpectedModelBehavior(rest or "offline model failure requested")
    if command == "tool":
        name, _, raw = rest.partition(" ")
        if name not in tools:
            available = ", ".join(sorted(tools)) or "none"
            return f"error: no tool named {name!r} (available: {available})", None, 0.0
        try:
            args = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as err:
            return f"error: invalid JSON arguments for {name}: {err.msg}", None, 0.0
        if not isinstance(args, dict):
            return f"error: arguments for {name} must be a JSON object", None, 0.0
        return None, ToolCallPart(name, args, tool_call_id=call_id), 0.0
    if command == "handoff":
        slug, _, body = rest.partition(" ")
        name = f"handoff_{slug}"
        if name not in tools:
            return f"error: this agent cannot hand off to {slug!r}", None, 0.0
        return None, ToolCallPart(name, {_first_string_param(tools[name]): body}, tool_call_id=call_id), 0.0
    name, arg = ("remember", "text") if command == "remember" else ("recall", "query")
    if name not in tools:
        return "error: long-term memory is disabled for this agent", None, 0.0
    return None, ToolCallPart(name, {arg: rest}, tool_call_id=call_id), 0.0


def _chunks(text: str, pieces: int) -> list[str]:
    words = re.findall(r"\S+\s*|\s+", text) or [text]
    if pieces <= 1 or len(words) <= 1:
        return ["".join(words)]
    return words


async def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    text, call, seconds = decide(messages, info)
    if seconds:
        await asyncio.sleep(seconds)
    part = call if call is not None else TextPart(text or "")
    usage = RequestUsage(
        input_tokens=_request_tokens(messages),
        output_tokens=estimate_tokens(text or (call.args_as_json_str() if call else "")),
        cost=Decimal(0),  # free; and spares pydantic-ai a genai-prices lookup per response
    )
    return ModelResponse(parts=[part], usage=usage, model_name=MODEL_NAME)


async def _stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | DeltaToolCalls]:
    text, call, seconds = decide(messages, info)
    if call is not None:
        yield {
            0: DeltaToolCall(
                name=call.tool_name, json_args=call.args_as_json_str(), tool_call_id=call.tool_call_id
            )
        }
        return
    chunks = _chunks(text or "", 2 if seconds else 1)
    pause = seconds / len(chunks) if seconds else 0.0
    for chunk in chunks:
        if pause:
            await asyncio.sleep(pause)
        yield chunk


class OfflineModel(FunctionModel):
    """``FunctionModel`` with character-based usage for streamed requests too."""

    def __init__(self) -> None:
        super().__init__(_respond, stream_function=_stream, model_name=MODEL_NAME)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: Any,
        model_request_parameters: Any,
        run_context: Any = None,
    ) -> AsyncIterator[Any]:
        async with super().request_stream(
            messages, model_settings, model_request_parameters, run_context
        ) as response:
            response._usage = RequestUsage(input_tokens=_request_tokens(messages))
            yield response
