"""A lean pydantic-ai ``Model`` for OpenAI's chat-completions protocol (OpenAI, Ollama, vLLM, LM Studio...).

Why: ``OpenAIChatModel`` goes through the OpenAI SDK, httpx and pydantic-ai's streaming layers, which
cost milliseconds of CPU per request. This model builds the request body as plain dicts, sends it with
:mod:`backend.runtime.http1`, and parses the SSE stream itself (:mod:`backend.runtime.chat_stream`).

It always streams: every text delta is handed to ``on_text`` as it arrives (the platform forwards
tokens to users that way) while the agent loop uses pydantic-ai's non-streaming ``request`` path and
gets one finished ``ModelResponse``.

What it sends and raises mirrors ``OpenAIChatModel`` (pydantic-ai 2.68): the same message mapping
(instructions, system prompts, user text, tool results, retries, assistant text, reasoning and tool
calls), tool definitions and ``tool_choice``, settings (sampling parameters dropped for reasoning
models), the model profile of ``OpenAIProvider`` / ``OpenAICompatibleProvider``, and the same
exception classes, so ``backend.runtime.retries`` treats its errors identically. Two deliberate
differences: an ``error`` object in the stream that fits no category is a (retryable)
``ModelServerError``, and a stream that ends before ``data: [DONE]`` a (retryable)
``ModelConnectionError``, where the SDK would accept the truncated answer. Not supported: non-text user
content (images, files, audio), native tools, ``<think>`` tags in text, logprobs, and ``openai_*``
settings other than reasoning effort, user, store and prompt cache key.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from pydantic_ai._json_schema import JsonSchemaTransformer
from pydantic_ai._model_errors import openai_compatible_category
from pydantic_ai._thinking_part import render_replayed_thinking
from pydantic_ai._utils import generate_tool_call_id
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelTimeoutError,
    UserError,
)
from pydantic_ai.messages import (
    CachePoint,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import (
    Model,
    ModelRequestParameters,
    StreamedResponse,
    _customize_tool_def,
    _sendable_request_parts,
    _suggest_known_model_id_from_provider_error,
    check_allow_model_requests,
    get_user_agent,
)
from pydantic_ai.models._tool_choice import (
    resolve_tool_choice,
    support_tool_forcing,
    tool_forcing_unavailable_reason,
)
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.profiles.openai import SAMPLING_PARAMS, OpenAIModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition
from pydantic_core import from_json, to_json

from backend.runtime import http1
from backend.runtime.chat_stream import ChatStream, decode

if TYPE_CHECKING:
    from pydantic_ai._run_context import RunContext

_SETTINGS_ON_THE_WIRE = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "logit_bias": "logit_bias",
    "stop_sequences": "stop",
    "openai_user": "user",
    "openai_prompt_cache_key": "prompt_cache_key",
    "openai_store": "store",
}
_USER_AGENT = get_user_agent()

_PROFILES: dict[tuple[str, str], ModelProfile] = {}
_MAX_PROFILES = 512
_ENDPOINTS: dict[str, tuple[http1.Pool, str]] = {}
_TOOL_DEFS: dict[tuple[type, type, bytes], ToolDefinition] = {}
_MAX_TOOL_DEFS = 4096


def _provider_profile(system: str, model_name: str) -> ModelProfile:
    """The profile pydantic-ai's provider gives the model: what ``OpenAIChatModel`` would run with.

    Imports the provider modules (and with them the OpenAI SDK, ~0.7 s) on first use; the platform
    already imports them off the event loop (``providers.load_sdks``). Cached per model by the caller.
    """
    if system == "openai":
        from pydantic_ai.providers.openai import OpenAIProvider

        return OpenAIProvider.model_profile(model_name) or {}
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider.model_profile(model_name) or {}


def endpoint(base_url: str) -> tuple[http1.Pool, str]:
    """The shared connection pool for ``base_url``'s origin and the chat-completions request target."""
    found = _ENDPOINTS.get(base_url)
    if found is None:
        path = urlsplit(base_url).path.rstrip("/")
        found = _ENDPOINTS[base_url] = (http1.pool_for(base_url), f"{path}/chat/completions")
    return found


