"""cancelRun: a queued run never starts; a running one stops within 2 seconds."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from backend.resources import Resources
from backend.runs import states
from tests.conftest import error_codes
from tests.runtime.harness import World, events_of, wait_run

START = "mutation($d: ID!) { startThread(input: {deploymentId: $d}) { id } }"
SEND = "mutation($t: ID!, $c: String!) { sendMessage(input: {threadId: $t, content: $c}) { id status } }"
CANCEL = "mutation($id: ID!) { cancelRun(id: $id) { id status statusReason finishedAt } }"


async def _send(gql: Any, world: World, text: str) -> str:
    thread = (await gql(START, {"d": str(world.deployment.id)}, token=world.tokens["member"]))["data"]
    body = await gql(SEND, {"t": thread["startThread"]["id"], "c": text}, token=world.tokens["member"])
    return str(body["data"]["sendMessage"]["id"])


async def test_queued_run_is_cancelled_and_never_starts(gql: Any, resources: Resources, world: World) -> None:
    run_id = await _send(gql, world, "hello")  # no worker yet
    body = await gql(CANCEL, {"id": run_id}, token=world.tokens["member"])
    assert body["data"]["cancelRun"]["status"] == "CANCELLED"
    from tests.runtime.harness import running_worker

    async with running_worker(resources):
        await asyncio.sleep(0.5)
    run = await wait_run(resources, uuid.UUID(run_id))
    assert run.status == states.CANCELLED and run.started_at is None
    assert [e.type for e in await events_of(resources, run.id)] == ["status", "status", "done"]


async def test_running_run_stops_within_two_seconds(
    gql: Any, resources: Resources, world: World, worker: Any
) -> None:
    run_id = await _send(gql, world, "/sleep 30 slow")
    await wait_run(resources, uuid.UUID(run_id), statuses=(states.RUNNING,))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    body = await gql(CANCEL, {"id": run_id}, token=world.tokens["member"])
    assert not body.get("errors"), body
    run = await wait_run(resources, uuid.UUID(run_id), timeout=5)
    assert run.status == states.CANCELLED and run.status_reason == states.REASON_CANCELLED
    assert time.monotonic() - started < 2.0


async def test_cancel_rules(gql: Any, resources: Resources, world: World, worker: Any) -> None:
    run_id = await _send(gql, world, "hi")
    await wait_run(resources, uuid.UUID(run_id))
    assert error_codes(await gql(CANCEL, {"id": run_id}, token=world.tokens["member"])) == ["CONFLICT"]
    assert error_codes(await gql(CANCEL, {"id": run_id}, token=world.tokens["member2"])) == ["NOT_FOUND"]
    assert error_codes(await gql(CANCEL, {"id": run_id}, token=world.tokens["outsider"])) == ["NOT_FOUND"]
    assert error_codes(await gql(CANCEL, {"id": str(uuid.uuid4())}, token=world.tokens["member"])) == [
        "NOT_FOUND"
    ]
    assert error_codes(await gql(CANCEL, {"id": "nope"}, token=world.tokens["member"])) == ["BAD_USER_INPUT"]
