"""Held events ride along with the run's next publication, or leave on their own soon after."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from backend.events import channel
from backend.runtime.publisher import RunPublisher


def _event(seq: int) -> dict[str, object]:
    return {"seq": seq, "sub": 0, "type": "status", "kind": None, "data": {}, "at": None}


@pytest.fixture
async def published(redis_url: str) -> AsyncIterator[tuple[RunPublisher, Any]]:
    """A run's publisher, and a pub/sub subscription to what it publishes."""
    redis = Redis.from_url(redis_url)
    run_id = uuid.uuid4()
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(run_id))
    try:
        yield RunPublisher(redis, run_id), pubsub
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def _messages(pubsub: Any, within: float) -> list[list[int]]:
    out = []
    while (message := await pubsub.get_message(timeout=within)) is not None:
        if message["type"] == "message":
            body = json.loads(message["data"])
            out.append([e["seq"] for e in (body if isinstance(body, list) else [body])])
    return out


async def test_held_events_leave_with_the_next_publication_in_order(
    published: tuple[RunPublisher, Any],
) -> None:
    publisher, pubsub = published
    publisher.hold([_event(1)], seconds=5)
    await publisher.publish([_event(2), _event(3)])
    assert await _messages(pubsub, 0.3) == [[1, 2, 3]], "one message, held event first"


async def test_held_events_leave_on_their_own_when_nothing_follows(
    published: tuple[RunPublisher, Any],
) -> None:
    publisher, pubsub = published
    publisher.hold([_event(1)], seconds=0.05)
    assert await _messages(pubsub, 0.5) == [[1]]
    await publisher.publish([_event(2)])  # later publications are not held
    await publisher.flush()
    assert await _messages(pubsub, 0.3) == [[2]]
