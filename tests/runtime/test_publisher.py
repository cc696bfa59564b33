"""A run's status event rides along with its next publication, or leaves on its own soon after."""

from __future__ import annotations

import json
import uuid

from redis.asyncio import Redis

from backend.events import channel
from backend.runtime.publisher import RunPublisher


def _event(seq: int) -> dict[str, object]:
    return {"seq": seq, "sub": 0, "type": "status", "kind": None, "data": {}, "at": None}


async def _messages(pubsub: object, within: float) -> list[list[int]]:
    out = []
    while (message := await pubsub.get_message(timeout=within)) is not None:  # type: ignore[attr-defined]
        if message["type"] == "message":
            body = json.loads(message["data"])
            out.append([e["seq"] for e in (body if isinstance(body, list) else [body])])
    return out


async def test_held_events_leave_with_the_next_publication_in_order(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    run_id = uuid.uuid4()
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(run_id))
    try:
        publisher = RunPublisher(redis, run_id)
        publisher.hold([_event(1)], seconds=5)
        await publisher.publish([_event(2), _event(3)])
        assert await _messages(pubsub, 0.3) == [[1, 2, 3]], "one message, held event first"
    finally:
        await pubsub.aclose()
        await redis.aclose()


async def test_held_events_leave_on_their_own_when_nothing_follows(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    run_id = uuid.uuid4()
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(run_id))
    try:
        publisher = RunPublisher(redis, run_id)
        publisher.hold([_event(1)], seconds=0.05)
        assert await _messages(pubsub, 0.5) == [[1]]
        await publisher.publish([_event(2)])  # later publications are not held
        await publisher.flush()
        assert await _messages(pubsub, 0.3) == [[2]]
    finally:
        await pubsub.aclose()
        await redis.aclose()
