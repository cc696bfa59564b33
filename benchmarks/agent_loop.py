"""Agent loop benchmark: CPU per run of pydantic-ai's ``Agent.iter`` graph against our loop.

The run shape of ``benchmarks/runs.py``'s OpenAI scenario (one tool call, then an answer) with a
model that answers at once and a tool that returns at once, so what is measured is the loop itself:
no network, no database (the checkpointer is a stand-in that records nothing).

Run: ``uv run python benchmarks/agent_loop.py [--runs 2000]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import FunctionToolset
from pydantic_ai.usage import RequestUsage, RunUsage, UsageLimits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.runtime.history import RunState
from backend.runtime.loop import RunSpec, run_attempt
from backend.runtime.readonly import READ_ONLY


class ToolThenAnswer(Model):
    """Calls ``recall`` first, answers once it has the result."""

    @property
    def model_name(self) -> str:
        return "bench"

    @property
    def system(self) -> str:
        return "openai"

    async def request(
        self, messages: list[ModelMessage], settings: ModelSettings | None, params: ModelRequestParameters
    ) -> ModelResponse:
        usage = RequestUsage(input_tokens=40, output_tokens=5)
        if any(isinstance(p, ToolReturnPart) for p in messages[-1].parts):
            return ModelResponse(parts=[TextPart("done")], usage=usage, model_name="bench")
        call = ToolCallPart("recall", '{"query": "tea"}', tool_call_id="call_1")
        return ModelResponse(parts=[call], usage=usage, model_name="bench")


async def recall(ctx: RunContext[Any], query: str) -> str:
    """Search memories."""
    return "no matching memories"


TOOLS: FunctionToolset[Any] = FunctionToolset(max_retries=1)
TOOLS.add_function(recall, metadata=READ_ONLY)
MODEL = ToolThenAnswer()
SETTINGS = ModelSettings(temperature=0.2)
AGENT: Agent[Any, str] = Agent(deps_type=object)


def history() -> list[ModelMessage]:
    return [ModelRequest(parts=[UserPromptPart("what do you remember?")])]


class NoCheckpoints:
    """Stands in for the checkpointer: the loop's own cost, without PostgreSQL."""

    def delta(self, text: str, kind: str = "delta") -> None:
        pass

    async def tool_response(self, *args: Any) -> None:
        pass

    async def tool_round(self, *args: Any) -> None:
        pass

    async def tool_result(self, *args: Any) -> None:
        pass

    def final_response(self, *args: Any) -> None:
        pass


async def graph_run() -> str:
    """What the runtime did before: ``Agent.iter``, walking the tool-calling node's events."""
    async with AGENT.iter(
        None,
        message_history=history(),
        model=MODEL,
        instructions="Be helpful.",
        toolsets=[TOOLS],
        model_settings=SETTINGS,
        deps=object(),
        usage=RunUsage(),
        usage_limits=UsageLimits(request_limit=10),
    ) as run:
        async for node in run:
            if Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    async for _ in stream:
                        pass
    assert run.result is not None
    return str(run.result.output)


async def loop_run() -> str:
    spec = RunSpec(MODEL, "Be helpful.", [TOOLS], SETTINGS, stream=False)
    outcome = await run_attempt(
        spec,
        RunState(history()),
        deps=object(),  # type: ignore[arg-type]
        usage=RunUsage(),
        usage_limits=UsageLimits(request_limit=10),
        checkpoints=NoCheckpoints(),  # type: ignore[arg-type]
    )
    return outcome.output


async def measure(name: str, run: Callable[[], Awaitable[str]], runs: int) -> None:
    for _ in range(200):  # warm-up
        assert await run() == "done"
    started = time.process_time()
    for _ in range(runs):
        await run()
    print(f"  {name:<28} {(time.process_time() - started) / runs * 1000:7.3f} ms CPU per run", flush=True)


async def amain(runs: int) -> None:
    print(f"[agent loop: two model requests and one tool call, {runs} runs, uvloop]")
    await measure("pydantic-ai Agent.iter", graph_run, runs)
    await measure("backend.runtime.loop", loop_run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    uvloop.run(amain(parser.parse_args().runs))


if __name__ == "__main__":
    main()
