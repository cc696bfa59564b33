"""The event hub: per-channel subscriptions, and prefix-served ones (the API's runEvents)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from redis.asyncio import Redis

from backend.events import channel, encode, hub_for
from backend.events.codec import RUN_CHANNEL_PREFIX
from backend.events.hub import RESYNC, follow_prefix


async def _next(sub: Any, within: float = 2.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        return await sub.queue.get()  # type: ignore[no-any-return]


async def test_prefix_channels_need_no_redis_command_per_subscription(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    probe = Redis.from_url(redis_url)
    try:
        follow_prefix(redis, RUN_CHANNEL_PREFIX)
        hub = hub_for(redis)
        name = channel(uuid.uuid4())
        sub = await hub.subscribe(name)
        assert sub.live, "confirmed by the pattern subscription"
        assert (await probe.pubsub_numsub(name)) == [(name.encode(), 0)], "no per-channel SUBSCRIBE"
        assert await probe.pubsub_numpat() >= 1
        await probe.publish(name, encode({"seq": 1, "type": "status"}))
        await probe.publish(channel(uuid.uuid4()), encode({"seq": 9, "type": "status"}))  # someone else's
        assert (await _next(sub))["seq"] == 1
        await asyncio.sleep(0.1)
        assert sub.queue.empty(), "events of other channels are not delivered"
        await sub.close()
        second = await hub.subscribe(channel(uuid.uuid4()))
        assert second.live, "later subscriptions are confirmed at once"
        await second.close()
    finally:
        await hub_for(redis).close()
        await redis.aclose()
        await probe.aclose()


async def test_prefix_subscribers_resync_after_the_connection_drops(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    probe = Redis.from_url(redis_url)
    try:
        follow_prefix(redis, RUN_CHANNEL_PREFIX)
        hub = hub_for(redis)
        name = channel(uuid.uuid4())
        sub = await hub.subscribe(name)
        for client in await probe.client_list():  # drop the hub's pub/sub connection
            if int(client.get("psub", 0)) > 0:
                await probe.client_kill_filter(_id=client["id"])
        assert await _next(sub, within=5.0) is RESYNC, "the consumer is told to replay"
        await probe.publish(name, encode({"seq": 2, "type": "status"}))
        assert (await _next(sub, within=5.0))["seq"] == 2, "live again after reconnecting"
        await sub.close()
    finally:
        await hub_for(redis).close()
        await redis.aclose()
        await probe.aclose()


async def test_a_batch_is_one_message_and_arrives_as_its_events_in_order(redis_url: str) -> None:
    """A checkpoint's events go out as ONE PUBLISH; each subscriber still gets them one by one."""
    from backend.events import publish

    redis = Redis.from_url(redis_url)
    probe = Redis.from_url(redis_url)
    try:
        run_id = uuid.uuid4()
        sub = await hub_for(redis).subscribe(channel(run_id))
        raw = probe.pubsub()
        await raw.subscribe(channel(run_id))
        assert (await raw.get_message(timeout=2.0))["type"] == "subscribe"
        batch = [{"seq": n, "sub": 0, "type": "step", "kind": "k", "data": {}, "at": None} for n in (3, 4, 5)]
        assert await publish(redis, run_id, batch)
        assert [(await _next(sub))["seq"] for _ in batch] == [3, 4, 5]
        message = await raw.get_message(timeout=2.0)
        assert message is not None and message["type"] == "message"
        assert await raw.get_message(timeout=0.2) is None, "one message for the whole batch"
        await raw.aclose()
        await sub.close()
    finally:
        await hub_for(redis).close()
        await redis.aclose()
        await probe.aclose()
