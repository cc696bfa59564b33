"""runEvents: subscribe-then-replay-then-tail; every event once, in order, ending with done."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from backend.resources import Resources
from backend.runs.stream import run_events
from tests.runtime.client import RUN_EVENTS, collect_events, subscribe, ws_session
from tests.runtime.harness import World, wait_run
from tests.runtime.helpers import new_thread, send


def _persisted(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events if e.get("kind") not in ("delta", "reset")]


async def test_subscriber_racing_the_run_sees_everything_once(
    resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    for _ in range(10):
        run = await send(resources, world, thread, "race")
        events = [e async for e in run_events(resources, world.actor("member"), run.id, 0)]
        seqs = _persisted(events)
        assert seqs == list(range(1, len(seqs) + 1))
        assert events[-1]["type"] == "done"


async def test_slow_run_streams_deltas_and_resumes_after_reconnect(
    resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    run = await send(resources, world, thread, "/sleep 1 one two three four five")
    first: list[dict[str, Any]] = []
    async for event in run_events(resources, world.actor("member"), run.id, 0):
        first.append(event)
        if event.get("kind") == "delta":
            break  # disconnect mid-stream
    last_seq = max(_persisted(first))
    rest = [e async for e in run_events(resources, world.actor("member"), run.id, last_seq)]
    seqs = _persisted(first) + _persisted(rest)
    assert seqs == list(range(1, len(seqs) + 1)), "no gap, no duplicate across the reconnect"
    deltas = [e["data"]["delta"] for e in first + rest if e.get("kind") == "delta"]
    assert len(deltas) >= 3
    message = next(e for e in rest if e["type"] == "message" and e["kind"] is None)
    assert message["data"]["content"] == "echo: one two three four five (0 earlier messages)"


async def test_steps_are_redacted_without_trace_permission(
    resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    run = await send(resources, world, thread, "/remember secret tool args")
    await wait_run(resources, run.id)
    mine = [e async for e in run_events(resources, world.actor("member"), run.id, 0)]
    calls = [e for e in mine if e.get("kind") == "tool_call"]
    assert calls and calls[0]["data"] == {"step": 1}
    managed = [e async for e in run_events(resources, world.actor("owner"), run.id, 0)]
    call = next(e for e in managed if e.get("kind") == "tool_call")
    assert call["data"]["tool_name"] == "remember"


async def test_subscription_over_websocket_checks_access(
    live_server: str, resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    run = await send(resources, world, thread, "hello")
    events = await collect_events(live_server, world.tokens["member"], str(run.id))
    assert events[-1]["type"] == "done"
    with pytest.raises(RuntimeError) as denied:
        await collect_events(live_server, world.tokens["outsider"], str(run.id))
    assert "NOT_FOUND" in json.dumps(str(denied.value)) or "No such run" in str(denied.value)
    from websockets.exceptions import ConnectionClosed

    with pytest.raises((ConnectionClosed, AssertionError)):
        async with ws_session(live_server, "bad-token") as ws:
            async for _ in subscribe(ws, RUN_EVENTS, {"runId": str(run.id)}):
                pass


async def test_many_concurrent_subscribers_share_one_connection(
    resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    run = await send(resources, world, thread, "/sleep 0.5 fan out to everyone")

    async def one() -> list[int]:
        return _persisted([e async for e in run_events(resources, world.actor("member"), run.id, 0)])

    results = await asyncio.gather(*[one() for _ in range(50)])
    assert all(r == results[0] for r in results) and results[0] == list(range(1, len(results[0]) + 1))
    assert uuid.UUID(str(run.id))
