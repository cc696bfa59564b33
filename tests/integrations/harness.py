"""Running bound tools the way the runtime does: build_toolset + a pydantic-ai agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from backend.integrations.toolset import IntegrationToolset, build_integration_toolset
from backend.models import Integration, Run, User
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, agent_with_tools, make_run, run_actor


async def toolset_for(
    resources: Resources, settings: Settings, run: Run, **kwargs: Any
) -> IntegrationToolset:
    async with resources.sessions() as session:
        return await build_integration_toolset(
            session, run, run_actor(run), settings=settings, sessions=resources.sessions, **kwargs
        )


async def bound_run(
    resources: Resources,
    world: World,
    integrations: list[Integration],
    *,
    user: User | None = None,
    tools: list[str] | None = None,
) -> Run:
    agent, _ = await agent_with_tools(
        resources.sessions,
        world.a,
        world.users["owner"],
        [{"integration_id": i.id, "tools": tools} for i in integrations],
    )
    return await make_run(resources.sessions, agent, user or world.users["member"])


@dataclass
class Outcome:
    returns: list[ToolReturnPart] = field(default_factory=list)
    output: str = ""

    @property
    def contents(self) -> list[Any]:
        return [r.content for r in self.returns]


async def run_tools(toolset: IntegrationToolset, calls: list[tuple[str, dict[str, Any]]]) -> Outcome:
    """A scripted model: calls ``calls`` in one step, then answers; returns what the tools returned."""
    outcome = Outcome()

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returned = [p for p in messages[-1].parts if isinstance(p, ToolReturnPart)]
        if not returned and not any(
            getattr(p, "part_kind", "") == "retry-prompt" for p in messages[-1].parts
        ):
            return ModelResponse(
                parts=[
                    ToolCallPart(name, args, tool_call_id=f"call-{i}") for i, (name, args) in enumerate(calls)
                ]
            )
        outcome.returns = returned
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(model), toolsets=[toolset])
    result = await agent.run("go")
    outcome.output = result.output
    return outcome