class ChatCompletionsModel(Model):
    """Chat completions over a pooled HTTP/1.1 connection, always streamed (see the module docstring).

    Cheap to construct (one per run): the connection pool is shared per origin and the resolved model
    profile per (system, model name).
    """

    unsupported_settings = frozenset({"top_k"})

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str,
        api_key: str | None,
        timeout: float,
        client: http1.Pool | None = None,
        system: str = "openai",
        on_text: Callable[[str], None] | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        """``timeout`` bounds connecting and every wait for data; ``client`` defaults to the shared pool."""
        super().__init__(settings=settings)
        self._model_name = model_name
        self._system = system
        self._base_url = base_url
        if client is None:
            self._pool, self._target = endpoint(base_url)
        else:
            self._pool = client
            self._target = f"{urlsplit(base_url).path.rstrip('/')}/chat/completions"
        self._timeout = timeout
        # Stamped on responses as OpenAIProvider does (its canonical system follows its client).
        self._canonical_system = "openai" if system == "openai" else None
        self.on_text = on_text
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": _USER_AGENT,
        }
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._headers = headers
        key = (system, model_name)
        profile = _PROFILES.get(key)
        if profile is not None:
            self.__dict__["profile"] = profile  # what the base class's cached_property would compute
        elif len(_PROFILES) < _MAX_PROFILES:
            _PROFILES[key] = self.profile  # resolved once per model and process

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return self._system

    @property
    def base_url(self) -> str:
        return self._base_url

    def _provider_model_profile(self) -> ModelProfile:
        return _provider_profile(self._system, self._model_name)

    def customize_request_parameters(
        self, model_request_parameters: ModelRequestParameters
    ) -> ModelRequestParameters:
        """The base class's, with each tool's transformed definition memoized by its content.

        The profile's JSON schema transformer walks and copies every tool schema on every request
        (~60 us per tool, so most of the CPU of a request with ten tools); its result depends only
        on the definition, so the same definition is transformed once per process.
        """
        params = model_request_parameters
        transformer = self.profile.get("json_schema_transformer")
        if transformer is None or params.output_object is not None:
            return super().customize_request_parameters(params)
        if not params.function_tools and not params.output_tools:
            return params
        return replace(
            params,
            function_tools=[_customized_tool(transformer, t) for t in params.function_tools],
            output_tools=[_customized_tool(transformer, t) for t in params.output_tools],
        )

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        check_allow_model_requests()
        merged, params = self.prepare_request(model_settings, model_request_parameters)
        settings = cast("dict[str, Any]", merged or {})
        body = self._body(messages, settings, params)
        headers = self._headers
        if extra := settings.get("extra_headers"):
            headers = {**headers, **extra}
        timeout = settings.get("timeout")
        return await self._send(
            to_json(body), headers, timeout if isinstance(timeout, int | float) else self._timeout
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        raise NotImplementedError(
            "ChatCompletionsModel does not stream through pydantic-ai: run the agent without streaming "
            "and receive text deltas through `on_text`."
        )
        yield  # pragma: no cover

    # -- request body -------------------------------------------------------------------------

    def _body(
        self, messages: list[ModelMessage], settings: dict[str, Any], params: ModelRequestParameters
    ) -> dict[str, Any]:
        profile = cast(OpenAIModelProfile, self.profile)
        body: dict[str, Any] = {
            "model": self._model_name,
            "messages": self._map_messages(messages, params, profile),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        tools, tool_choice = self._tools(settings, params, profile)
        if tools:
            body["tools"] = tools
            if tool_choice is not None and tool_choice != "auto":
                body["tool_choice"] = tool_choice
            if "parallel_tool_calls" in settings:
                body["parallel_tool_calls"] = settings["parallel_tool_calls"]
        if params.output_mode == "native" and (output := params.output_object) is not None:
            schema: dict[str, Any] = {"name": output.name or "final_result", "schema": output.json_schema}
            if output.description:
                schema["description"] = output.description
            if profile.get("openai_supports_strict_tool_definition", True):
                schema["strict"] = output.strict
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        elif params.output_mode == "prompted" and profile.get("supports_json_object_output", False):
            body["response_format"] = {"type": "json_object"}
        if settings:
            self._apply_settings(body, settings, params, profile)
        return body

    def _apply_settings(
        self,
        body: dict[str, Any],
        settings: dict[str, Any],
        params: ModelRequestParameters,
        profile: OpenAIModelProfile,
    ) -> None:
        """Sampling and limits as ``OpenAIChatModel`` sends them (no sampling ones while reasoning)."""
        effort = settings.get("openai_reasoning_effort")
        if effort is None and params.thinking is not None:
            effort = _thinking_effort(params, profile)
        dropped: Sequence[str] = profile.get("openai_unsupported_model_settings", ())
        if _drops_sampling(profile, settings.get("openai_reasoning_effort"), params):
            if sampling := [name for name in SAMPLING_PARAMS if name in settings]:
                warnings.warn(
                    f"Sampling parameters {sampling} are not supported when reasoning is enabled. "
                    "These settings will be ignored.",
                    UserWarning,
                    stacklevel=2,
                )
            dropped = (*dropped, *SAMPLING_PARAMS)
        for name, value in settings.items():
            if name in dropped:
                continue
            wire = _SETTINGS_ON_THE_WIRE.get(name)
            if wire is not None:
                body[wire] = value
            elif name == "max_tokens":
                key = "max_completion_tokens"
                if not profile.get("openai_chat_supports_max_completion_tokens", True):
                    key = "max_tokens"
                body[key] = value
        if effort is not None:
            body["reasoning_effort"] = effort
        if extra := settings.get("extra_body"):
            body.update(extra)

    def _tools(
        self, settings: dict[str, Any], params: ModelRequestParameters, profile: OpenAIModelProfile
    ) -> tuple[list[dict[str, Any]], Any]:
        """The ``tools`` list and ``tool_choice`` (``OpenAIChatModel._get_tool_choice``)."""
        tool_defs = params.declared_tool_defs
        if not tool_defs:
            return [], None
        resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
        tool_choice: Any
        if isinstance(resolved, str):  # "auto", "none" or "required"
            tool_choice = resolved
            if resolved == "required" and not self._supports_forcing(settings, params, profile):
                tool_choice = "auto"
        else:
            mode, names = resolved
            supports = self._supports_forcing(settings, params, profile)
            effective = "auto" if mode == "auto" or not supports else mode
            if mode == "required" and len(names) == 1 and supports:
                tool_choice = {"type": "function", "function": {"name": next(iter(names))}}
            elif profile.get("openai_chat_supports_allowed_tools", False):
                allowed = [{"type": "function", "function": {"name": n}} for n in tool_defs if n in names]
                tool_choice = {
                    "type": "allowed_tools",
                    "allowed_tools": {"mode": effective, "tools": allowed},
                }
            else:
                tool_defs = {k: v for k, v in tool_defs.items() if k in names}
                tool_choice = effective
        strict_ok = profile.get("openai_supports_strict_tool_definition", True)
        return [_tool(t, strict_ok) for t in tool_defs.values()], tool_choice

    def _supports_forcing(
        self, settings: dict[str, Any], params: ModelRequestParameters, profile: OpenAIModelProfile
    ) -> bool:
        thinking = _reasoning_active(profile, settings.get("openai_reasoning_effort"), params)
        reason = tool_forcing_unavailable_reason(
            profile,
            thinking=thinking,
            thinking_remedy="Disable thinking with `thinking=False` or `openai_reasoning_effort='none'`",
        )
        return support_tool_forcing(
            self._model_name,
            cast(ModelSettings, settings),
            reason,
            disables_thinking=thinking and profile.get("forced_tool_choice_disables_thinking", False),
        )

    def _map_messages(
        self, messages: list[ModelMessage], params: ModelRequestParameters, profile: OpenAIModelProfile
    ) -> list[dict[str, Any]]:
        """``OpenAIChatModel._map_messages`` for text conversations."""
        system_role = profile.get("openai_system_prompt_role") or "system"
        out: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, ModelRequest):
                self._map_request(message, system_role, out)
            else:
                self._map_response(message, profile, out)
        if instructions := self._get_instruction_parts(messages, params):
            leading = next((i for i, m in enumerate(out) if m["role"] != system_role), len(out))
            out[leading:leading] = [{"role": system_role, "content": part.content} for part in instructions]
        if not profile.get("openai_chat_supports_multiple_system_messages", True) and system_role != "user":
            leading = next((i for i, m in enumerate(out) if m["role"] != system_role), len(out))
            if leading > 1:
                merged = "\n\n".join(m["content"] for m in out[:leading])
                out[:leading] = [{"role": system_role, "content": merged}]
        return out

    def _map_request(self, message: ModelRequest, system_role: str, out: list[dict[str, Any]]) -> None:
        for part in _sendable_request_parts(message.parts):
            if isinstance(part, UserPromptPart):
                out.append({"role": "user", "content": _user_content(part)})
            elif isinstance(part, ToolReturnPart):
                text, files = part.model_response_str_and_user_content()
                if files:
                    raise UserError(
                        f"ChatCompletionsModel cannot send files a tool returned ({part.tool_name!r})"
                    )
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": part.tool_call_id or generate_tool_call_id(),
                        "content": text,
                    }
                )
            elif isinstance(part, SystemPromptPart):
                out.append({"role": system_role, "content": part.content})
            else:
                raise UserError(
                    f"`{type(part).__name__}` cannot be sent by ChatCompletionsModel. Pass the messages "
                    "through `model.prepare_messages(messages)` first (`Agent` does this for you)."
                )

    def _map_response(
        self, message: ModelResponse, profile: OpenAIModelProfile, out: list[dict[str, Any]]
    ) -> None:
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        fields: dict[str, list[str]] = {}
        carried: list[str] = []
        for part in message.parts:
            if isinstance(part, TextPart):
                texts.append(part.content)
            elif isinstance(part, ToolCallPart):
                calls.append(
                    {
                        "id": part.tool_call_id or generate_tool_call_id(),
                        "type": "function",
                        "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
                    }
                )
            elif isinstance(part, ThinkingPart):
                self._map_thinking(part, profile, texts, fields, carried)
            # Native tool parts, files and compaction parts are not sent back (as in OpenAIChatModel).
        if not texts and not calls:
            return
        if carried:
            out.append({"role": "user", "content": "\n\n".join(carried)})
        assistant: dict[str, Any] = {"role": "assistant"}
        for name, contents in fields.items():
            assistant[name] = "\n\n".join(contents)
        assistant["content"] = "\n\n".join(texts) if texts else None
        if calls:
            assistant["tool_calls"] = calls
        out.append(assistant)

    def _map_thinking(
        self,
        part: ThinkingPart,
        profile: OpenAIModelProfile,
        texts: list[str],
        fields: dict[str, list[str]],
        carried: list[str],
    ) -> None:
        """Reasoning goes back in the field it came from (same provider), else as tagged text."""
        mode = profile.get("openai_chat_send_back_thinking_parts", "auto")
        custom = profile.get("openai_chat_thinking_field")
        if mode == "field":
            if custom:
                fields.setdefault(custom, []).append(part.content)
            return
        if (
            mode == "auto"
            and part.id
            and part.id != "content"
            and part.provider_name == self._system
            and (not custom or part.id == custom)
        ):
            fields.setdefault(part.id, []).append(part.content)
            return
        text, in_user_turn = render_replayed_thinking(part.content, profile)
        if not in_user_turn:
            texts.append(text)
        elif part.content:
            carried.append(text)

    # -- response -------------------------------------------------------------------------------

    async def _send(self, payload: bytes, headers: dict[str, str], read_timeout: float) -> ModelResponse:
        try:
            response = await self._pool.request(
                "POST", self._target, body=payload, headers=headers, read_timeout=read_timeout
            )
        except http1.HTTPError as exc:
            raise self._transport_error(exc) from exc
        try:
            if response.status >= 300:
                raw = await response.read()
                if response.status >= 400:
                    raise self._status_error(response.status, raw, response.headers)
                raise ModelAPIError(self._model_name, f"unexpected HTTP status {response.status}")
            if (response.header("content-type") or "").startswith("application/json"):
                stream = ChatStream(
                    self, self.on_text
                )  # a server that ignored `stream`: one whole completion
                stream.feed(decode(self._model_name, await response.read()))
                return stream.build()
            return await self._read_events(response)
        except http1.HTTPError as exc:
            raise self._transport_error(exc) from exc
        finally:
            response.close()

    async def _read_events(self, response: http1.Response) -> ModelResponse:
        stream = ChatStream(self, self.on_text)
        await response.stream_into(stream.receive)  # parsed as it arrives, in the I/O callback
        stream.end_of_body()
        if not stream.done:
            raise ModelConnectionError(
                self._model_name,
                "the response stream ended before `data: [DONE]`",
                phase="read",
                in_stream=True,
            )
        return stream.build()

    def _transport_error(self, exc: http1.HTTPError) -> ModelConnectionError:
        """Like the SDK's ``APITimeoutError`` / ``APIConnectionError`` through pydantic-ai."""
        cls = ModelTimeoutError if isinstance(exc, http1.HTTPTimeout) else ModelConnectionError
        return cls(self._model_name, str(exc), phase=exc.phase)

    def _status_error(self, status: int, raw: bytes, headers: dict[str, str]) -> ModelHTTPError:
        """``pydantic_ai.models.openai._errors.status_error`` for the SDK's ``APIStatusError``."""
        body: object = raw.decode(errors="replace").strip()
        message = f"Error code: {status}"
        try:
            parsed = from_json(raw)
        except ValueError:
            pass
        else:
            body = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
            if isinstance(body, dict) and isinstance(text := body.get("message"), str) and text:
                message += f" - {text}"
        code = error_type = None
        if isinstance(body, dict):
            code = None if body.get("code") is None else str(body["code"])
            error_type = body.get("type") if isinstance(body.get("type"), str) else None
        suggested = None
        if code == "model_not_found":
            suggested = _suggest_known_model_id_from_provider_error(self._system, self._model_name)
        return ModelHTTPError.for_category(
            openai_compatible_category(status, code, error_type, message),
            status_code=status,
            model_name=self._model_name,
            body=body,
            headers=headers,
            suggested_model_id=suggested,
            provider_error_code=code,
            provider_error_type=error_type,
        )


