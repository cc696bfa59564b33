"""The pydantic-ai toolset of a run's handoffs: ``handoff_<agent slug>`` per target deployment.

A call checks the rules (:mod:`backend.handoff.service`), then asks the runtime to create the
child run (``parent_run_id``, depth + 1, trigger ``handoff``) and run it while the parent WAITS
(``backend.runtime.children.handoff``). The child's answer is the tool result; its usage is added
to the parent's. Every refusal is a tool error the model reads, never a crash.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets.abstract import AbstractToolset, ToolsetTool
from pydantic_core import SchemaValidator, core_schema
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import DomainError
from backend.handoff.service import HandoffRefused, Target, check, child_usage, load_targets, outcome
from backend.logging import log
from backend.models import Run

TOOLSET_ID = "agentry-handoffs"
PARAMETERS = {
    "type": "object",
    "properties": {
        "task": {
            "type": "string",
            "description": "The task, with all the context the other "
            "agent needs (it does not see this conversation).",
        }
    },
    "required": ["task"],
    "additionalProperties": False,
}
_ARGS = SchemaValidator(
    core_schema.typed_dict_schema(
        {"task": core_schema.typed_dict_field(core_schema.str_schema(min_length=1, max_length=32_000))},
        extra_behavior="forbid",
    )
)


def tool_name(slug: str) -> str:
    return ("handoff_" + re.sub(r"[^A-Za-z0-9_-]", "_", slug))[:64]


class HandoffToolset(AbstractToolset[Any]):
    def __init__(self, run: Run, targets: list[Target]) -> None:
        self.run = run
        self.targets = {tool_name(t.slug): t for t in targets}

    @property
    def id(self) -> str:
        return TOOLSET_ID

    @property
    def tool_names(self) -> list[str]:
        return sorted(self.targets)

    async def get_tools(self, ctx: Any) -> dict[str, ToolsetTool[Any]]:
        return {
            name: ToolsetTool(
                toolset=self,
                tool_def=ToolDefinition(
                    name=name,
                    parameters_json_schema=PARAMETERS,
                    description=f"Hand a task to the agent {t.name!r} ({t.slug}) and get its answer. "
                    f"{t.description}".strip(),
                ),
                max_retries=1,
                args_validator=_ARGS,
            )
            for name, t in self.targets.items()
        }

    async def call_tool(self, name: str, tool_args: dict[str, Any], ctx: Any, tool: ToolsetTool[Any]) -> Any:
        from backend.runtime.children import handoff
        from backend.runtime.context import RunDeps

        target = self.targets.get(name)
        deps = getattr(ctx, "deps", None)
        if target is None or not isinstance(deps, RunDeps):
            raise ToolFailed(f"handoff {name!r} is not available here")
        try:
            async with deps.resources.sessions() as session:
                await check(session, deps.run, target)
            child = await handoff(
                deps,
                deployment_id=target.deployment_id,
                input=tool_args["task"],
                tool_call_id=ctx.tool_call_id or uuid.uuid4().hex,
            )
            ctx.usage.incr(child_usage(child))
            log.info("handoff.done", run_id=str(deps.run.id), child_run_id=str(child.id), status=child.status)
            return outcome(child, target)
        except HandoffRefused as exc:
            raise ToolFailed(str(exc)) from None
        except DomainError as exc:  # create_run: NotFound / Forbidden / Conflict (depth) / Invalid
            raise ToolFailed(f"handoff refused: {exc.message}") from None


async def build_handoff_toolset(session: AsyncSession, run: Run) -> HandoffToolset | None:
    raw = (run.config or {}).get("handoffs") or []
    ids: list[uuid.UUID] = []
    for value in raw:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not ids:
        return None
    targets = await load_targets(session, run, ids)
    if len(targets) < len(ids):
        log.warning("handoff.targets_unavailable", run_id=str(run.id), configured=len(ids), live=len(targets))
    return HandoffToolset(run, targets) if targets else None
