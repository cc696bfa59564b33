"""One attempt of the agent loop on pydantic-ai (``Agent.iter``), checkpointing as it goes.

The attempt starts from :class:`~backend.runtime.history.RunState` (history + persisted steps) with
no new prompt: pydantic-ai re-sends a trailing request or executes a trailing response's tool
calls. Usage starts from the run's persisted counters, so ``UsageLimits`` span resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.messages import (
    FunctionToolResultEvent,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.usage import RunUsage, UsageLimits

from backend.agents.schemas import AgentConfig
from backend.runtime.checkpoint import Checkpointer, response_text
from backend.runtime.context import RunDeps
from backend.runtime.history import RunState


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


# One agent for every run of the process: its per-run parts (model, instructions, toolsets,
# settings) are passed to ``iter``; building an ``Agent`` per run cost more than the run itself.
AGENT: Agent[RunDeps, str] = Agent(deps_type=RunDeps)


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


async def run_attempt(
    spec: RunSpec,
    state: RunState,
    *,
    deps: RunDeps,
    usage: RunUsage,
    usage_limits: UsageLimits,
    checkpoints: Checkpointer,
) -> Outcome:
    final: ModelResponse | None = None
    async with AGENT.iter(
        None,
        message_history=state.messages,
        model=spec.model,
        instructions=spec.instructions,
        toolsets=spec.toolsets,
        model_settings=spec.settings,
        deps=deps,
        usage=usage,
        usage_limits=usage_limits,
    ) as run:
        async for node in run:
            if Agent.is_model_request_node(node) and spec.stream:
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                            checkpoints.delta(event.part.content)
                        elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                            checkpoints.delta(event.delta.content_delta)
            elif Agent.is_call_tools_node(node):
                response = node.model_response
                sent = len(run.ctx.state.message_history) - 1
                if response.tool_calls:
                    await checkpoints.tool_response(response, sent, run.usage)
                else:
                    checkpoints.final_response(response, sent)
                    final = response
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        if isinstance(event, FunctionToolResultEvent):
                            await checkpoints.tool_result(event.part, run.usage)
        result = run.result
        assert result is not None
        output = result.output if isinstance(result.output, str) else str(result.output)
        return Outcome(output if output or final is None else response_text(final), final, run.usage)