def _customized_tool(transformer: type[JsonSchemaTransformer], tool: ToolDefinition) -> ToolDefinition:
    key = (transformer, type(tool), to_json(tool, fallback=repr))
    found = _TOOL_DEFS.get(key)
    if found is None:
        found = _customize_tool_def(transformer, tool)
        if len(_TOOL_DEFS) >= _MAX_TOOL_DEFS:
            _TOOL_DEFS.clear()
        _TOOL_DEFS[key] = found
    return found


def _tool(tool: ToolDefinition, strict_ok: bool) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description or "",
        "parameters": tool.parameters_json_schema,
    }
    if tool.strict and strict_ok:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _user_content(part: UserPromptPart) -> str | list[dict[str, Any]]:
    if isinstance(part.content, str):
        return part.content
    items: list[dict[str, Any]] = []
    for item in part.content:
        if isinstance(item, str):
            items.append({"type": "text", "text": item})
        elif isinstance(item, TextContent):
            items.append({"type": "text", "text": item.content})
        elif not isinstance(item, CachePoint):
            raise UserError(
                f"ChatCompletionsModel sends text only: a user prompt holds {type(item).__name__}. "
                "Use OpenAIChatModel for images, audio and documents."
            )
    return items


def _reasoning_active(profile: OpenAIModelProfile, effort: object, params: ModelRequestParameters) -> bool:
    """``pydantic_ai.models.openai._reasoning.reasoning_active``."""
    if effort is not None:
        return effort != "none"
    if params.thinking is not None:
        return params.thinking is not False or profile.get("thinking_always_enabled", False)
    return profile.get("thinking_enabled_by_default", False)


def _drops_sampling(profile: OpenAIModelProfile, effort: object, params: ModelRequestParameters) -> bool:
    """Whether a reasoning model rejects sampling parameters now (``drop_sampling_params_for_reasoning``)."""
    if not profile.get("openai_supports_reasoning", False):
        return False
    supported = profile.get("openai_reasoning_efforts")
    accepts_none = (
        "none" in supported
        if supported is not None
        else profile.get("openai_supports_reasoning_effort_none", False)
    )
    return not (accepts_none and not _reasoning_active(profile, effort, params))


def _thinking_effort(params: ModelRequestParameters, profile: OpenAIModelProfile) -> str | None:
    """The ``reasoning_effort`` for unified ``thinking`` (``OpenAIChatModel._translate_thinking``)."""
    thinking = params.thinking
    if thinking is None or (thinking is False and "openai_chat_thinking_false_body" in profile):
        return None
    from pydantic_ai.models.openai._reasoning import resolve_openai_thinking_effort  # rare: thinking is set

    supports_max = profile.get("openai_chat_supports_max_reasoning_effort", False)
    return resolve_openai_thinking_effort(thinking, cast(Any, profile), supports_max=supports_max)
