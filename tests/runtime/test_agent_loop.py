"""The agent loop's answers to a model's mistakes, over the real OpenAI client and the fake server.

Each case scripts the model's replies and checks what the model is sent back, what the run's trace
records and how the run ends: an unknown tool, invalid arguments (retried up to the tool's budget),
an empty answer, and two tool calls in one response.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.models import Run
from backend.resources import Resources
from backend.runs import states
from tests.runtime.harness import World, events_of, use_fake_model
from tests.runtime.helpers import chat, new_thread


def _reply(content: str | None = None, *calls: tuple[str, dict[str, Any] | str]) -> tuple[str, Any]:
    tool_calls = [
        {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}
        for name, args in calls
    ]
    return ("reply", {"content": content, "tool_calls": tool_calls})


@pytest.fixture
async def fake(resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str]) -> Any:
    """The fake chat-completions server as the world's deployed model (quick retries), a worker on."""
    server, url = fake_openai
    resources.settings.model_retry_backoff = 0.01
    resources.settings.model_request_timeout = 5.0
    server.requests.clear()
    await use_fake_model(resources, world, url)
    return server


async def _ask(resources: Resources, world: World, fake: Any, *replies: tuple[str, Any]) -> Run:
    """A new chat whose model answers with ``replies`` in order; the run once it has ended."""
    fake.script(*replies)
    return await chat(resources, world, await new_thread(resources, world), "hi")


def _tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


async def test_unknown_tool_is_answered_with_the_available_tools(
    resources: Resources, world: World, fake: Any
) -> None:
    run = await _ask(resources, world, fake, _reply(None, ("delete_everything", {})), _reply("sorry"))
    assert run.status == states.SUCCEEDED, run.error
    assert run.output == "sorry"
    [answer] = _tool_messages(fake.requests[1])
    assert "Unknown tool name: 'delete_everything'" in answer["content"]
    assert "'recall'" in answer["content"] and "'remember'" in answer["content"]
    [result] = [e for e in await events_of(resources, run.id) if e.kind == "tool_result"]
    assert result.data["is_error"] and "Unknown tool name" in result.data["content"]
    assert run.tool_calls == 0  # nothing ran


async def test_invalid_arguments_are_retried_then_the_run_fails(
    resources: Resources, world: World, fake: Any
) -> None:
    # recall needs a string "query": the first mistake is sent back, the second exceeds max_retries=1.
    run = await _ask(
        resources, world, fake, _reply(None, ("recall", {"q": 1})), _reply(None, ("recall", "{not json"))
    )
    assert run.status == states.FAILED
    assert run.status_reason == states.REASON_MODEL_ERROR
    assert "Tool 'recall' exceeded max retries count of 1" in (run.error or "")
    assert len(fake.requests) == 2  # the second mistake is not sent back
    [retry] = _tool_messages(fake.requests[1])
    assert "query" in retry["content"] and "Field required" in retry["content"]
    results = [e for e in await events_of(resources, run.id) if e.kind == "tool_result"]
    assert len(results) == 1 and results[0].data["is_error"]


async def test_a_corrected_call_resets_the_retry_budget(
    resources: Resources, world: World, fake: Any
) -> None:
    run = await _ask(
        resources,
        world,
        fake,
        _reply(None, ("recall", {})),
        _reply(None, ("recall", {"query": "tea"})),
        _reply(None, ("recall", {})),
        _reply("ok"),
    )
    assert run.status == states.SUCCEEDED, run.error
    assert (run.requests, run.tool_calls) == (4, 1)


async def test_an_empty_answer_is_asked_for_again_once(resources: Resources, world: World, fake: Any) -> None:
    run = await _ask(resources, world, fake, _reply(""), _reply("here it is"))
    assert run.status == states.SUCCEEDED, run.error
    assert run.output == "here it is"
    assert "Please return text or call a tool." in json.dumps(fake.requests[1]["messages"][-1])
    again = await _ask(resources, world, fake, _reply(""), _reply(""))
    assert again.status == states.FAILED and again.status_reason == states.REASON_MODEL_ERROR


async def test_two_calls_in_one_response_both_run_and_are_answered_in_order(
    resources: Resources, world: World, fake: Any
) -> None:
    run = await _ask(
        resources,
        world,
        fake,
        _reply(None, ("remember", {"text": "likes green tea"}), ("recall", {"query": "coffee"})),
        _reply("noted"),
    )
    assert run.status == states.SUCCEEDED, run.error
    assert (run.requests, run.tool_calls) == (2, 2)
    answers = _tool_messages(fake.requests[1])
    calls = fake.requests[1]["messages"][-3]["tool_calls"]
    assert [a["tool_call_id"] for a in answers] == [c["id"] for c in calls]
    assert answers[0]["content"] == "remembered: likes green tea"
    assert answers[1]["content"] == "no matching memories"
    events = await events_of(resources, run.id)
    results = [e for e in events if e.kind == "tool_result"]
    assert sorted(r.data["tool_name"] for r in results) == ["recall", "remember"]
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_reads_are_persisted_with_their_results_other_calls_before_they_run(
    resources: Resources, world: World, fake: Any
) -> None:
    """One write stamps its events alike: a read-only round is one write after the calls ran; a
    call with side effects is persisted before it runs, its result in a later write."""

    async def stamps(*calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        run = await _ask(resources, world, fake, _reply(None, *calls), _reply("ok"))
        assert run.status == states.SUCCEEDED, run.error
        events = await events_of(resources, run.id)
        return {
            f"{e.kind}:{e.data.get('tool_name', '')}": e.created_at
            for e in events
            if e.kind in ("model_response", "tool_call", "tool_result") and e.data.get("step") == 1
        }

    read = await stamps(("recall", {"query": "tea"}))
    assert read["model_response:"] == read["tool_call:recall"] == read["tool_result:recall"]
    write = await stamps(("remember", {"text": "likes tea"}))
    assert write["model_response:"] == write["tool_call:remember"] < write["tool_result:remember"]
    mixed = await stamps(("recall", {"query": "tea"}), ("remember", {"text": "likes coffee"}))
    assert mixed["tool_call:recall"] < mixed["tool_result:recall"]  # one side effect: all go first
