"""One attempt of the agent loop on pydantic-ai's models and toolsets, checkpointing as it goes.

The loop is ours; the parts are pydantic-ai's: :class:`~pydantic_ai.models.Model` (every provider,
streaming or not), its message types, toolsets with their argument validators, ``RunUsage`` and
``UsageLimits``. ``Agent.iter``'s graph spent ~4.7 ms of CPU on a run of two model requests and one
tool call (capabilities, hooks, task groups per node), more than everything else a worker does for
that run; this loop spends ~0.24 ms (``benchmarks/agent_loop.py``). What a run needs from the graph
is kept, with the same messages and exceptions: usage limits before each request and after each
response, tool arguments validated by the tool's own validator, ``ModelRetry`` and invalid arguments
sent back to the model as a retried tool return up to the tool's ``max_retries`` (then
``UnexpectedModelBehavior``), unknown tools answered the same way, ``ToolFailed`` as a failed
return, tool calls of one response run concurrently, and an empty answer asked for again once.

The attempt starts from :class:`~backend.runtime.history.RunState` (history + persisted steps): a
trailing request is re-sent; a trailing response's tool calls are executed, those with a persisted
result answered from it (no tool runs twice once its result is stored). Usage starts from the run's
persisted counters, so ``UsageLimits`` span resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_ai import ModelRetry
from pydantic_ai._output import build_retried_tool_return
from pydantic_ai._run_context import RunContext
from pydantic_ai.exceptions import (
    ContentFilterError,
    OutputTokenLimitExceeded,
    ToolFailed,
    UnexpectedModelBehavior,
)
from pydantic_ai.messages import (
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    RetryFeedbackPart,
    RetryInfo,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolRetryCause,
    ToolReturnPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_ai.usage import RunUsage, UsageLimits

from backend.agents.schemas import AgentConfig
from backend.runtime.checkpoint import Checkpointer, response_text
from backend.runtime.context import RunDeps
from backend.runtime.history import RunState
from backend.runtime.readonly import is_read_only

EMPTY_ANSWER_RETRIES = 1
_EMPTY_ANSWER = "Please return text or call a tool."


@dataclass
class Outcome:
    output: str
    response: ModelResponse | None
    usage: RunUsage


def model_settings(config: AgentConfig) -> ModelSettings:
    settings: dict[str, Any] = {"temperature": config.model_settings.temperature}
    if config.model_settings.max_tokens is not None:
        settings["max_tokens"] = config.model_settings.max_tokens
    if config.model_settings.top_p is not None:
        settings["top_p"] = config.model_settings.top_p
    return ModelSettings(**settings)  # type: ignore[typeddict-item]


def limits(config: AgentConfig) -> UsageLimits:
    return UsageLimits(request_limit=config.limits.max_steps, total_tokens_limit=config.limits.max_tokens)


@dataclass
class RunSpec:
    model: Model
    instructions: str | None
    toolsets: list[AbstractToolset[Any]]
    settings: ModelSettings
    stream: bool = True  # False: the model answers at once, streaming would only add overhead


def run_spec(
    model: Model, config: AgentConfig, toolsets: list[AbstractToolset[Any]], *, stream: bool = True
) -> RunSpec:
    return RunSpec(model, config.instructions or None, toolsets, model_settings(config), stream)


@dataclass
class _Tool:
    toolset: AbstractToolset[Any]
    tool: ToolsetTool[Any]


class _Attempt:
    """The state of one attempt: messages so far, the run's usage, tools and their retry counts."""

    def __init__(
        self,
        spec: RunSpec,
        state: RunState,
        ctx: RunContext[RunDeps],
        usage_limits: UsageLimits,
        checkpoints: Checkpointer,
    ) -> None:
        self.spec = spec
        self.messages: list[ModelMessage] = list(state.messages)
        self.persisted = state.tool_results
        self.ctx = ctx
        self.usage = ctx.usage
        self.usage_limits = usage_limits
        self.checkpoints = checkpoints
        self.tools: dict[str, _Tool] = {}
        self.params = ModelRequestParameters()
        self.failures: dict[str, int] = {}  # consecutive failed calls per tool name
        self.empty_answers = 0

    async def prepare(self) -> None:
        for toolset in self.spec.toolsets:
            for name, tool in (await toolset.get_tools(self.ctx)).items():
                self.tools.setdefault(name, _Tool(toolset, tool))
        instructions = self.spec.instructions
        self.params = ModelRequestParameters(
            function_tools=[t.tool.tool_def for t in self.tools.values()],
            allow_text_output=True,
            instruction_parts=[InstructionPart(content=instructions)] if instructions else None,
        )

    async def run(self) -> Outcome:
        last = self.messages[-1] if self.messages else None
        if isinstance(last, ModelResponse) and last.tool_calls:  # resumed after its checkpoint
            self.messages.append(await self.call_tools(last.tool_calls))
        while True:
            self.usage_limits.check_before_request(self.usage)
            sent = len(self.messages)
            response = await self.request()
            self.usage.requests += 1
            self.usage.incr(response.usage)
            self.usage_limits.check_tokens(self.usage)
            self.messages.append(response)
            calls = response.tool_calls
            if calls:
                self.messages.append(await self.tool_round(response, sent, calls))
                continue
            self.checkpoints.final_response(response, sent)
            text = response_text(response)
            if text:
                return Outcome(text, response, self.usage)
            self.messages.append(self.empty_answer(response))

    def empty_answer(self, response: ModelResponse) -> ModelRequest:
        """No text and no tool call: ask once more, unless the answer was cut off or filtered."""
        if response.finish_reason == "length":
            raise OutputTokenLimitExceeded("Model token limit exceeded before any response was generated")
        if response.finish_reason == "content_filter":
            raise ContentFilterError("The provider's content filter stopped the answer")
        self.empty_answers += 1
        if self.empty_answers > EMPTY_ANSWER_RETRIES:
            raise UnexpectedModelBehavior(
                f"Exceeded maximum retries ({EMPTY_ANSWER_RETRIES}) for output validation"
            )
        feedback = RetryFeedbackPart(content=_EMPTY_ANSWER, retry=RetryInfo(cause="no_output"))
        return ModelRequest(parts=[feedback])

    async def request(self) -> ModelResponse:
        spec, model = self.spec, self.spec.model
        # The model's own wire preparation: retry parts into what its API carries, chat-template
        # special tokens in untrusted text defused where its profile says the host may parse them.
        messages = model.prepare_messages(self.messages, self.params)
        if not spec.stream:
            return await model.request(messages, spec.settings, self.params)
        delta = self.checkpoints.delta
        async with model.request_stream(messages, spec.settings, self.params, self.ctx) as stream:
            async for event in stream:
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    delta(event.part.content)
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    delta(event.delta.content_delta)
        return stream.get()

    # -- tools --------------------------------------------------------------------------------------
    async def tool_round(self, response: ModelResponse, sent: int, calls: list[ToolCallPart]) -> ModelRequest:
        """Persist the response, run its calls, persist their results; reads only: one write after."""
        if not all(self._read_only(c) for c in calls):
            await self.checkpoints.tool_response(response, sent, self.usage)
            return await self.call_tools(calls)
        try:
            request = await self.call_tools(calls, record=False)
        except Exception:
            with contextlib.suppress(Exception):  # the run's own error is the one to report
                await self.checkpoints.tool_response(response, sent, self.usage)  # the trace keeps the call
            raise
        await self.checkpoints.tool_round(response, sent, request.parts, self.usage)
        return request

    def _read_only(self, call: ToolCallPart) -> bool:
        found = self.tools.get(call.tool_name)
        return found is None or is_read_only(found.tool.tool_def)  # an unknown tool runs nothing

    async def call_tools(self, calls: list[ToolCallPart], *, record: bool = True) -> ModelRequest:
        """Run a response's tool calls (concurrently), persisting each result as it arrives."""
        failed: set[str] = set()
        if len(calls) == 1:
            parts = [await self._call_and_record(calls[0], failed, record)]
        else:
            parts = list(await asyncio.gather(*(self._call_and_record(c, failed, record) for c in calls)))
        self.failures = {name: self.failures.get(name, 0) + 1 for name in failed}
        return ModelRequest(parts=parts)

    async def _call_and_record(self, call: ToolCallPart, failed: set[str], record: bool) -> ModelRequestPart:
        done = self.persisted.get(call.tool_call_id)
        if done is not None:
            return done
        part = await self._call(call, failed)
        if record:
            await self.checkpoints.tool_result(part, self.usage)
        return part

    async def _call(self, call: ToolCallPart, failed: set[str]) -> ModelRequestPart:
        """The part answering ``call``, built as pydantic-ai's tool manager builds it."""
        name = call.tool_name
        found = self.tools.get(name)
        if found is None:
            available = ", ".join(repr(n) for n in sorted(self.tools))
            error = ModelRetry(
                f"Unknown tool name: {name!r}. "
                + (f"Available tools: {available}" if available else "No tools available.")
            )
            return self._retry(call, error, 1, failed, cause="unknown_tool")
        tool = found.tool
        retry = self.failures.get(name, 0)
        ctx = dataclasses.replace(self.ctx, tool_call_id=call.tool_call_id, tool_name=name, retry=retry)
        try:
            args = call.args
            if isinstance(args, str):
                valid = tool.args_validator.validate_json(args or "{}")
            else:
                valid = tool.args_validator.validate_python(args or {})
            self.usage.tool_calls += 1
            result = await found.toolset.call_tool(name, valid, ctx, tool)
        except (ValidationError, ModelRetry) as error:
            return self._retry(call, error, tool.max_retries, failed)
        except ToolFailed as error:  # final for this call: the model sees it, no retry budget spent
            return ToolReturnPart(
                name,
                error.message,
                tool_call_id=call.tool_call_id,
                tool_kind=call.tool_kind,
                outcome="failed",
            )
        return ToolReturnPart(name, result, tool_call_id=call.tool_call_id)

    def _retry(
        self,
        call: ToolCallPart,
        error: ValidationError | ModelRetry,
        max_retries: int,
        failed: set[str],
        cause: ToolRetryCause | None = None,
    ) -> ModelRequestPart:
        name = call.tool_name
        if self.failures.get(name, 0) >= max_retries:
            message = f"Tool {name!r} exceeded max retries count of {max_retries}"
            raise UnexpectedModelBehavior(message) from error
        failed.add(name)
        return build_retried_tool_return(
            error, tool_name=name, tool_call_id=call.tool_call_id, tool_kind=call.tool_kind, cause=cause
        )


async def run_attempt(
    spec: RunSpec,
    state: RunState,
    *,
    deps: RunDeps,
    usage: RunUsage,
    usage_limits: UsageLimits,
    checkpoints: Checkpointer,
) -> Outcome:
    ctx: RunContext[RunDeps] = RunContext(
        deps=deps, model=spec.model, usage=usage, usage_limits=usage_limits, retries={}
    )
    attempt = _Attempt(spec, state, ctx, usage_limits, checkpoints)
    if not spec.toolsets:
        await attempt.prepare()
        return await attempt.run()
    async with AsyncExitStack() as stack:  # toolsets hold sessions (MCP) for the attempt's length
        for toolset in spec.toolsets:
            await stack.enter_async_context(toolset)
        await attempt.prepare()
        return await attempt.run()
