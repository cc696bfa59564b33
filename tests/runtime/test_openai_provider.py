"""The real OpenAI provider code over HTTP against the local fake chat-completions server.

Every test runs both clients: the default native one (backend.runtime.chat_completions) and
pydantic-ai's OpenAI SDK model (``AGENTRY_OPENAI_CLIENT=sdk``).
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.resources import Resources
from backend.runs import states
from backend.runs.stream import run_events
from tests.runtime.harness import World, events_of, use_fake_model, wait_run
from tests.runtime.helpers import chat, new_thread, send


def _fast(resources: Resources, *, timeout: float = 5.0) -> None:
    resources.settings.model_retry_backoff = 0.01
    resources.settings.model_request_timeout = timeout


@pytest.mark.parametrize("client", ["native", "sdk"])
async def test_tool_call_then_answer_streams(
    resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str], client: str
) -> None:
    fake, url = fake_openai
    _fast(resources)
    resources.settings.openai_client = client  # type: ignore[assignment]
    fake.requests.clear()
    fake.delay = 0.3  # time to subscribe before the first token
    await use_fake_model(resources, world, url)
    thread = await new_thread(resources, world)
    sent = await send(resources, world, thread, "what do you remember?")
    live = [e async for e in run_events(resources, world.actor("member"), sent.id)]
    run = await wait_run(resources, sent.id)
    assert run.status == states.SUCCEEDED, run.error
    assert run.output == "done: no matching memories"
    deltas = [e["data"]["delta"] for e in live if e.get("kind") == "delta"]
    assert len(deltas) >= 1 and "".join(deltas) == run.output, "the answer streamed live"
    assert (run.requests, run.tool_calls) == (2, 1)
    assert run.input_tokens > 0 and run.output_tokens > 0
    assert all(r.get("stream") for r in fake.requests)
    assert [m["role"] for m in fake.requests[1]["messages"]][-2:] == ["assistant", "tool"]
    kinds = [e.kind for e in await events_of(resources, run.id) if e.type == "step"]
    assert kinds == [
        "model_request",
        "model_response",
        "tool_call",
        "tool_result",
        "model_request",
        "model_response",
    ]


@pytest.mark.parametrize("client", ["native", "sdk"])
async def test_429_and_500_are_retried_with_backoff(
    resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str], client: str
) -> None:
    fake, url = fake_openai
    resources.settings.openai_client = client  # type: ignore[assignment]
    fake.requests.clear()
    _fast(resources)
    await use_fake_model(resources, world, url)
    fake.script(("status", 429), ("ok", None), ("status", 500))
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "hello")
    assert run.status == states.SUCCEEDED, run.error
    assert len(fake.requests) == 4  # 429, tool call, 500, answer
    assert run.requests == 2 and run.tool_calls == 1
    steps = [e for e in await events_of(resources, run.id) if e.kind == "tool_result"]
    assert len(steps) == 1  # the retry after the 500 did not repeat the tool


@pytest.mark.parametrize("client", ["native", "sdk"])
async def test_persistent_500_fails_with_the_last_error(
    resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str], client: str
) -> None:
    fake, url = fake_openai
    resources.settings.openai_client = client  # type: ignore[assignment]
    fake.requests.clear()
    _fast(resources)
    await use_fake_model(resources, world, url)
    fake.script(*[("status", 500)] * 10)
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "hello")
    assert run.status == states.FAILED and run.status_reason == states.REASON_PROVIDER_ERROR
    assert "500" in (run.error or "")
    assert len(fake.requests) == resources.settings.model_max_retries + 1


@pytest.mark.parametrize("client", ["native", "sdk"])
async def test_client_errors_are_not_retried(
    resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str], client: str
) -> None:
    fake, url = fake_openai
    resources.settings.openai_client = client  # type: ignore[assignment]
    fake.requests.clear()
    _fast(resources)
    await use_fake_model(resources, world, url)
    fake.script(("status", 400))
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "hello")
    assert run.status == states.FAILED and run.status_reason == states.REASON_PROVIDER_ERROR
    assert len(fake.requests) == 1


@pytest.mark.parametrize("client", ["native", "sdk"])
async def test_hanging_response_times_out_and_is_retried(
    resources: Resources, world: World, worker: Any, fake_openai: tuple[Any, str], client: str
) -> None:
    fake, url = fake_openai
    resources.settings.openai_client = client  # type: ignore[assignment]
    fake.requests.clear()
    _fast(resources, timeout=0.5)
    await use_fake_model(resources, world, url, memory={"enabled": False, "history_token_budget": 1000})
    fake.script(("hang", 30))
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "hello", timeout=15)
    assert run.status == states.SUCCEEDED, run.error
    assert run.output == "echo: hello"
    assert len(fake.requests) == 2


async def test_missing_integration_is_a_config_error(resources: Resources, world: World, worker: Any) -> None:
    from sqlalchemy import update

    from backend.db import transaction
    from backend.models import AgentVersion
    from tests.runtime.harness import agent_config

    async with transaction(resources.sessions) as s:
        await s.execute(
            update(AgentVersion)
            .where(AgentVersion.id == world.deployment.version_id)
            .values(config=agent_config(model="openai:gpt-4o-mini"))
        )
    thread = await new_thread(resources, world)
    run = await chat(resources, world, thread, "hello")
    assert run.status == states.FAILED and run.status_reason == states.REASON_CONFIG_ERROR
    assert "openai integration" in (run.error or "")
