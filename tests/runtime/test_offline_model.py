"""The offline model through the real runtime: echo counting, tools, memory, errors, limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from backend.db import transaction
from backend.models import AgentVersion
from backend.resources import Resources
from backend.runs import states
from tests.runtime.harness import World, events_of
from tests.runtime.helpers import chat, new_thread


async def _set_config(resources: Resources, world: World, **changes: Any) -> None:
    async with transaction(resources.sessions) as s:
        version = await s.get(AgentVersion, world.deployment.version_id)
        assert version is not None
        config = {**version.config, **changes}
        await s.execute(update(AgentVersion).where(AgentVersion.id == version.id).values(config=config))


async def test_echo_counts_earlier_messages(resources: Resources, world: World, worker: Any) -> None:
    thread = await new_thread(resources, world)
    outputs = [(await chat(resources, world, thread, f"m{i}")).output for i in range(3)]
    assert outputs == [
        "echo: m0 (0 earlier messages)",
        "echo: m1 (2 earlier messages)",
        "echo: m2 (4 earlier messages)",
    ]


async def test_history_is_windowed_to_the_token_budget(
    resources: Resources, world: World, worker: Any
) -> None:
    await _set_config(resources, world, memory={"enabled": True, "history_token_budget": 30})
    thread = await new_thread(resources, world)
    for i in range(4):
        await chat(resources, world, thread, f"message number {i} " + "x" * 20)
    last = await chat(resources, world, thread, "count")
    assert last.output is not None and last.output.startswith("echo: count (")
    seen = int(last.output.split("(")[1].split()[0])
    assert 0 < seen < 8  # only the newest messages fit 30 tokens


async def test_remember_and_recall_are_per_user(resources: Resources, world: World, worker: Any) -> None:
    thread = await new_thread(resources, world)
    stored = await chat(resources, world, thread, "/remember my favourite colour is teal")
    assert stored.output == "remembered: my favourite colour is teal"
    assert stored.tool_calls == 1 and stored.requests == 2
    found = await chat(resources, world, thread, "/recall colour")
    assert found.output == "memories:\n- my favourite colour is teal"
    other = await new_thread(resources, world, who="member2")
    theirs = await chat(resources, world, other, "/recall colour", who="member2")
    assert theirs.output == "no matching memories"


async def test_tool_call_steps_are_persisted_in_order(
    resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "/remember the sky")
    kinds = [(e.type, e.kind) for e in await events_of(resources, run.id)]
    assert kinds == [
        ("status", None),
        ("status", None),
        ("step", "model_request"),
        ("step", "model_response"),
        ("step", "tool_call"),
        ("step", "tool_result"),
        ("step", "model_request"),
        ("step", "model_response"),
        ("message", None),
        ("status", None),
        ("done", None),
    ]


async def test_unknown_tool_and_disabled_memory_answer_clearly(
    resources: Resources, world: World, worker: Any
) -> None:
    await _set_config(resources, world, memory={"enabled": False, "history_token_budget": 8000})
    thread = await new_thread(resources, world)
    assert (
        await chat(resources, world, thread, "/tool nope {}")
    ).output == "error: no tool named 'nope' (available: none)"
    assert (
        await chat(resources, world, thread, "/remember x")
    ).output == "error: long-term memory is disabled for this agent"
    assert (
        await chat(resources, world, thread, "/handoff other hi")
    ).output == "error: this agent cannot hand off to 'other'"


async def test_model_failure_fails_the_run(resources: Resources, world: World, worker: Any) -> None:
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "/fail the model broke")
    assert run.status == states.FAILED and run.status_reason == states.REASON_MODEL_ERROR
    assert run.error == "Model error: the model broke"


async def test_step_limit_fails_with_reason(resources: Resources, world: World, worker: Any) -> None:
    await _set_config(resources, world, limits={"max_steps": 1, "max_tokens": 50_000, "max_run_seconds": 60})
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "/remember something")
    assert run.status == states.FAILED and run.status_reason == states.REASON_MAX_STEPS
    assert "request_limit" in (run.error or "")


async def test_token_limit_fails_with_reason(resources: Resources, world: World, worker: Any) -> None:
    await _set_config(resources, world, limits={"max_steps": 10, "max_tokens": 100, "max_run_seconds": 60})
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "word " * 200)
    assert run.status == states.FAILED and run.status_reason == states.REASON_MAX_TOKENS


async def test_wall_clock_limit_times_out(resources: Resources, world: World, worker: Any) -> None:
    await _set_config(resources, world, limits={"max_steps": 10, "max_tokens": 50_000, "max_run_seconds": 1})
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "/sleep 5 slow")
    assert run.status == states.TIMED_OUT and run.status_reason == states.REASON_MAX_RUN_SECONDS
    assert run.finished_at is not None and (run.finished_at - run.started_at).total_seconds() < 2.5
