"""The response side of :mod:`backend.runtime.chat_completions`: server-sent chat-completion chunks,
parsed as they arrive, into one pydantic-ai ``ModelResponse``.

Text deltas go to ``on_text`` the moment their chunk is parsed (that is how the run streams tokens to
its subscribers); reasoning, refusals and tool-call argument pieces are accumulated by index; usage
comes from the final chunk. Errors inside the stream are classified as pydantic-ai classifies them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from pydantic_ai._model_errors import stream_error
from pydantic_ai._utils import generate_tool_call_id, now_utc
from pydantic_ai.exceptions import ModelAPIError, ModelServerError
from pydantic_ai.messages import (
    FinishReason,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from pydantic_ai.profiles.openai import OpenAIModelProfile
from pydantic_ai.usage import RequestUsage
from pydantic_core import from_json, to_json

from backend.runtime.pricing import estimate_cost

if TYPE_CHECKING:
    from backend.runtime.chat_completions import ChatCompletionsModel

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "content_filter": "content_filter",
    "function_call": "tool_call",
}
_THINKING_FIELDS = ("reasoning", "reasoning_content")
_USAGE_TOTALS = frozenset({"prompt_tokens", "completion_tokens", "total_tokens"})


class ChatStream:
    """Accumulates chunks (text, reasoning, tool-call pieces by index, usage) into a ``ModelResponse``."""

    __slots__ = (
        "calls",
        "created",
        "data",
        "done",
        "finish_reason",
        "model",
        "model_name",
        "on_text",
        "pending",
        "refusal",
        "response_id",
        "texts",
        "thinking",
        "thinking_field",
        "usage",
    )

    def __init__(self, model: ChatCompletionsModel, on_text: Callable[[str], None] | None) -> None:
        self.model = model
        self.on_text = on_text
        self.model_name = model.model_name
        self.texts: list[str] = []
        self.thinking: dict[str, list[str]] = {}
        self.thinking_field = cast(OpenAIModelProfile, model.profile).get("openai_chat_thinking_field")
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, argument pieces]
        self.usage: object = None
        self.finish_reason: str | None = None
        self.refusal = ""
        self.response_id: str | None = None
        self.created: float | None = None
        self.done = False
        self.pending = b""  # an incomplete line
        self.data: list[bytes] = []  # the data lines of the current event

    def receive(self, chunk: bytes) -> None:
        """Server-sent events: ``data:`` lines, each event ended by a blank line; other fields ignored."""
        buffer = self.pending + chunk if self.pending else chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            line = buffer[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if line.startswith(b"data:"):
                self.data.append(line[6:] if line.startswith(b"data: ") else line[5:])
            elif not line and self.data:
                self._dispatch()
        self.pending = buffer[start:]

    def end_of_body(self) -> None:
        if self.pending.startswith(b"data:"):
            self.data.append(self.pending[5:].strip())
        if self.data:
            self._dispatch()

    def _dispatch(self) -> None:
        data = self.data
        event = data[0] if len(data) == 1 else b"\n".join(data)
        data.clear()
        if event == b"[DONE]":
            self.done = True
        elif not self.done:
            self.feed(decode(self.model.model_name, event))

    def feed(self, chunk: object) -> None:
        if not isinstance(chunk, dict):
            raise ModelAPIError(self.model.model_name, f"unexpected stream chunk: {chunk!r}"[:500])
        if (error := chunk.get("error")) is not None:
            raise stream_error_of(self.model.model_name, error)
        if response_id := chunk.get("id"):
            self.response_id = response_id
        if model_name := chunk.get("model"):
            self.model_name = model_name
        if self.created is None:
            self.created = chunk.get("created") or None
        if (usage := chunk.get("usage")) is not None:
            self.usage = usage
        if not (choices := chunk.get("choices")):
            return
        choice = choices[0]
        if finish := choice.get("finish_reason"):
            self.finish_reason = finish
        delta = choice.get("delta") or choice.get("message")
        if not delta:
            return
        if content := delta.get("content"):
            if not isinstance(content, str):  # some servers send a list of content parts
                content = "".join(
                    p if isinstance(p, str) else str(p.get("text", ""))
                    for p in content
                    if isinstance(p, str) or (isinstance(p, dict) and p.get("type") == "text")
                )
            if content:
                self.texts.append(content)
                if self.on_text is not None:
                    self.on_text(content)
        if len(delta) > ("content" in delta) + ("role" in delta):  # reasoning, refusal or tool calls
            self._feed_rest(delta)

    def _feed_rest(self, delta: dict[str, Any]) -> None:
        for name in (self.thinking_field, *_THINKING_FIELDS):
            if name and isinstance(text := delta.get(name), str) and text:
                self.thinking.setdefault(name, []).append(text)
                break
        if refusal := delta.get("refusal"):
            self.refusal += refusal
        for position, piece in enumerate(delta.get("tool_calls") or ()):
            index = piece.get("index", position)
            function = piece.get("function") or {}
            call = self.calls.get(index)
            if call is None:
                call = self.calls[index] = [None, None, []]
            if call[0] is None and piece.get("id"):
                call[0] = piece["id"]
            if call[1] is None and function.get("name"):
                call[1] = function["name"]
            if arguments := function.get("arguments"):
                call[2].append(arguments if isinstance(arguments, str) else to_json(arguments).decode())

    def build(self) -> ModelResponse:
        model = self.model
        parts: list[ModelResponsePart] = []
        details: dict[str, Any] = {}
        finish_reason: FinishReason | None
        if self.refusal:  # (structured output safety filter) as OpenAIChatModel reports it
            finish_reason = "content_filter"
            details["refusal"] = self.refusal
        else:
            for name, pieces in self.thinking.items():
                parts.append(ThinkingPart("".join(pieces), id=name, provider_name=model.system))
            if self.texts:
                parts.append(TextPart("".join(self.texts)))
            for index in sorted(self.calls):
                call_id, name, arguments = self.calls[index]
                if name is None:
                    raise ModelAPIError(model.model_name, f"streamed tool call {index} came without a name")
                parts.append(
                    ToolCallPart(name, "".join(arguments), tool_call_id=call_id or generate_tool_call_id())
                )
            if self.finish_reason:
                finish_reason = FINISH_REASONS.get(self.finish_reason)
                details["finish_reason"] = self.finish_reason
            else:
                finish_reason = "stop"  # some OpenAI-compatible servers never send one
        if self.created:
            details["timestamp"] = datetime.fromtimestamp(self.created, tz=UTC)
        usage = usage_of(self.usage)
        # Our own price table, as the run records it: pydantic-ai would otherwise look the model up in
        # genai-prices for every response (a scan of its whole catalogue for names it doesn't know).
        usage.cost = estimate_cost(
            self.model_name or model.model_name, usage.input_tokens, usage.output_tokens
        )
        return ModelResponse(
            parts=parts,
            usage=usage,
            model_name=self.model_name,
            timestamp=now_utc(),
            provider_name=model.system,
            provider_url=model.base_url,
            canonical_system=model._canonical_system,
            provider_details=details or None,
            provider_response_id=self.response_id,
            finish_reason=finish_reason,
        )


def usage_of(usage: object) -> RequestUsage:
    """``map_usage`` of pydantic-ai for chat completions, without the genai-prices lookup."""
    if not isinstance(usage, dict):
        return RequestUsage(unmeasured_requests=1)
    details = {k: v for k, v in usage.items() if type(v) is int and k not in _USAGE_TOTALS}
    result = RequestUsage(
        input_tokens=usage.get("prompt_tokens") or 0,
        output_tokens=usage.get("completion_tokens") or 0,
        details=details,
    )
    if isinstance(prompt := usage.get("prompt_tokens_details"), dict):
        result.cache_read_tokens = prompt.get("cached_tokens") or 0
        result.input_audio_tokens = prompt.get("audio_tokens") or 0
    if isinstance(completion := usage.get("completion_tokens_details"), dict):
        details.update((k, v) for k, v in completion.items() if type(v) is int)
        result.output_reasoning_tokens = completion.get("reasoning_tokens") or 0
        result.output_audio_tokens = completion.get("audio_tokens") or 0
    return result


def decode(model_name: str, raw: bytes) -> object:
    try:
        return from_json(raw)
    except ValueError as exc:
        raise ModelAPIError(model_name, f"Failed to decode response as JSON: {exc}") from exc


def stream_error_of(model_name: str, error: object) -> ModelAPIError:
    """An ``error`` object inside the stream, classified as pydantic-ai does (by its code or type).

    One no category fits is a ``ModelServerError`` (retryable) rather than a bare ``ModelAPIError``: the
    provider failed mid-answer, which a later attempt may not.
    """
    text = error.get("message") if isinstance(error, dict) else None
    message = text if isinstance(text, str) and text else "An error occurred during streaming"
    mapped = stream_error(model_name, message, error)
    if type(mapped) is ModelAPIError:
        return ModelServerError(
            model_name,
            message,
            body=error,
            provider_error_code=mapped.provider_error_code,
            provider_error_type=mapped.provider_error_type,
            in_stream=True,
        )
    return mapped
